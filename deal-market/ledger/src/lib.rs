//! The deal market's deterministic state machine.
//!
//! What: accounts with ed25519 keys, balances and nonces; signed
//! transactions; market escrow; storage providers; storage deals signed by
//! both sides; upload manifests; sectors from PreCommit through
//! ProveCommit (a verified PoRep) to WindowPoSt deadlines that pay the
//! deals of proven sectors; faults, recoveries, terminations, expiry; and a
//! per-epoch block reward from a pool fixed at genesis. Modelled on
//! Filecoin's market and miner actors, with arithmetic that fits on one
//! page (docs/ledger.md).
//!
//! Why a crate of its own: every validator must compute the same state
//! from the same transactions, so this core is pure. No tokio, no disk, no
//! clock and no randomness of its own: the epoch and the randomness beacon
//! come in as arguments ([`State::tick`]), proofs are checked by a
//! [`ProofVerifier`] the caller hands in, and every map is a `BTreeMap`.
//! The consensus shell (`cairn-deal-market`) orders transactions into
//! blocks and runs [`State::execute_block`] for each, which calls
//! [`State::apply_tx`] for each transaction and [`State::tick`] at each
//! epoch boundary, and commits [`State::root`].
//!
//! Module tour:
//!
//! - [`codec`]: the canonical, bounded binary encoding;
//! - [`ids`]: addresses, keys, signatures, typed ids and commitments;
//! - [`tx`]: transactions, deal proposals, manifests;
//! - [`genesis`]: parameters, funded accounts, pinned verifying keys;
//! - [`block`]: executing a block (transactions in order, then the epoch
//!   tick at an epoch boundary), the step consensus replicates;
//! - [`state`]: the state, its queries, its root and its supply;
//! - [`snapshot`]: the state as bytes and back (what a validator persists);
//! - [`event`]: events, receipts and refusal reasons;
//! - [`verifier`]: the proof-checking seam and the Groth16 verifier;
//! - `apply`, `market`, `miner`, `cron`: the rules (methods of [`State`]).
#![deny(missing_docs)]
#![cfg_attr(not(test), deny(clippy::unwrap_used))]
#![warn(clippy::expect_used)]
#![cfg_attr(not(test), deny(clippy::indexing_slicing))]

mod apply;
pub mod block;
pub mod codec;
mod cron;
pub mod event;
pub mod genesis;
pub mod ids;
mod market;
mod miner;
pub mod snapshot;
pub mod state;
pub mod tx;
pub mod verifier;

pub use block::{BlockError, BlockOutcome};
pub use cron::TickError;
pub use event::{Event, Receipt, Refusal, Side};
pub use genesis::{Genesis, GenesisError, Params, PinnedKeys};
pub use ids::{
    Address, Amount, CommP, CommR, DealId, Epoch, ManifestId, ProviderId, PublicKey, SectorNumber,
    Signature,
};
pub use market::proposal_hash;
pub use snapshot::SnapshotError;
pub use state::State;
pub use tx::{DealProposal, Manifest, Registration, SignedDeal, SignedTx, Tx, TxBody};
pub use verifier::{Groth16Verifier, ProofVerifier, VerifyError};

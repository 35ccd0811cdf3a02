//! The deal market's validator shell: the ledger of `cairn-ledger`
//! replicated by commonware's simplex BFT consensus, persisted in RocksDB,
//! served over HTTP.
//!
//! Why a shell around a pure core: the ledger's rules are a deterministic
//! function (`cairn_ledger::State::execute_block`); everything that
//! touches a clock, a socket or a disk lives here, so that every validator
//! computes the same state root from the same ordered blocks.
//!
//! Module tour:
//!
//! - [`block`]: the block consensus orders, its bounded codec and digest;
//! - [`chain`]: finalized and pending states, the one block-execution rule
//!   (with the randomness beacon), mempool, receipt waiters;
//! - [`app`]: commonware's `Application` (propose, verify), the seed tap
//!   and the finalizer marshal reports to;
//! - [`store`]: RocksDB: finalized blocks, receipts, transaction index,
//!   the state after the tip, in one synced batch per block;
//! - [`config`]: the genesis file, validator homes, `testnet` generation;
//! - [`mempool`]: waiting transactions and the pending state admission checks them on;
//! - [`gossip`]: submitted transactions sent to every validator;
//! - [`node`]: one validator wired (p2p, marshal, simplex, API), the
//!   consensus part generic over the runtime (tokio, or the deterministic
//!   simulation of `tests/sim.rs`);
//! - [`api`]: the HTTP JSON API and SSE event stream;
//! - [`json`]: receipts and events as JSON;
//! - [`metrics`]: Prometheus metrics and the timed proof verifier.
//!
//! The binary `cairn-validator` has two commands: `testnet --validators N
//! --dir DIR` and `run --home DIR/<i>`.
#![deny(missing_docs)]
#![cfg_attr(not(test), deny(clippy::unwrap_used))]
#![warn(clippy::expect_used)]
#![cfg_attr(not(test), deny(clippy::indexing_slicing))]

pub mod api;
pub mod app;
pub mod block;
pub mod chain;
pub mod config;
pub mod gossip;
pub mod json;
pub mod mempool;
pub mod metrics;
pub mod node;
pub mod store;

/// Block and certificate digests.
pub type Digest = commonware_cryptography::sha256::Digest;
/// Validator identities (p2p and vote-ordering keys).
pub type PublicKey = commonware_cryptography::ed25519::PublicKey;
/// The BLS12-381 variant: small signatures (seeds are G1 points).
pub type Variant = commonware_cryptography::bls12381::primitives::variant::MinSig;
/// Simplex's signing scheme: threshold BLS with a VRF seed per view.
pub type Scheme =
    commonware_consensus::simplex::scheme::bls12381_threshold::vrf::Scheme<PublicKey, Variant>;
/// The per-view threshold seed.
pub type Seed = commonware_consensus::simplex::scheme::bls12381_threshold::vrf::Seed<Variant>;
/// Simplex's proposal context, embedded in each block.
pub type Context = commonware_consensus::simplex::types::Context<Digest, PublicKey>;

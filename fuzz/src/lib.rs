//! Cairn's fuzz targets: one function per parser of outside bytes.
//!
//! Each target is a plain `fn(&[u8])` holding the whole target and its
//! oracle, so the same code runs under libFuzzer (`fuzz_targets/`, feature
//! `libfuzzer`) and in `cargo test` (`tests/replay.rs` replays the committed
//! corpora on stable, without libFuzzer). A target panics only on a real
//! bug: a crash in the code under test or a broken oracle, never because
//! the input was rejected.
//!
//! Targets (each module's header states its oracle):
//! - [`car_reader`]: CAR v1/v2 streaming reader of `cairn-dag`;
//! - [`dag_pb`]: dag-pb node decoding and the UnixFS `Data` message;
//! - [`cid_parse`]: CIDs from binary and from text;
//! - [`s3_request`]: whole HTTP requests through the gateway's S3 service;
//! - [`proofs_phase_outputs`]: `cairn-proofs`' journalled PreCommit 1/2 and
//!   Commit 1 outputs;
//! - [`porep_proof`]: a vanilla PoRep partition proof, decoded and verified;
//! - [`post_proof`]: a vanilla WindowPoSt partition proof, likewise;
//! - [`piece_cid`]: v1 and v2 piece CIDs, from text and from binary CIDs;
//! - [`groth16_proof`]: Groth16 proof bytes (curve and subgroup checks);
//! - [`groth16_keys`]: verifying keys and parameter files;
//! - [`ledger_tx`]: signed ledger transactions;
//! - [`validator_block`]: the deal-market chain's blocks;
//! - [`p2p_messages`]: the storage network's libp2p protocol frames.
//!
//! The proof targets' known-honest proofs live in [`proofs_fixture`].

#![cfg_attr(not(test), deny(clippy::unwrap_used))]
#![deny(missing_docs)]

mod block;
mod car;
mod cid_text;
mod groth16;
mod groth16_keys;
mod ledger;
mod p2p;
mod pb;
mod phase_outputs;
mod piece_cid;
mod porep;
mod post;
pub mod proofs_fixture;
mod s3;

pub use block::validator_block;
pub use car::car_reader;
pub use cid_text::cid_parse;
pub use groth16::groth16_proof;
pub use groth16_keys::groth16_keys;
pub use ledger::ledger_tx;
pub use p2p::p2p_messages;
pub use pb::dag_pb;
pub use phase_outputs::proofs_phase_outputs;
pub use piece_cid::piece_cid;
pub use porep::porep_proof;
pub use post::post_proof;
pub use s3::s3_request;
/// The `s3_request` fixture's object bytes and part 1 (for the seed generator).
pub use s3::{PART_ONE, fixture_object};

/// A fuzz target: runs one input, panics only on a bug.
pub type Target = fn(&[u8]);

/// Every target, by name, for the replay test and tools.
pub const TARGETS: [(&str, Target); 13] = [
    ("car_reader", car_reader),
    ("dag_pb", dag_pb),
    ("cid_parse", cid_parse),
    ("s3_request", s3_request),
    ("proofs_phase_outputs", proofs_phase_outputs),
    ("porep_proof", porep_proof),
    ("post_proof", post_proof),
    ("piece_cid", piece_cid),
    ("groth16_proof", groth16_proof),
    ("groth16_keys", groth16_keys),
    ("ledger_tx", ledger_tx),
    ("validator_block", validator_block),
    ("p2p_messages", p2p_messages),
];

//! Filecoin's proof machinery, byte-identical to rust-fil-proofs 19.x.
//!
//! - [`fr32`]: padding (127 unpadded bytes to 128 padded bytes);
//! - [`commp`]: the piece commitment with its v1 and v2 (FRC-0069) piece
//!   CIDs, made and parsed;
//! - [`pieces`]: piece alignment in a sector, staging, and CommD;
//! - [`sector`]: the registered seal and window PoSt proofs and what each
//!   sector size means (nodes, layers, partitions, challenges, tree shapes);
//! - [`sdr`]: the sealing graph, its parent cache, the replica id, the label
//!   layers and the replica encoding;
//! - [`poseidon`]: Filecoin's Poseidon hash over BLS12-381 `Fr` (neptune 11's
//!   constants, on arkworks), with [`field`] for `Fr` and its 32-byte encoding;
//! - [`seal`]: the PreCommit 1 and 2 phases (with an observer of their
//!   steps), their journalled outputs, and CommR's and CommD's CIDs;
//! - [`tree`]: on-disk Merkle trees (SHA-256 and Poseidon) with openings;
//! - [`porep`]: Commit 1, the vanilla PoRep proof and its verifier;
//! - [`post`]: the vanilla WindowPoSt prover and verifier;
//! - [`challenges`]: PoRep and WindowPoSt challenge derivation;
//! - [`codec`]: the byte format of phase outputs and proofs.
//!
//! The `cairn-proofs` binary (`src/bin/cairn-proofs/`, see the README)
//! drives these end to end: `seal` journals each phase and resumes after a
//! crash; `seal-bench` times each step.
//!
//! Everything streams or is bounded: memory does not grow with the input,
//! except SDR's two label layers, as in rust-fil-proofs. This crate depends
//! on nothing else of Cairn's.
#![deny(missing_docs)]
#![cfg_attr(not(test), deny(clippy::unwrap_used))]
#![warn(clippy::expect_used)]
#![cfg_attr(not(test), deny(clippy::indexing_slicing))]

pub mod challenges;
pub mod codec;
pub mod commp;
pub mod field;
pub mod fr32;
pub mod pieces;
pub mod porep;
pub mod poseidon;
pub mod post;
pub mod sdr;
pub mod seal;
pub mod sector;
pub mod snark;
pub mod tree;

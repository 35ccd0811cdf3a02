//! Filecoin's proof machinery, byte-identical to rust-fil-proofs 19.x.
//!
//! So far: [`fr32`] padding (127 unpadded bytes to 128 padded bytes);
//! [`commp`], the piece commitment with its v1 and v2 (FRC-0069) piece CIDs;
//! [`sector`], the registered seal and window PoSt proofs and what each
//! sector size means (nodes, layers, partitions, challenges, tree shapes);
//! and [`sdr`], the sealing graph, its parent cache, the replica id, the
//! label layers and the replica encoding of PreCommit 1. Everything streams
//! or is bounded: memory does not grow with the input, except SDR's two
//! label layers, as in rust-fil-proofs.
//!
//! This crate depends on nothing else of Cairn's.
#![deny(missing_docs)]
#![cfg_attr(not(test), deny(clippy::unwrap_used))]
#![warn(clippy::expect_used)]
#![cfg_attr(not(test), deny(clippy::indexing_slicing))]

pub mod commp;
pub mod fr32;
pub mod sdr;
pub mod sector;

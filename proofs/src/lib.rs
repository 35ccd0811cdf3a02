//! Filecoin's proof machinery, byte-identical to rust-fil-proofs 19.x.
//!
//! So far: [`fr32`] padding (127 unpadded bytes to 128 padded bytes) and
//! [`commp`], the piece commitment with its v1 and v2 (FRC-0069) piece CIDs.
//! Everything streams: memory does not grow with the input.
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

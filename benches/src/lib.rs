//! Shared pieces of Cairn's benches: deterministic test bytes and a small
//! S3 client.
//!
//! The benches themselves live in `benches/`: `dag` (criterion: UnixFS
//! build and CAR read against plain SHA-256) and `s3` (a throughput harness
//! that runs Cairn's gateway and s3s-fs side by side with the same client).
//! Figures and the commands that produce them are in `docs/BENCHMARKS.md`.
//!
//! Module tour:
//! - [`data`]: incompressible, deterministic bytes, whole or generated one
//!   chunk at a time, with no two 4 KiB-aligned windows alike (so neither a
//!   deduplicating store nor a compressing one gets an easy ride);
//! - [`s3`]: a keep-alive HTTP/1.1 S3 client (SigV4 with
//!   `UNSIGNED-PAYLOAD`) that streams bodies out and counts bytes in.

#![cfg_attr(not(test), deny(clippy::unwrap_used))]
#![deny(missing_docs)]

pub mod data;
pub mod s3;

//! The storage provider's sector pipeline, without I/O.
//!
//! `cairn-node` is the shell: it owns the files, RocksDB, the ledger
//! client and the clock, and feeds this crate's state machines events;
//! they answer with decisions. Keeping the decisions pure makes them
//! testable exhaustively and replayable from a journal.
//!
//! - [`pack`]: which published deals' pieces go into which sector, and when
//!   a sector stops taking pieces and is sealed.
//! - [`sector`]: one sector's life from staging to proving, as events in
//!   and actions out.

#![cfg_attr(not(test), deny(clippy::unwrap_used))]
#![deny(missing_docs)]

pub mod pack;
pub mod sector;

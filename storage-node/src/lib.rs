//! `cairn-node`: the storage provider daemon.
//!
//! What exists: the libp2p host ([`host`]) serving `/cairn/deal/1` through
//! the deal intake ([`intake`]) and `/cairn/retrieve/1` from the piece
//! store ([`store`]), a ledger follower that registers the provider (or
//! updates its registration) and tracks its deals, the sealing shell
//! ([`sealing`]: published deals' pieces into sectors, sealed and
//! prove-committed on the ledger), the WindowPoSt scheduler
//! ([`proving`]), and Prometheus metrics.

#![cfg_attr(not(test), deny(clippy::unwrap_used))]

pub mod config;
pub mod host;
pub mod intake;
pub mod metrics;
pub mod proving;
pub mod retrieve;
pub mod sealing;
pub mod store;

//! Cairn's libp2p protocols: what a client (the gateway, `cairn get`) and a
//! storage node say to each other, and how it is framed.
//!
//! Two request-response protocols, each versioned by its name:
//!
//! - [`DEAL_PROTOCOL`] (`/cairn/deal/1`): a client asks for a provider's
//!   terms, proposes a deal it signed, pushes the piece's bytes in chunks
//!   (resumable: the provider says how many bytes it holds), and asks the
//!   provider to countersign once it has checked the bytes against the
//!   proposal's CommP ([`deal`]).
//! - [`RETRIEVE_PROTOCOL`] (`/cairn/retrieve/1`): a byte range of a piece's
//!   payload, in unpadded bytes ([`retrieve`]).
//!
//! Messages use the ledger's canonical codec (fixed-width little-endian
//! integers, length-prefixed byte strings with per-field maxima checked
//! before anything is allocated, unknown tags refused, no trailing bytes)
//! inside one frame: a `u32` little-endian length, at most
//! [`MAX_MESSAGE`], then the message ([`frame`]). A decoder never reads or
//! allocates more than one frame's bound, so a hostile peer costs at most
//! [`MAX_MESSAGE`] bytes per open stream. Every decoder is a fuzz target.

#![deny(missing_docs)]
#![cfg_attr(not(test), deny(clippy::unwrap_used))]
#![cfg_attr(not(test), deny(clippy::indexing_slicing))]

pub mod deal;
pub mod frame;
pub mod keys;
#[cfg(feature = "http")]
pub mod ledger;
#[cfg(feature = "libp2p")]
pub mod p2p;
pub mod ports;
pub mod retrieve;

pub use deal::{Ask, ClientDeal, DealRefusal, DealRequest, DealResponse, ProposalId};
pub use frame::FrameError;
pub use retrieve::{RetrieveRefusal, RetrieveRequest, RetrieveResponse};

/// The deal protocol's name.
pub const DEAL_PROTOCOL: &str = "/cairn/deal/1";
/// The retrieval protocol's name.
pub const RETRIEVE_PROTOCOL: &str = "/cairn/retrieve/1";
/// Most piece bytes in one message (a push or a retrieval answer).
pub const MAX_CHUNK: usize = 1 << 20;
/// Largest frame: a chunk plus room for the message around it.
pub const MAX_MESSAGE: usize = MAX_CHUNK + 4096;
/// Longest free-text reason in a refusal.
pub const MAX_REASON: usize = 512;

/// `reason` cut to [`MAX_REASON`] bytes on a character boundary, so that a
/// long error still encodes into something the peer decodes.
pub(crate) fn clip(reason: &str) -> &str {
    let mut end = reason.len().min(MAX_REASON);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    reason.get(..end).unwrap_or_default()
}

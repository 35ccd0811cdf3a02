//! An upload's CAR stream as Reed-Solomon shards cut into pieces, and back.
//!
//! This is steps 2 and 3 of the flow of an object (docs/ARCHITECTURE.md):
//! the gateway feeds an object's CAR stream to an [`Encoder`], which emits
//! each shard's bytes in order, stripe by stripe, ready to be written to
//! one piece file per (shard, segment) and committed to with
//! [`PieceHashers`]; a reader fetches the stripes it needs from any `k`
//! shards and turns them back into CAR bytes with a [`StripeDecoder`].
//! Where each byte lives is [`Layout`]'s arithmetic, a function of the
//! ledger's upload manifest alone.
//!
//! Pure and synchronous: no I/O beyond the sink closure the caller hands
//! in, memory bounded by one stripe row (`k + m` times [`STRIPE`] bytes)
//! whatever the object or sector size.

#![cfg_attr(not(test), deny(clippy::unwrap_used))]

mod decode;
mod encode;
mod layout;

pub use decode::{DecodeError, StripeDecoder};
pub use encode::{Chunk, EncodeError, Encoder, PieceHashers};
pub use layout::{Layout, LayoutError, Location, STRIPE, piece_capacity};

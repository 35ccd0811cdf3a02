//! Target `p2p_messages`: a frame of Cairn's libp2p protocols from outside
//! bytes, as a storage node reads `/cairn/deal/1` and `/cairn/retrieve/1`
//! requests and a client reads their answers (`cairn_types::frame`).
//!
//! The first byte picks the decoder (deal request, deal response, retrieve
//! request, retrieve response); the rest is the frame: a `u32` length,
//! then the message.
//!
//! Oracle:
//! - no panic and bounded allocation, whatever the bytes (the length prefix
//!   is checked against the frame limit before anything is allocated, and
//!   every field's length against its own maximum);
//! - the codec is canonical: a decoded message re-frames to exactly its
//!   input, so a signed proposal inside has one encoding.

use cairn_ledger::codec::{Decode, Encode};
use cairn_types::frame;
use cairn_types::{DealRequest, DealResponse, RetrieveRequest, RetrieveResponse};

fn canonical<T: Decode + Encode>(bytes: &[u8], what: &str) {
    let Ok(msg) = frame::decode::<T>(bytes) else {
        return;
    };
    let again = frame::encode(&msg);
    assert!(
        again.as_deref().ok() == Some(bytes),
        "{what} decoded from non-canonical bytes:\n {}",
        hex::encode(bytes)
    );
}

/// The `p2p_messages` target.
pub fn p2p_messages(data: &[u8]) {
    let Some((&kind, rest)) = data.split_first() else {
        return;
    };
    match kind % 4 {
        0 => canonical::<DealRequest>(rest, "deal request"),
        1 => canonical::<DealResponse>(rest, "deal response"),
        2 => canonical::<RetrieveRequest>(rest, "retrieve request"),
        _ => canonical::<RetrieveResponse>(rest, "retrieve response"),
    }
}

//! `/cairn/retrieve/1`: byte ranges of a piece's payload.
//!
//! Offsets are in unpadded bytes of the piece's payload (what the client
//! pushed, before fr32 padding), so a reader computes them from the upload
//! layout alone. A provider serves ranges of any piece it holds unsealed;
//! the reader checks what it gets (after erasure decoding, every block
//! against its CID), so a provider is never trusted for content.

use cairn_ledger::CommP;
use cairn_ledger::codec::{Decode, DecodeError, Encode, Reader, Writer};

use crate::{MAX_CHUNK, MAX_REASON};

/// A byte range of one piece.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetrieveRequest {
    /// The piece.
    pub piece: CommP,
    /// First payload byte.
    pub offset: u64,
    /// Bytes wanted (at most [`MAX_CHUNK`]).
    pub len: u32,
}

impl Encode for RetrieveRequest {
    fn encode(&self, w: &mut Writer) {
        w.put(&self.piece);
        w.u64(self.offset);
        w.u32(self.len);
    }
}

impl Decode for RetrieveRequest {
    const MIN_LEN: usize = 32 + 8 + 4;
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            piece: CommP::decode(r)?,
            offset: r.u64("offset")?,
            len: r.u32("len")?,
        })
    }
}

/// Why a range was not served.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RetrieveRefusal {
    /// The provider holds no such piece.
    #[error("piece {0} is not held here")]
    UnknownPiece(CommP),
    /// The range runs past the payload.
    #[error("range {offset}+{len} runs past the payload's {payload} bytes")]
    OutOfRange {
        /// First byte asked.
        offset: u64,
        /// Bytes asked.
        len: u32,
        /// Payload length.
        payload: u64,
    },
    /// More than [`MAX_CHUNK`] bytes asked.
    #[error("{len} bytes asked; at most {max} per request")]
    TooLong {
        /// Bytes asked.
        len: u32,
        /// The limit.
        max: u32,
    },
    /// Out of serving slots; retry later or elsewhere.
    #[error("the provider is busy; retry later")]
    Busy,
    /// Something broke on the provider's side (a piece file unreadable).
    #[error("provider error: {0}")]
    Internal(String),
    /// The request's bytes were not a request.
    #[error("malformed request: {0}")]
    Malformed(String),
}

/// A provider's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RetrieveResponse {
    /// Exactly the bytes asked.
    Data(Vec<u8>),
    /// No.
    Refused(RetrieveRefusal),
}

impl Encode for RetrieveResponse {
    fn encode(&self, w: &mut Writer) {
        match self {
            Self::Data(d) => {
                w.u8(0);
                w.bytes(d);
            }
            Self::Refused(RetrieveRefusal::UnknownPiece(p)) => {
                w.u8(1);
                w.put(p);
            }
            Self::Refused(RetrieveRefusal::OutOfRange {
                offset,
                len,
                payload,
            }) => {
                w.u8(2);
                w.u64(*offset);
                w.u32(*len);
                w.u64(*payload);
            }
            Self::Refused(RetrieveRefusal::TooLong { len, max }) => {
                w.u8(3);
                w.u32(*len);
                w.u32(*max);
            }
            Self::Refused(RetrieveRefusal::Busy) => w.u8(4),
            Self::Refused(RetrieveRefusal::Internal(reason)) => {
                w.u8(5);
                w.str(crate::clip(reason));
            }
            Self::Refused(RetrieveRefusal::Malformed(reason)) => {
                w.u8(6);
                w.str(crate::clip(reason));
            }
        }
    }
}

impl Decode for RetrieveResponse {
    const MIN_LEN: usize = 1;
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(match r.u8("retrieve response")? {
            0 => Self::Data(r.bytes(MAX_CHUNK, "data")?),
            1 => Self::Refused(RetrieveRefusal::UnknownPiece(CommP::decode(r)?)),
            2 => Self::Refused(RetrieveRefusal::OutOfRange {
                offset: r.u64("offset")?,
                len: r.u32("len")?,
                payload: r.u64("payload")?,
            }),
            3 => Self::Refused(RetrieveRefusal::TooLong {
                len: r.u32("len")?,
                max: r.u32("max")?,
            }),
            4 => Self::Refused(RetrieveRefusal::Busy),
            5 => Self::Refused(RetrieveRefusal::Internal(r.string(MAX_REASON, "reason")?)),
            6 => Self::Refused(RetrieveRefusal::Malformed(r.string(MAX_REASON, "reason")?)),
            tag => {
                return Err(DecodeError::BadTag {
                    what: "retrieve response",
                    tag,
                });
            }
        })
    }
}

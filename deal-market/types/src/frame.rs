//! Framing: a `u32` little-endian length, then one message.

use cairn_ledger::codec::{Decode, DecodeError, Encode};

use crate::MAX_MESSAGE;

/// Why a frame was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    /// The length prefix is over [`MAX_MESSAGE`].
    #[error("message of {len} bytes exceeds the {max} byte limit")]
    TooLarge {
        /// The length claimed.
        len: u64,
        /// The limit.
        max: usize,
    },
    /// The message did not decode.
    #[error("malformed message: {0}")]
    Malformed(#[from] DecodeError),
}

/// The body length a 4-byte prefix announces, refused over the limit
/// before anything is read or allocated.
pub fn body_len(prefix: [u8; 4]) -> Result<usize, FrameError> {
    let len = u32::from_le_bytes(prefix);
    match usize::try_from(len) {
        Ok(n) if n <= MAX_MESSAGE => Ok(n),
        _ => Err(FrameError::TooLarge {
            len: u64::from(len),
            max: MAX_MESSAGE,
        }),
    }
}

/// A message framed for the wire (an oversized one is refused, since the
/// peer would refuse it).
pub fn encode<T: Encode>(msg: &T) -> Result<Vec<u8>, FrameError> {
    let body = msg.to_bytes();
    let len = u32::try_from(body.len())
        .ok()
        .filter(|&n| n as usize <= MAX_MESSAGE)
        .ok_or(FrameError::TooLarge {
            len: body.len() as u64,
            max: MAX_MESSAGE,
        })?;
    let mut out = Vec::with_capacity(4 + body.len());
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&body);
    Ok(out)
}

/// Decodes one whole frame (prefix and body, nothing after).
pub fn decode<T: Decode>(bytes: &[u8]) -> Result<T, FrameError> {
    let (prefix, body) = bytes
        .split_at_checked(4)
        .ok_or_else(|| DecodeError::Truncated {
            what: "frame length",
            needed: 4usize.saturating_sub(bytes.len()),
        })?;
    let mut p = [0u8; 4];
    p.copy_from_slice(prefix);
    let n = body_len(p)?;
    if body.len() != n {
        return Err(FrameError::Malformed(if body.len() < n {
            DecodeError::Truncated {
                what: "frame body",
                needed: n - body.len(),
            }
        } else {
            DecodeError::Trailing {
                left: body.len() - n,
            }
        }));
    }
    Ok(T::from_bytes(body)?)
}

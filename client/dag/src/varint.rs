//! Unsigned LEB128 varints, as used by protobuf, multiformats and CAR.
//!
//! Decoding is strict: at most 10 bytes, no value above `u64::MAX`, and no
//! over-long (non-minimal) encodings, since two spellings of one number would
//! give two hashes for one block.

/// Why a varint could not be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VarintError {
    /// The input ended inside the varint.
    #[error("input ends inside a varint")]
    Truncated,
    /// More than 10 bytes, or a value above `u64::MAX`.
    #[error("varint overflows 64 bits")]
    Overflow,
    /// A trailing zero byte made the encoding longer than needed.
    #[error("varint is not minimally encoded")]
    NotMinimal,
}

/// Appends `value` to `out`.
pub fn encode(mut value: u64, out: &mut Vec<u8>) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// How many bytes [`encode`] writes for `value`.
pub fn encoded_len(value: u64) -> usize {
    let bits = 64 - (value | 1).leading_zeros() as usize;
    bits.div_ceil(7)
}

/// Decodes one varint from the front of `input`: the value and the bytes used.
pub fn decode(input: &[u8]) -> Result<(u64, usize), VarintError> {
    let mut value: u64 = 0;
    for (i, &byte) in input.iter().enumerate() {
        if i == 9 && byte > 1 {
            return Err(VarintError::Overflow);
        }
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            if byte == 0 && i > 0 {
                return Err(VarintError::NotMinimal);
            }
            return Ok((value, i + 1));
        }
        if i == 9 {
            return Err(VarintError::Overflow);
        }
    }
    Err(VarintError::Truncated)
}

/// Reads one varint from a byte stream. `Ok(None)` means the stream ended
/// cleanly before the first byte.
pub fn read<R: std::io::Read>(reader: &mut R) -> std::io::Result<Option<Result<u64, VarintError>>> {
    let mut buf = [0u8; 10];
    for i in 0..10 {
        let mut byte = [0u8; 1];
        loop {
            match reader.read(&mut byte) {
                Ok(0) if i == 0 => return Ok(None),
                Ok(0) => return Ok(Some(Err(VarintError::Truncated))),
                Ok(_) => break,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
        if let Some(slot) = buf.get_mut(i) {
            *slot = byte[0];
        }
        if byte[0] & 0x80 == 0 {
            return Ok(Some(
                decode(buf.get(..=i).unwrap_or_default()).map(|(v, _)| v),
            ));
        }
    }
    Ok(Some(Err(VarintError::Overflow)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boundaries_round_trip() {
        // Each row crosses one byte-length boundary.
        for (value, len) in [
            (0u64, 1usize),
            (127, 1),
            (128, 2),
            (16_383, 2),
            (16_384, 3),
            (u64::from(u32::MAX), 5),
            (u64::MAX, 10),
        ] {
            let mut out = Vec::new();
            encode(value, &mut out);
            assert_eq!(out.len(), len, "length of {value}");
            assert_eq!(encoded_len(value), len);
            assert_eq!(decode(&out), Ok((value, len)));
        }
    }

    #[test]
    fn rejects_bad_encodings() {
        assert_eq!(decode(&[]), Err(VarintError::Truncated));
        assert_eq!(decode(&[0x80]), Err(VarintError::Truncated));
        assert_eq!(decode(&[0x80, 0x00]), Err(VarintError::NotMinimal));
        assert_eq!(decode(&[0xff; 10]), Err(VarintError::Overflow));
        assert_eq!(
            decode(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02]),
            Err(VarintError::Overflow)
        );
    }
}

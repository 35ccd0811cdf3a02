//! The ledger's canonical binary encoding, written by hand.
//!
//! Goals: one encoding per value (so a signature covers exactly one
//! meaning and the state root is a function of the state, not of how it
//! was built), and decoding that is total and bounded: any byte string
//! either decodes or is refused with a [`DecodeError`], in time and memory
//! linear in its length, without panicking. The transaction decoder is a
//! fuzz target.
//!
//! The format:
//!
//! - integers are fixed-width little-endian (`u8`, `u16`, `u32`, `u64`,
//!   `u128`), so there is no varint minimality to check;
//! - `bool` and `Option` tags are one byte, 0 or 1, anything else refused;
//! - enums are a one-byte tag; unknown tags are refused;
//! - byte strings, strings and lists are a `u32` length, then the items;
//!   every length has a per-field maximum, checked before anything is
//!   allocated, and never more than the bytes left;
//! - strings must be UTF-8;
//! - a top-level decode refuses trailing bytes.
//!
//! Non-goals: self-description and schema evolution. A format change is a
//! new chain (the chain id is in every signed transaction).

/// Why bytes did not decode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The input ended inside a value.
    #[error("input ended early: {needed} more bytes needed for {what}")]
    Truncated {
        /// The value being read.
        what: &'static str,
        /// Bytes missing.
        needed: usize,
    },
    /// A length over its field's maximum.
    #[error("{what}: length {len} exceeds the maximum {max}")]
    TooLong {
        /// The field.
        what: &'static str,
        /// The length given.
        len: u64,
        /// The field's maximum.
        max: usize,
    },
    /// A tag that names no variant.
    #[error("{what}: unknown tag {tag}")]
    BadTag {
        /// The field.
        what: &'static str,
        /// The tag given.
        tag: u8,
    },
    /// A string that is not UTF-8.
    #[error("{what}: not UTF-8")]
    NotUtf8 {
        /// The field.
        what: &'static str,
    },
    /// Bytes left over after the value.
    #[error("{left} trailing bytes after the value")]
    Trailing {
        /// How many.
        left: usize,
    },
    /// A value that is well-formed but not allowed (e.g. an unknown proof id).
    #[error("{what}: invalid value")]
    Invalid {
        /// The field.
        what: &'static str,
    },
}

/// Appends canonical encodings to a buffer.
#[derive(Debug, Default, Clone)]
pub struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    /// An empty writer.
    pub fn new() -> Self {
        Self::default()
    }

    /// The bytes written.
    pub fn finish(self) -> Vec<u8> {
        self.buf
    }

    /// One byte.
    pub fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }

    /// Two bytes, little-endian.
    pub fn u16(&mut self, v: u16) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }

    /// Four bytes, little-endian.
    pub fn u32(&mut self, v: u32) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }

    /// Eight bytes, little-endian.
    pub fn u64(&mut self, v: u64) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }

    /// Sixteen bytes, little-endian.
    pub fn u128(&mut self, v: u128) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }

    /// 0 or 1.
    pub fn bool(&mut self, v: bool) {
        self.u8(u8::from(v));
    }

    /// Fixed-size bytes, no length.
    pub fn array(&mut self, v: &[u8]) {
        self.buf.extend_from_slice(v);
    }

    /// A length prefix. Every length the ledger writes was bounded by its
    /// decoder's maximum (all far below `u32::MAX`), or built by code that
    /// checks the same bound.
    pub fn len(&mut self, n: usize) {
        self.u32(u32::try_from(n).unwrap_or(u32::MAX));
    }

    /// A length-prefixed byte string.
    pub fn bytes(&mut self, v: &[u8]) {
        self.len(v.len());
        self.array(v);
    }

    /// A length-prefixed UTF-8 string.
    pub fn str(&mut self, v: &str) {
        self.bytes(v.as_bytes());
    }

    /// Anything [`Encode`].
    pub fn put<T: Encode + ?Sized>(&mut self, v: &T) {
        v.encode(self);
    }

    /// A length-prefixed list.
    pub fn list<T: Encode>(&mut self, items: &[T]) {
        self.len(items.len());
        for i in items {
            i.encode(self);
        }
    }

    /// An optional value: tag 0, or tag 1 and the value.
    pub fn option<T: Encode>(&mut self, v: Option<&T>) {
        match v {
            None => self.u8(0),
            Some(x) => {
                self.u8(1);
                x.encode(self);
            }
        }
    }
}

/// Reads canonical encodings from a slice; every read is checked.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    /// A reader over `bytes`.
    pub fn new(bytes: &'a [u8]) -> Self {
        Self { rest: bytes }
    }

    /// Bytes not yet read.
    pub fn remaining(&self) -> usize {
        self.rest.len()
    }

    /// Refuses leftover bytes.
    pub fn finish(self) -> Result<(), DecodeError> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(DecodeError::Trailing {
                left: self.rest.len(),
            })
        }
    }

    /// The next `n` bytes.
    pub fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], DecodeError> {
        if n > self.rest.len() {
            return Err(DecodeError::Truncated {
                what,
                needed: n - self.rest.len(),
            });
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }

    /// `N` bytes as an array.
    pub fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], DecodeError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N, what)?);
        Ok(out)
    }

    /// One byte.
    pub fn u8(&mut self, what: &'static str) -> Result<u8, DecodeError> {
        Ok(u8::from_le_bytes(self.array(what)?))
    }

    /// A little-endian `u16`.
    pub fn u16(&mut self, what: &'static str) -> Result<u16, DecodeError> {
        Ok(u16::from_le_bytes(self.array(what)?))
    }

    /// A little-endian `u32`.
    pub fn u32(&mut self, what: &'static str) -> Result<u32, DecodeError> {
        Ok(u32::from_le_bytes(self.array(what)?))
    }

    /// A little-endian `u64`.
    pub fn u64(&mut self, what: &'static str) -> Result<u64, DecodeError> {
        Ok(u64::from_le_bytes(self.array(what)?))
    }

    /// A little-endian `u128`.
    pub fn u128(&mut self, what: &'static str) -> Result<u128, DecodeError> {
        Ok(u128::from_le_bytes(self.array(what)?))
    }

    /// 0 or 1.
    pub fn bool(&mut self, what: &'static str) -> Result<bool, DecodeError> {
        match self.u8(what)? {
            0 => Ok(false),
            1 => Ok(true),
            tag => Err(DecodeError::BadTag { what, tag }),
        }
    }

    /// A length prefix no larger than `max` nor than the bytes left times
    /// `min_item` (so a list cannot announce more items than could follow).
    pub fn len(
        &mut self,
        max: usize,
        min_item: usize,
        what: &'static str,
    ) -> Result<usize, DecodeError> {
        let n = self.u32(what)?;
        let len = usize::try_from(n).map_err(|_| DecodeError::TooLong {
            what,
            len: u64::from(n),
            max,
        })?;
        if len > max {
            return Err(DecodeError::TooLong {
                what,
                len: u64::from(n),
                max,
            });
        }
        let needed = len.saturating_mul(min_item.max(1));
        if min_item > 0 && needed > self.rest.len() {
            return Err(DecodeError::Truncated {
                what,
                needed: needed - self.rest.len(),
            });
        }
        Ok(len)
    }

    /// A length-prefixed byte string of at most `max` bytes.
    pub fn bytes(&mut self, max: usize, what: &'static str) -> Result<Vec<u8>, DecodeError> {
        let n = self.len(max, 1, what)?;
        Ok(self.take(n, what)?.to_vec())
    }

    /// A length-prefixed UTF-8 string of at most `max` bytes.
    pub fn string(&mut self, max: usize, what: &'static str) -> Result<String, DecodeError> {
        String::from_utf8(self.bytes(max, what)?).map_err(|_| DecodeError::NotUtf8 { what })
    }

    /// A length-prefixed list of at most `max` items.
    pub fn list<T: Decode>(
        &mut self,
        max: usize,
        what: &'static str,
    ) -> Result<Vec<T>, DecodeError> {
        let n = self.len(max, T::MIN_LEN, what)?;
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            out.push(T::decode(self)?);
        }
        Ok(out)
    }

    /// An optional value.
    pub fn option<T: Decode>(&mut self, what: &'static str) -> Result<Option<T>, DecodeError> {
        if self.bool(what)? {
            Ok(Some(T::decode(self)?))
        } else {
            Ok(None)
        }
    }
}

/// A value with a canonical encoding.
pub trait Encode {
    /// Appends the encoding.
    fn encode(&self, w: &mut Writer);

    /// The encoding as bytes.
    fn to_bytes(&self) -> Vec<u8> {
        let mut w = Writer::new();
        self.encode(&mut w);
        w.finish()
    }
}

/// A value that decodes from its canonical encoding.
pub trait Decode: Sized {
    /// The fewest bytes any value of this type encodes to (bounds list
    /// lengths before allocation).
    const MIN_LEN: usize;

    /// Reads one value.
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError>;

    /// Decodes exactly `bytes`, refusing trailing bytes.
    fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        let v = Self::decode(&mut r)?;
        r.finish()?;
        Ok(v)
    }
}

impl Encode for u64 {
    fn encode(&self, w: &mut Writer) {
        w.u64(*self);
    }
}

impl Decode for u64 {
    const MIN_LEN: usize = 8;
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.u64("u64")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_are_bounded_before_allocation() {
        // A list that claims 2^32-1 u64s in 4 bytes is refused at once.
        let bytes = [0xff, 0xff, 0xff, 0xff];
        assert!(matches!(
            Reader::new(&bytes).list::<u64>(usize::MAX, "x"),
            Err(DecodeError::Truncated { .. })
        ));
        let mut w = Writer::new();
        w.bytes(&[1, 2, 3]);
        let b = w.finish();
        assert!(matches!(
            Reader::new(&b).bytes(2, "x"),
            Err(DecodeError::TooLong { len: 3, max: 2, .. })
        ));
        assert_eq!(Reader::new(&b).bytes(3, "x").unwrap(), vec![1, 2, 3]);
        assert!(matches!(
            Reader::new(&[2]).bool("b"),
            Err(DecodeError::BadTag { tag: 2, .. })
        ));
        assert_eq!(
            u64::from_bytes(&[0; 9]),
            Err(DecodeError::Trailing { left: 1 })
        );
    }
}

//! Deterministic, incompressible test bytes.
//!
//! Benchmarks of a content-addressed store must not feed it repeating
//! bytes: identical chunks hash to one block and are stored once, which
//! would flatter Cairn against a plain file store. Every generator here
//! stamps the absolute offset into each 4 KiB window, so no two windows of
//! 4 KiB or more (aligned to 4 KiB) are equal, within an object or across
//! the objects of one seed.

use bytes::Bytes;

/// Distance between offset stamps.
pub const STAMP_EVERY: usize = 4096;

/// `len` bytes of splitmix64 output from `seed`.
pub fn pseudo_random(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        out.extend_from_slice(&z.to_le_bytes());
    }
    out.truncate(len);
    out
}

/// Writes `offset + i` (little-endian, XORed in) at every [`STAMP_EVERY`]
/// boundary of `buf`, where `buf` starts at absolute offset `offset`.
fn stamp(buf: &mut [u8], offset: u64) {
    let mut at = 0;
    while at < buf.len() {
        let tag = (offset + at as u64).to_le_bytes();
        for (b, t) in buf.iter_mut().skip(at).zip(tag) {
            *b ^= t;
        }
        at += STAMP_EVERY;
    }
}

/// A whole buffer of `len` distinct-window bytes.
pub fn distinct_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut buf = pseudo_random(len, seed);
    stamp(&mut buf, 0);
    buf
}

/// An object of `total` bytes produced `chunk` bytes at a time: each chunk
/// is a copy of one random base chunk with its absolute offsets stamped in,
/// so generating costs a copy per chunk and memory is two chunks.
#[derive(Debug, Clone)]
pub struct ChunkedObject {
    base: Bytes,
    total: u64,
}

impl ChunkedObject {
    /// An object of `total` bytes in chunks of `chunk` bytes (at least 1).
    pub fn new(total: u64, chunk: usize, seed: u64) -> ChunkedObject {
        ChunkedObject {
            base: Bytes::from(pseudo_random(chunk.max(1), seed)),
            total,
        }
    }

    /// Object size in bytes.
    pub fn len(&self) -> u64 {
        self.total
    }

    /// Whether the object is empty.
    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// The chunk at `index`, or `None` past the end.
    pub fn chunk(&self, index: u64) -> Option<Bytes> {
        let chunk = self.base.len() as u64;
        let start = index.checked_mul(chunk)?;
        if start >= self.total {
            return None;
        }
        let len = chunk.min(self.total - start) as usize;
        let mut buf = self.base.get(..len)?.to_vec();
        stamp(&mut buf, start);
        Some(Bytes::from(buf))
    }

    /// Every chunk in order.
    pub fn chunks(&self) -> impl Iterator<Item = Bytes> + Send + 'static {
        let this = self.clone();
        (0u64..).map_while(move |i| this.chunk(i))
    }
}

/// Small object number `index`: `len` bytes, distinct from every other
/// index's (the stamp is `index * len`, as if they were one long file).
pub fn small_object(base: &[u8], index: u64) -> Bytes {
    let mut buf = base.to_vec();
    stamp(&mut buf, index * base.len() as u64);
    Bytes::from(buf)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn chunks_concatenate_to_the_declared_length_and_windows_differ() {
        let obj = ChunkedObject::new(5 * 8192 + 100, 8192, 1);
        let whole: Vec<u8> = obj.chunks().flat_map(|c| c.to_vec()).collect();
        assert_eq!(whole.len() as u64, obj.len());
        let windows: HashSet<&[u8]> = whole.chunks(STAMP_EVERY).collect();
        assert_eq!(windows.len(), whole.len().div_ceil(STAMP_EVERY));
    }

    #[test]
    fn small_objects_differ_and_keep_their_length() {
        let base = pseudo_random(4096, 2);
        let a = small_object(&base, 0);
        let b = small_object(&base, 1);
        assert_eq!((a.len(), b.len()), (4096, 4096));
        assert_ne!(a, b);
    }

    #[test]
    fn distinct_bytes_has_no_repeated_window() {
        let buf = distinct_bytes(64 * STAMP_EVERY, 3);
        let windows: HashSet<&[u8]> = buf.chunks(STAMP_EVERY).collect();
        assert_eq!(windows.len(), 64);
    }
}

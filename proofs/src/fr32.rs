//! Fr32 padding: Filecoin's way of fitting arbitrary bytes into BLS12-381
//! field elements.
//!
//! Every 127 unpadded bytes (1016 bits) become 128 padded bytes: four 32-byte
//! words of 254 data bits each, with the top two bits of every word zero.
//! Bits are taken least-significant first within each byte and bytes in
//! order, exactly as rust-fil-proofs' `fr32` module (and lotus' `fr32.Pad`)
//! lay them out, so a padded word read as a little-endian integer is always
//! below 2^254 and hence a valid field element.

use std::io::{self, Write};

/// Unpadded bytes in one fr32 chunk.
pub const UNPADDED_CHUNK: usize = 127;
/// Padded bytes in one fr32 chunk.
pub const PADDED_CHUNK: usize = 128;

/// Why padded bytes cannot be unpadded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Fr32Error {
    /// Padded data must be whole 128-byte chunks.
    #[error("padded length {len} is not a multiple of 128")]
    NotWholeChunks {
        /// The length that was given.
        len: usize,
    },
    /// A padded word had one of its top two bits set: it is not fr32 output.
    #[error("padded word {word} has its top two bits set")]
    TopBitsSet {
        /// Index of the offending 32-byte word.
        word: usize,
    },
}

/// Eight bits of `buf` starting at bit `bit` (LSB-first), zero past the end.
fn read8(buf: &[u8], bit: usize) -> u8 {
    let lo = bit / 8;
    let sh = bit % 8;
    let a = buf.get(lo).copied().unwrap_or(0);
    if sh == 0 {
        a
    } else {
        let b = buf.get(lo + 1).copied().unwrap_or(0);
        (a >> sh) | (b << (8 - sh))
    }
}

/// Pads one 127-byte chunk into 128 bytes.
///
/// Word `k` of the output is input bits `254k..254k+254`, which start at
/// byte `(254k) / 8` and bit `(254k) % 8` (0, 6, 4, 2): each word is a
/// 256-bit window of the input shifted right on 64-bit limbs, with its top
/// two bits cleared. About 20x faster than going bit by bit, which matters
/// because CommP pads every byte it hashes.
#[inline]
// Fixed-size arrays at constant offsets (largest window: 95 + 40 = 135 < 136).
#[allow(clippy::indexing_slicing)]
pub fn pad_chunk(input: &[u8; UNPADDED_CHUNK]) -> [u8; PADDED_CHUNK] {
    // Zero-extended copy, so every 40-byte window below is in bounds.
    let mut src = [0u8; 136];
    src[..UNPADDED_CHUNK].copy_from_slice(input);
    let limb = |at: usize| -> u64 {
        let mut b = [0u8; 8];
        b.copy_from_slice(&src[at..at + 8]);
        u64::from_le_bytes(b)
    };
    let mut out = [0u8; PADDED_CHUNK];
    for (k, (base, shift)) in [(0usize, 0u32), (31, 6), (63, 4), (95, 2)]
        .into_iter()
        .enumerate()
    {
        let l = [
            limb(base),
            limb(base + 8),
            limb(base + 16),
            limb(base + 24),
            limb(base + 32),
        ];
        for i in 0..4 {
            let mut w = if shift == 0 {
                l[i]
            } else {
                (l[i] >> shift) | (l[i + 1] << (64 - shift))
            };
            if i == 3 {
                w &= 0x3fff_ffff_ffff_ffff;
            }
            let at = 32 * k + 8 * i;
            out[at..at + 8].copy_from_slice(&w.to_le_bytes());
        }
    }
    out
}

/// Unpads one 128-byte chunk into 127 bytes. The top two bits of each word
/// are dropped unchecked; [`unpad`] checks them.
pub fn unpad_chunk(input: &[u8; PADDED_CHUNK]) -> [u8; UNPADDED_CHUNK] {
    let mut out = [0u8; UNPADDED_CHUNK];
    for (i, o) in out.iter_mut().enumerate() {
        let u = 8 * i;
        let (word, r) = (u / 254, u % 254);
        let here = read8(input, 256 * word + r);
        *o = if r + 8 <= 254 {
            here
        } else {
            // The byte straddles two words: `254 - r` bits from this one,
            // the rest from the start of the next.
            let low_bits = 254 - r;
            let low = here & ((1u16 << low_bits) - 1) as u8;
            let next = read8(input, 256 * (word + 1));
            low | (next << low_bits)
        };
    }
    out
}

/// Pads `data`, zero-filling a final partial chunk to 127 bytes.
pub fn pad(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len().div_ceil(UNPADDED_CHUNK) * PADDED_CHUNK);
    for chunk in data.chunks(UNPADDED_CHUNK) {
        let mut buf = [0u8; UNPADDED_CHUNK];
        buf.iter_mut().zip(chunk).for_each(|(b, c)| *b = *c);
        out.extend_from_slice(&pad_chunk(&buf));
    }
    out
}

/// Unpads whole 128-byte chunks, checking that every word is fr32 output.
pub fn unpad(padded: &[u8]) -> Result<Vec<u8>, Fr32Error> {
    if !padded.len().is_multiple_of(PADDED_CHUNK) {
        return Err(Fr32Error::NotWholeChunks { len: padded.len() });
    }
    for (word, w) in padded.chunks_exact(32).enumerate() {
        if w.last().is_some_and(|b| b & 0xc0 != 0) {
            return Err(Fr32Error::TopBitsSet { word });
        }
    }
    let mut out = Vec::with_capacity(padded.len() / PADDED_CHUNK * UNPADDED_CHUNK);
    for chunk in padded.chunks_exact(PADDED_CHUNK) {
        let mut buf = [0u8; PADDED_CHUNK];
        buf.copy_from_slice(chunk);
        out.extend_from_slice(&unpad_chunk(&buf));
    }
    Ok(out)
}

/// A streaming fr32 padder: bytes written to it come out padded on the inner
/// writer, 128 bytes per 127 in. Memory is one chunk.
///
/// Call [`Fr32Writer::finish`] to zero-fill and write a final partial chunk.
#[derive(Debug)]
pub struct Fr32Writer<W: Write> {
    inner: W,
    buf: [u8; UNPADDED_CHUNK],
    filled: usize,
}

impl<W: Write> Fr32Writer<W> {
    /// Wraps `inner`.
    pub fn new(inner: W) -> Self {
        Self {
            inner,
            buf: [0; UNPADDED_CHUNK],
            filled: 0,
        }
    }

    /// Zero-fills and writes any partial chunk, flushes, and returns the
    /// inner writer.
    pub fn finish(mut self) -> io::Result<W> {
        if self.filled > 0 {
            self.buf.iter_mut().skip(self.filled).for_each(|b| *b = 0);
            self.inner.write_all(&pad_chunk(&self.buf))?;
            self.filled = 0;
        }
        self.inner.flush()?;
        Ok(self.inner)
    }
}

impl<W: Write> Write for Fr32Writer<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let room = UNPADDED_CHUNK - self.filled;
        let n = room.min(data.len());
        self.buf
            .iter_mut()
            .skip(self.filled)
            .zip(data.iter().take(n))
            .for_each(|(b, d)| *b = *d);
        self.filled += n;
        if self.filled == UNPADDED_CHUNK {
            self.inner.write_all(&pad_chunk(&self.buf))?;
            self.filled = 0;
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The definition, bit by bit: output word k is input bits 254k.. .
    fn pad_chunk_bitwise(input: &[u8; UNPADDED_CHUNK]) -> [u8; PADDED_CHUNK] {
        let mut out = [0u8; PADDED_CHUNK];
        for (i, o) in out.iter_mut().enumerate() {
            let (word, byte) = (i / 32, i % 32);
            let v = read8(input, 254 * word + 8 * byte);
            *o = if byte == 31 { v & 0x3f } else { v };
        }
        out
    }

    proptest! {
        #[test]
        fn fast_pad_is_the_bitwise_definition(bytes in proptest::collection::vec(any::<u8>(), 127)) {
            let chunk: [u8; UNPADDED_CHUNK] = bytes.try_into().unwrap();
            prop_assert_eq!(pad_chunk(&chunk), pad_chunk_bitwise(&chunk));
        }
    }

    #[test]
    fn fast_pad_edges() {
        for fill in [0u8, 0xff, 0xaa, 0x55, 0x80, 0x01] {
            let chunk = [fill; UNPADDED_CHUNK];
            assert_eq!(
                pad_chunk(&chunk),
                pad_chunk_bitwise(&chunk),
                "fill {fill:#x}"
            );
        }
    }

    #[test]
    fn all_ones_chunk_has_two_zero_bits_per_word() {
        let padded = pad_chunk(&[0xff; UNPADDED_CHUNK]);
        for w in padded.chunks_exact(32) {
            assert!(w[..31].iter().all(|b| *b == 0xff));
            assert_eq!(w[31], 0x3f);
        }
        assert_eq!(unpad(&padded).unwrap(), vec![0xff; UNPADDED_CHUNK]);
    }

    #[test]
    fn bit_254_moves_to_second_word() {
        // Unpadded bit 254 is bit 6 of byte 31; it must land on padded bit
        // 256, bit 0 of byte 32.
        let mut x = [0u8; UNPADDED_CHUNK];
        x[31] = 0x40;
        let p = pad_chunk(&x);
        assert_eq!(p[31], 0);
        assert_eq!(p[32], 1);
        assert!(p.iter().enumerate().all(|(i, b)| i == 32 || *b == 0));
    }

    #[test]
    fn unpad_rejects_bad_input() {
        assert_eq!(
            unpad(&[0; 127]),
            Err(Fr32Error::NotWholeChunks { len: 127 })
        );
        let mut p = [0u8; 128];
        p[63] = 0x80;
        assert_eq!(unpad(&p), Err(Fr32Error::TopBitsSet { word: 1 }));
    }

    proptest! {
        #[test]
        fn round_trip_and_top_bits(data in proptest::collection::vec(any::<u8>(), 0..1000)) {
            let padded = pad(&data);
            prop_assert_eq!(padded.len(), data.len().div_ceil(127) * 128);
            for w in padded.chunks_exact(32) {
                prop_assert_eq!(w[31] & 0xc0, 0);
            }
            let back = unpad(&padded).unwrap();
            prop_assert_eq!(&back[..data.len()], &data[..]);
            prop_assert!(back[data.len()..].iter().all(|b| *b == 0));
        }

        #[test]
        fn writer_matches_pad(data in proptest::collection::vec(any::<u8>(), 0..1000), step in 1usize..300) {
            let mut w = Fr32Writer::new(Vec::new());
            for c in data.chunks(step) {
                w.write_all(c).unwrap();
            }
            prop_assert_eq!(w.finish().unwrap(), pad(&data));
        }
    }
}

//! Where every byte of an upload's CAR stream lives among its shards.
//!
//! The CAR stream is cut into segments of `segment_size` bytes (the last
//! one shorter). Segment `j` becomes one piece on each of the `k + m`
//! shards: shard `i`'s piece `j`. A segment of `S` bytes has shards of
//! `L = ceil(S / k)` bytes; the segment is zero-extended to `k × L` (less
//! than `k` bytes of padding, all at its end).
//!
//! Inside a segment the data shards are striped, not cut in `k` blocks:
//! stripe `t` takes `W = min(STRIPE, L - t × STRIPE)` bytes from each
//! shard, and the segment's bytes `[t·k·STRIPE, t·k·STRIPE + k·W)` are
//! shard 0's `W` bytes, then shard 1's, and so on. Parity shard bytes of a
//! stripe are the Reed-Solomon parity of that stripe's data bytes. So:
//!
//! - the code is systematic: a reader with every data shard only copies;
//! - encoding streams: the encoder holds one stripe row (`k × STRIPE`
//!   bytes), never a whole segment, whatever the sector size;
//! - a byte range of the CAR needs only the stripes it touches, from `k`
//!   shards, at offsets that are plain arithmetic (see [`Layout::locate`]).
//!
//! The layout is a function of `(car_len, segment_size, k, m)` and the
//! constant [`STRIPE`]: exactly what the ledger's upload manifest records,
//! so a reader with nothing but the ledger can find every byte.

use std::ops::Range;

use cairn_proofs::commp::padded_piece_size;
use cairn_proofs::fr32::{PADDED_CHUNK, UNPADDED_CHUNK};

/// Bytes each shard contributes to one stripe (the last stripe of a segment
/// may be narrower). Part of the format: changing it changes every layout.
pub const STRIPE: u64 = 256 * 1024;

/// Smallest padded piece Filecoin allows.
const MIN_PIECE: u64 = 128;

/// Why a layout was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LayoutError {
    /// `k` was 0, or `k + m` over 255.
    #[error("erasure coding {k}+{m}: k must be at least 1 and k + m at most 255")]
    BadShardCount {
        /// Data shards.
        k: u8,
        /// Parity shards.
        m: u8,
    },
    /// An empty CAR (a CAR always has a header).
    #[error("an empty CAR stream has no layout")]
    Empty,
    /// A segment size of 0.
    #[error("segment size must be at least 1 byte")]
    ZeroSegment,
    /// A sector size that is not a power of two of at least 128 bytes.
    #[error("sector size {0} is not a power of two of at least 128 bytes")]
    BadSectorSize(u64),
    /// More pieces per shard than allowed.
    #[error(
        "{car_len} bytes need {segments} segments of at most {max_segment} bytes; \
         at most {max_segments} are allowed (use larger sectors or more data shards)"
    )]
    TooLarge {
        /// The CAR length.
        car_len: u64,
        /// Segments it would need.
        segments: u64,
        /// The largest segment the sector size allows.
        max_segment: u64,
        /// The limit.
        max_segments: u64,
    },
    /// A shard of one segment would not fit one piece of the sector size.
    #[error("a shard of {shard} bytes does not fit a {sector} byte sector")]
    ShardTooLarge {
        /// Bytes per shard.
        shard: u64,
        /// The sector size.
        sector: u64,
    },
}

/// An upload's shape: how its CAR stream maps onto shards and pieces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    car_len: u64,
    segment_size: u64,
    k: u8,
    m: u8,
}

/// Where one CAR byte lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Location {
    /// Segment, i.e. piece index within each shard.
    pub segment: u64,
    /// Stripe within the segment.
    pub stripe: u64,
    /// Data shard (`< k`).
    pub shard: u8,
    /// Offset inside the shard's piece, in unpadded bytes.
    pub offset: u64,
}

/// Unpadded bytes a piece of `padded` bytes holds.
pub fn piece_capacity(padded: u64) -> u64 {
    padded / PADDED_CHUNK as u64 * UNPADDED_CHUNK as u64
}

impl Layout {
    /// A layout from recorded parameters (a manifest), checked.
    pub fn new(car_len: u64, segment_size: u64, k: u8, m: u8) -> Result<Self, LayoutError> {
        if k == 0 || u16::from(k) + u16::from(m) > 255 {
            return Err(LayoutError::BadShardCount { k, m });
        }
        if car_len == 0 {
            return Err(LayoutError::Empty);
        }
        if segment_size == 0 {
            return Err(LayoutError::ZeroSegment);
        }
        let layout = Self {
            car_len,
            segment_size,
            k,
            m,
        };
        // A shard must be committable (CommP is defined up to 2^63 bytes).
        let shard = layout.full_shard_len();
        if padded_piece_size(shard).is_none() {
            return Err(LayoutError::ShardTooLarge {
                shard,
                sector: u64::MAX,
            });
        }
        Ok(layout)
    }

    /// Picks the segment size for `car_len` bytes on providers with
    /// `sector_size` sectors, with at most `max_segments` pieces per shard.
    /// Pieces are powers of two, so a layout pays for padding; and each
    /// piece is a deal. Of the layouts that pay at most 25% more padded
    /// bytes than the cheapest, the one with the fewest pieces wins.
    pub fn plan(
        car_len: u64,
        k: u8,
        m: u8,
        sector_size: u64,
        max_segments: u64,
    ) -> Result<Self, LayoutError> {
        if sector_size < MIN_PIECE || !sector_size.is_power_of_two() {
            return Err(LayoutError::BadSectorSize(sector_size));
        }
        if k == 0 || u16::from(k) + u16::from(m) > 255 {
            return Err(LayoutError::BadShardCount { k, m });
        }
        if car_len == 0 {
            return Err(LayoutError::Empty);
        }
        let kk = u64::from(k);
        let max_segment = piece_capacity(sector_size).saturating_mul(kk);
        // (padded bytes paid for, segments, segment size) of each candidate.
        let mut candidates: Vec<(u128, u64, u64)> = Vec::new();
        let mut consider = |segment_size: u64| {
            let segments = car_len.div_ceil(segment_size);
            if segments > max_segments.max(1) {
                return;
            }
            let Ok(layout) = Self::new(car_len, segment_size, k, m) else {
                return;
            };
            let full = padded_piece_size(layout.full_shard_len()).unwrap_or(u64::MAX);
            let last = padded_piece_size(layout.shard_len(segments - 1)).unwrap_or(u64::MAX);
            if full > sector_size {
                return;
            }
            let cost = u128::from(full) * u128::from(segments - 1) + u128::from(last);
            candidates.push((cost, segments, segment_size));
        };
        // One segment, shards as short as the data allows.
        consider(car_len.div_ceil(kk).saturating_mul(kk));
        // Or full segments whose shards exactly fill a power-of-two piece.
        let mut padded = MIN_PIECE;
        while padded <= sector_size {
            consider(piece_capacity(padded).saturating_mul(kk));
            padded = padded.saturating_mul(2);
        }
        // Every piece is a deal on the ledger: take the fewest pieces whose
        // padded bytes are within a quarter of the least any layout pays.
        let min_cost = candidates.iter().map(|c| c.0).min();
        let best = min_cost.and_then(|min| {
            candidates
                .iter()
                .filter(|c| c.0.saturating_mul(4) <= min.saturating_mul(5))
                .min_by_key(|c| (c.1, c.0))
                .copied()
        });
        match best {
            Some((_, _, segment_size)) => Self::new(car_len, segment_size, k, m),
            None => Err(LayoutError::TooLarge {
                car_len,
                segments: car_len.div_ceil(max_segment.max(1)),
                max_segment,
                max_segments,
            }),
        }
    }

    /// Bytes in the CAR stream.
    pub fn car_len(&self) -> u64 {
        self.car_len
    }

    /// Bytes per segment (the last may be shorter).
    pub fn segment_size(&self) -> u64 {
        self.segment_size
    }

    /// Data shards.
    pub fn k(&self) -> u8 {
        self.k
    }

    /// Parity shards.
    pub fn m(&self) -> u8 {
        self.m
    }

    /// Data plus parity shards.
    pub fn shards(&self) -> usize {
        usize::from(self.k) + usize::from(self.m)
    }

    /// Number of segments (pieces per shard).
    pub fn segments(&self) -> u64 {
        self.car_len.div_ceil(self.segment_size)
    }

    /// CAR bytes of segment `j`.
    pub fn segment_range(&self, j: u64) -> Range<u64> {
        let start = j.saturating_mul(self.segment_size).min(self.car_len);
        start..start.saturating_add(self.segment_size).min(self.car_len)
    }

    fn full_shard_len(&self) -> u64 {
        self.segment_size
            .min(self.car_len)
            .div_ceil(u64::from(self.k))
    }

    /// Bytes of each shard's piece for segment `j`: the piece's payload.
    pub fn shard_len(&self, j: u64) -> u64 {
        let r = self.segment_range(j);
        (r.end - r.start).div_ceil(u64::from(self.k))
    }

    /// Padded size of the pieces of segment `j` (what a deal is made for).
    pub fn piece_size(&self, j: u64) -> u64 {
        padded_piece_size(self.shard_len(j)).unwrap_or(u64::MAX)
    }

    /// Stripes in segment `j`.
    pub fn stripes(&self, j: u64) -> u64 {
        self.shard_len(j).div_ceil(STRIPE)
    }

    /// Bytes each shard gives to stripe `t` of segment `j`.
    pub fn stripe_width(&self, j: u64, t: u64) -> u64 {
        self.shard_len(j)
            .saturating_sub(t.saturating_mul(STRIPE))
            .min(STRIPE)
    }

    /// The shard-piece bytes (unpadded offsets) of stripe `t` of segment `j`.
    pub fn stripe_in_piece(&self, j: u64, t: u64) -> Range<u64> {
        let start = t.saturating_mul(STRIPE);
        start..start + self.stripe_width(j, t)
    }

    /// CAR bytes of stripe `t` of segment `j` (without the zero padding).
    pub fn stripe_range(&self, j: u64, t: u64) -> Range<u64> {
        let seg = self.segment_range(j);
        let start = seg.start + t.saturating_mul(STRIPE) * u64::from(self.k);
        let end = start + self.stripe_width(j, t) * u64::from(self.k);
        start.min(seg.end)..end.min(seg.end)
    }

    /// Where CAR byte `offset` lives, or `None` past the end.
    pub fn locate(&self, offset: u64) -> Option<Location> {
        if offset >= self.car_len {
            return None;
        }
        let segment = offset / self.segment_size;
        let rel = offset - segment * self.segment_size;
        let row = STRIPE * u64::from(self.k);
        let stripe = rel / row;
        let within = rel - stripe * row;
        let width = self.stripe_width(segment, stripe);
        Some(Location {
            segment,
            stripe,
            shard: u8::try_from(within / width).ok()?,
            offset: stripe * STRIPE + within % width,
        })
    }

    /// The stripes `(segment, stripe)` that hold CAR bytes `range`, in order.
    pub fn stripes_for(&self, range: Range<u64>) -> impl Iterator<Item = (u64, u64)> + '_ {
        let end = range.end.min(self.car_len);
        let first = self.locate(range.start).filter(|_| range.start < end);
        let last = first.and_then(|_| self.locate(end - 1));
        let mut next = first.map(|l| (l.segment, l.stripe));
        std::iter::from_fn(move || {
            let (j, t) = next?;
            let last = last?;
            next = if (j, t) == (last.segment, last.stripe) {
                None
            } else if t + 1 < self.stripes(j) {
                Some((j, t + 1))
            } else {
                Some((j + 1, 0))
            };
            Some((j, t))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KIB: u64 = 1024;
    const MIB: u64 = 1024 * 1024;

    #[test]
    fn plan_table() {
        // (car_len, k, sector, segments, piece size of segment 0, last piece size)
        let rows: &[(u64, u8, u64, u64, u64, u64)] = &[
            // A few bytes: one segment, the minimum piece.
            (100, 4, 2 * KIB, 1, 128, 128),
            // Fills four 2 KiB pieces exactly: 4 × 2032 bytes.
            (4 * 2032, 4, 2 * KIB, 1, 2 * KIB, 2 * KIB),
            // One byte more: two segments; the second is the smallest piece.
            (4 * 2032 + 1, 4, 2 * KIB, 2, 2 * KIB, 128),
            // 5 MiB on 8 MiB sectors: 1.25 MiB shards would pay for 2 MiB
            // pieces; a full 1 MiB piece and a 512 KiB one pay 1.5 MiB.
            (5 * MIB, 4, 8 * MIB, 2, MIB, 512 * KIB),
            // 70 MiB on 8 MiB sectors with 4+2: full 8 MiB pieces and a tail.
            (70 * MIB, 4, 8 * MIB, 3, 8 * MIB, 2 * MIB),
        ];
        for &(car_len, k, sector, segments, first, last) in rows {
            let l = Layout::plan(car_len, k, 2, sector, 256).unwrap();
            assert_eq!(l.segments(), segments, "segments of {car_len}");
            assert_eq!(l.piece_size(0), first, "first piece of {car_len}");
            assert_eq!(l.piece_size(segments - 1), last, "last piece of {car_len}");
            for j in 0..segments {
                assert!(l.piece_size(j) <= sector);
                assert!(l.shard_len(j) <= piece_capacity(l.piece_size(j)));
            }
        }
    }

    #[test]
    fn plan_waste_is_small_where_pieces_allow() {
        // 4.2 MiB over 4 shards: one segment would pay 2 MiB pieces for 1.05
        // MiB shards; the planner cuts at 1 MiB pieces plus a small tail.
        let car_len = 42 * MIB / 10;
        let l = Layout::plan(car_len, 4, 2, 8 * MIB, 256).unwrap();
        let paid: u64 = (0..l.segments()).map(|j| l.piece_size(j)).sum();
        let payload: u64 = (0..l.segments()).map(|j| l.shard_len(j)).sum();
        assert!(paid < payload * 12 / 10, "paid {paid} for {payload}");
    }

    #[test]
    fn plan_refuses_what_cannot_fit() {
        let err = Layout::plan(4 * 2032 * 3, 4, 2, 2 * KIB, 2).unwrap_err();
        assert!(
            matches!(err, LayoutError::TooLarge { segments: 3, .. }),
            "{err}"
        );
        assert_eq!(
            Layout::plan(10, 0, 2, 2 * KIB, 8).unwrap_err(),
            LayoutError::BadShardCount { k: 0, m: 2 }
        );
        assert_eq!(
            Layout::plan(10, 200, 56, 2 * KIB, 8).unwrap_err(),
            LayoutError::BadShardCount { k: 200, m: 56 }
        );
        assert_eq!(
            Layout::plan(10, 4, 2, 3000, 8).unwrap_err(),
            LayoutError::BadSectorSize(3000)
        );
        assert_eq!(
            Layout::plan(0, 4, 2, 2048, 8).unwrap_err(),
            LayoutError::Empty
        );
        assert_eq!(
            Layout::new(10, 0, 4, 2).unwrap_err(),
            LayoutError::ZeroSegment
        );
    }

    #[test]
    fn locate_matches_the_stripe_ranges() {
        // Three segments, the last one short, with multi-stripe shards.
        let l = Layout::new(3 * MIB + 12345, 4 * 300 * KIB + 3, 4, 2).unwrap();
        let mut covered = 0u64;
        for j in 0..l.segments() {
            for t in 0..l.stripes(j) {
                let r = l.stripe_range(j, t);
                assert_eq!(r.start, covered, "stripes tile the CAR");
                covered = r.end;
                let w = l.stripe_width(j, t);
                for off in [r.start, r.start + 1, (r.start + r.end) / 2, r.end - 1] {
                    let loc = l.locate(off).unwrap();
                    assert_eq!((loc.segment, loc.stripe), (j, t), "offset {off}");
                    let rel = off - r.start;
                    assert_eq!(u64::from(loc.shard), rel / w);
                    assert_eq!(loc.offset, t * STRIPE + rel % w);
                    assert!(l.stripe_in_piece(j, t).contains(&loc.offset));
                }
            }
        }
        assert_eq!(covered, l.car_len());
        assert_eq!(l.locate(l.car_len()), None);
    }

    #[test]
    fn stripes_for_a_range() {
        let l = Layout::new(3 * MIB, MIB + 4, 4, 2).unwrap();
        let all: Vec<_> = l.stripes_for(0..l.car_len()).collect();
        let expect: Vec<_> = (0..l.segments())
            .flat_map(|j| (0..l.stripes(j)).map(move |t| (j, t)))
            .collect();
        assert_eq!(all, expect);
        assert_eq!(l.stripes_for(5..5).count(), 0);
        assert_eq!(l.stripes_for(l.car_len()..l.car_len() + 9).count(), 0);
        let one: Vec<_> = l.stripes_for(MIB + 4..MIB + 5).collect();
        assert_eq!(one, vec![(1, 0)]);
        // A range crossing a segment boundary.
        let two: Vec<_> = l.stripes_for(MIB..MIB + 10).collect();
        assert_eq!(two, vec![(0, 1), (1, 0)]);
    }
}

//! Streaming encoder: CAR bytes in, shard chunks out.

use std::io;

use cairn_proofs::commp::{CommPError, CommPHasher, PieceCommitment};
use reed_solomon_erasure::galois_8::ReedSolomon;

use crate::layout::{Layout, STRIPE};

/// Bytes of one shard for one stripe, handed to the encoder's sink in
/// order: all shards of stripe 0 of segment 0, then stripe 1, and so on.
#[derive(Debug, Clone, Copy)]
pub struct Chunk<'a> {
    /// Segment, i.e. which piece of the shard.
    pub segment: u64,
    /// Shard index (`< k` data, then parity).
    pub shard: u8,
    /// Offset of these bytes in the piece's payload.
    pub offset: u64,
    /// The bytes.
    pub bytes: &'a [u8],
    /// Whether these are the piece's last bytes.
    pub last: bool,
}

/// Why encoding stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// The sink failed (a piece file could not be written).
    #[error("writing a shard: {0}")]
    Sink(#[from] io::Error),
    /// More bytes than the layout's CAR length.
    #[error("the CAR stream is longer than the {car_len} bytes planned")]
    TooLong {
        /// The planned length.
        car_len: u64,
    },
    /// Fewer bytes than the layout's CAR length at `finish`.
    #[error("the CAR stream ended after {got} of the {car_len} bytes planned")]
    TooShort {
        /// The planned length.
        car_len: u64,
        /// Bytes received.
        got: u64,
    },
}

/// Turns a CAR stream into shard chunks (see [`crate::Layout`] for where
/// each byte goes). Holds one stripe row: `(k + m) × STRIPE` bytes.
pub struct Encoder {
    layout: Layout,
    codec: Option<ReedSolomon>,
    segment: u64,
    stripe: u64,
    row: Vec<u8>,
    filled: usize,
    parity: Vec<Vec<u8>>,
    consumed: u64,
}

impl std::fmt::Debug for Encoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Encoder")
            .field("layout", &self.layout)
            .field("segment", &self.segment)
            .field("stripe", &self.stripe)
            .field("consumed", &self.consumed)
            .finish_non_exhaustive()
    }
}

/// The Reed-Solomon codec for `k + m`, or `None` when there is no parity.
pub(crate) fn codec(layout: &Layout) -> Option<ReedSolomon> {
    // Layout guarantees 1 <= k and k + m <= 255, which is all the codec needs.
    (layout.m() > 0)
        .then(|| ReedSolomon::new(usize::from(layout.k()), usize::from(layout.m())).ok())
        .flatten()
}

impl Encoder {
    /// An encoder for `layout`.
    pub fn new(layout: Layout) -> Self {
        let k = usize::from(layout.k());
        let w = usize::try_from(STRIPE.min(layout.shard_len(0))).unwrap_or(0);
        Self {
            codec: codec(&layout),
            layout,
            segment: 0,
            stripe: 0,
            row: vec![0; k * w],
            filled: 0,
            parity: vec![vec![0; w]; usize::from(layout.m())],
            consumed: 0,
        }
    }

    /// CAR bytes consumed so far.
    pub fn consumed(&self) -> u64 {
        self.consumed
    }

    /// Feeds CAR bytes; complete stripes go to `sink` as they fill.
    pub fn write(
        &mut self,
        mut data: &[u8],
        sink: &mut impl FnMut(Chunk<'_>) -> io::Result<()>,
    ) -> Result<(), EncodeError> {
        while !data.is_empty() {
            let real = self.layout.stripe_range(self.segment, self.stripe);
            let real = usize::try_from(real.end - real.start).unwrap_or(0);
            if self.consumed >= self.layout.car_len() || real == 0 {
                return Err(EncodeError::TooLong {
                    car_len: self.layout.car_len(),
                });
            }
            let n = (real - self.filled).min(data.len());
            let (head, rest) = data.split_at(n);
            self.row[self.filled..self.filled + n].copy_from_slice(head);
            self.filled += n;
            self.consumed += n as u64;
            data = rest;
            if self.filled == real {
                self.emit(sink)?;
            }
        }
        Ok(())
    }

    /// Checks that the whole CAR arrived (every stripe has been emitted).
    pub fn finish(self) -> Result<(), EncodeError> {
        if self.consumed != self.layout.car_len() {
            return Err(EncodeError::TooShort {
                car_len: self.layout.car_len(),
                got: self.consumed,
            });
        }
        Ok(())
    }

    fn emit(
        &mut self,
        sink: &mut impl FnMut(Chunk<'_>) -> io::Result<()>,
    ) -> Result<(), EncodeError> {
        let (j, t) = (self.segment, self.stripe);
        let w = usize::try_from(self.layout.stripe_width(j, t)).unwrap_or(0);
        let k = usize::from(self.layout.k());
        let row = &mut self.row[..k * w];
        // Zero the padding at the end of a segment (fewer than k bytes).
        row[self.filled..].fill(0);
        let data: Vec<&[u8]> = row.chunks_exact(w).collect();
        if let Some(codec) = &self.codec {
            let mut parity: Vec<&mut [u8]> = self.parity.iter_mut().map(|p| &mut p[..w]).collect();
            codec
                .encode_sep(&data, &mut parity)
                .map_err(|e| io::Error::other(format!("reed-solomon: {e:?}")))?;
        }
        let offset = t * STRIPE;
        let last = t + 1 == self.layout.stripes(j);
        let shards = data
            .iter()
            .copied()
            .chain(self.parity.iter().map(|p| &p[..w]));
        for (i, bytes) in shards.enumerate() {
            sink(Chunk {
                segment: j,
                shard: u8::try_from(i).unwrap_or(u8::MAX),
                offset,
                bytes,
                last,
            })?;
        }
        self.filled = 0;
        if last {
            self.segment += 1;
            self.stripe = 0;
        } else {
            self.stripe += 1;
        }
        Ok(())
    }
}

/// Commits to every piece as its chunks go by: the CommP of shard `i`'s
/// piece `j` is that of the piece's payload ([`Layout::shard_len`] bytes),
/// zero-padded to [`Layout::piece_size`] as Filecoin pads a piece.
#[derive(Debug)]
pub struct PieceHashers {
    hashers: Vec<CommPHasher>,
    pieces: Vec<Vec<PieceCommitment>>,
}

impl PieceHashers {
    /// Hashers for every shard of `layout`.
    pub fn new(layout: &Layout) -> Self {
        Self {
            hashers: (0..layout.shards()).map(|_| CommPHasher::new()).collect(),
            pieces: vec![Vec::new(); layout.shards()],
        }
    }

    /// Takes one chunk (in the encoder's order).
    pub fn update(&mut self, chunk: &Chunk<'_>) -> Result<(), CommPError> {
        let i = usize::from(chunk.shard);
        let (Some(h), Some(done)) = (self.hashers.get_mut(i), self.pieces.get_mut(i)) else {
            return Ok(());
        };
        h.update(chunk.bytes);
        if chunk.last {
            let finished = std::mem::take(h);
            done.push(finished.finish()?);
        }
        Ok(())
    }

    /// Every piece's commitment, per shard, in segment order (the
    /// manifest's shape).
    pub fn finish(self) -> Vec<Vec<PieceCommitment>> {
        self.pieces
    }
}

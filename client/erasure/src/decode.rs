//! Stripe decoder: any `k` shards' bytes of a stripe in, CAR bytes out.

use reed_solomon_erasure::galois_8::ReedSolomon;

use crate::encode::codec;
use crate::layout::Layout;

/// Why a stripe could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// Fewer than `k` shards were given.
    #[error("segment {segment} stripe {stripe}: {have} shards of the {need} needed")]
    NotEnoughShards {
        /// Segment.
        segment: u64,
        /// Stripe.
        stripe: u64,
        /// Shards given.
        have: usize,
        /// `k`.
        need: usize,
    },
    /// A shard's bytes are not the stripe's width.
    #[error("shard {shard}: {got} bytes where the stripe holds {expected}")]
    WrongLength {
        /// Shard index.
        shard: usize,
        /// The stripe width.
        expected: usize,
        /// Bytes given.
        got: usize,
    },
    /// The stripe is not in the layout, or the shard list has the wrong size.
    #[error("segment {segment} stripe {stripe} is not in this layout (or not k + m shards given)")]
    OutOfRange {
        /// Segment.
        segment: u64,
        /// Stripe.
        stripe: u64,
    },
}

/// Decodes stripes of one layout, reusing its buffers between calls.
pub struct StripeDecoder {
    layout: Layout,
    codec: Option<ReedSolomon>,
    bufs: Vec<(Vec<u8>, bool)>,
}

impl std::fmt::Debug for StripeDecoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StripeDecoder")
            .field("layout", &self.layout)
            .finish_non_exhaustive()
    }
}

impl StripeDecoder {
    /// A decoder for `layout`.
    pub fn new(layout: Layout) -> Self {
        Self {
            codec: codec(&layout),
            bufs: vec![(Vec::new(), false); layout.shards()],
            layout,
        }
    }

    /// The layout it decodes.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// Appends stripe `stripe` of segment `segment`'s CAR bytes to `out`.
    ///
    /// `shards[i]` holds shard `i`'s bytes of the stripe
    /// ([`Layout::stripe_in_piece`] of its piece `segment`) if they were
    /// fetched; any `k` of the `k + m` suffice. With every data shard
    /// present nothing is decoded, only copied.
    pub fn decode(
        &mut self,
        segment: u64,
        stripe: u64,
        shards: &[Option<&[u8]>],
        out: &mut Vec<u8>,
    ) -> Result<(), DecodeError> {
        let k = usize::from(self.layout.k());
        let n = self.layout.shards();
        if segment >= self.layout.segments()
            || stripe >= self.layout.stripes(segment)
            || shards.len() != n
        {
            return Err(DecodeError::OutOfRange { segment, stripe });
        }
        let w = usize::try_from(self.layout.stripe_width(segment, stripe)).unwrap_or(0);
        let real = self.layout.stripe_range(segment, stripe);
        let real = usize::try_from(real.end - real.start).unwrap_or(0);
        for (i, s) in shards.iter().enumerate() {
            if let Some(s) = s
                && s.len() != w
            {
                return Err(DecodeError::WrongLength {
                    shard: i,
                    expected: w,
                    got: s.len(),
                });
            }
        }
        let have = shards.iter().filter(|s| s.is_some()).count();
        if have < k {
            return Err(DecodeError::NotEnoughShards {
                segment,
                stripe,
                have,
                need: k,
            });
        }
        let start = out.len();
        let data_present: Option<Vec<&[u8]>> = shards.iter().take(k).copied().collect();
        match (data_present, &self.codec) {
            (Some(data), _) => data.iter().for_each(|d| out.extend_from_slice(d)),
            (None, Some(codec)) => {
                for (buf, s) in self.bufs.iter_mut().zip(shards) {
                    buf.0.resize(w, 0);
                    buf.1 = s.is_some();
                    if let Some(s) = s {
                        buf.0.copy_from_slice(s);
                    }
                }
                codec.reconstruct_data(&mut self.bufs).map_err(|_| {
                    DecodeError::NotEnoughShards {
                        segment,
                        stripe,
                        have,
                        need: k,
                    }
                })?;
                self.bufs
                    .iter()
                    .take(k)
                    .for_each(|(d, _)| out.extend_from_slice(&d[..w]));
            }
            // No parity and a data shard missing: `have < k` caught it.
            (None, None) => {
                return Err(DecodeError::NotEnoughShards {
                    segment,
                    stripe,
                    have,
                    need: k,
                });
            }
        }
        out.truncate(start + real);
        Ok(())
    }
}

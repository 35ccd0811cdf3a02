//! Poseidon's plain parameters, generated as neptune 11 generates them for
//! `Strength::Standard` and `HashType::MerkleTree`.
//!
//! Each step follows neptune 11.0.0's source (`round_numbers.rs`,
//! `round_constants.rs`, `mds.rs`, `hash_type.rs`, `lib.rs`), including its
//! quirks, because the constants are part of the hash function:
//!
//! - Round numbers: neptune's port of the Poseidon authors'
//!   `calc_round_numbers.py` for a 256-bit prime (although r has 255 bits),
//!   128-bit security, with the security margin (+2 full rounds, +7.5%
//!   partial rounds, rounded up). The arithmetic is `f32`, as in neptune, and
//!   so is the quirk that the outer loop's `R_F` grows by 2 for every secure
//!   `R_P` the inner loop meets. Every width gives `R_F = 8`.
//! - Round constants: the Grain LFSR of the Poseidon paper, initialised
//!   with field = 1, **S-box = 1** (neptune passes 1; the reference script
//!   uses 0 for x^α), n = 255 (`Fr::NUM_BITS`, not the 256 of the round
//!   numbers), t, `R_F`, `R_P`; each candidate is 255 bits, first bit most
//!   significant, rejected and redrawn when `>= r`. `(R_F + R_P) * t`
//!   constants, round by round.
//! - MDS matrix: the Cauchy matrix `M[i][j] = 1 / (i + (t + j))`,
//!   `0 <= i, j < t` (symmetric).
//! - Domain tag: `2^arity - 1`, the first state element.

use ark_ff::{BigInt, Field, PrimeField};

use super::Arity;
use crate::field::Fr;

/// The number of bits neptune's round-number formulas take for the field
/// (neptune rounds BLS12-381's 255 up to 256 there).
const ROUND_NUMBERS_PRIME_BITS: f32 = 256.0;
/// Security level in bits (`M` in the Poseidon paper).
const SECURITY_BITS: f32 = 128.0;
/// Grain's field-type bits: 1 for GF(p).
const GRAIN_FIELD: u128 = 1;
/// Grain's S-box bits: neptune passes 1 (see the module docs).
const GRAIN_SBOX: u128 = 1;

/// Whether `(R_F, R_P)` meet the inequalities of the Poseidon paper for
/// width `t` (neptune's `round_numbers_are_secure`, in `f32`).
fn round_numbers_are_secure(t: usize, rf: usize, rp: usize) -> bool {
    let (rp, t, n, m) = (rp as f32, t as f32, ROUND_NUMBERS_PRIME_BITS, SECURITY_BITS);
    let rf_stat = if m <= (n - 3.0) * (t + 1.0) {
        6.0
    } else {
        10.0
    };
    let rf_interp = 0.43 * m + t.log2() - rp;
    let rf_grob_1 = 0.21 * n - rp;
    let rf_grob_2 = (0.14 * n - 1.0 - rp) / (t - 1.0);
    // `as usize` saturates negative bounds to 0, as in neptune.
    let rf_max = [rf_stat, rf_interp, rf_grob_1, rf_grob_2]
        .into_iter()
        .map(|bound: f32| bound.ceil() as usize)
        .max()
        .unwrap_or(usize::MAX);
    rf >= rf_max
}

/// `(R_F, R_P)` for width `t` with neptune's security margin: the cheapest
/// secure pair by S-box count `t * R_F + R_P`, ties to the smaller `R_F`.
pub(crate) fn round_numbers(t: usize) -> (usize, usize) {
    let (mut rf, mut rp) = (0, 0);
    let mut min_cost = usize::MAX;
    for rf_start in (2..=1000).step_by(2) {
        // neptune mutates the outer loop variable inside the inner loop, so
        // every secure hit raises R_F for the rest of this R_F's inner loop.
        let mut rf_test = rf_start;
        for rp_start in 4..200 {
            if round_numbers_are_secure(t, rf_test, rp_start) {
                rf_test += 2;
                let rp_test = (1.075 * rp_start as f32).ceil() as usize;
                let cost = t * rf_test + rp_test;
                if cost < min_cost || (cost == min_cost && rf_test < rf) {
                    (rf, rp, min_cost) = (rf_test, rp_test, cost);
                }
            }
        }
    }
    (rf, rp)
}

/// The Grain LFSR in self-shrinking mode, as the Poseidon paper specifies
/// round-constant generation.
struct Grain {
    /// The 80-bit window: bit `i` is `b_i`, the oldest bit is bit 0.
    state: u128,
}

impl Grain {
    fn new(field_bits: u16, t: usize, rf: usize, rp: usize) -> Self {
        let mut state = 0u128;
        let mut len = 0;
        let fields: [(u128, u32); 7] = [
            (GRAIN_FIELD, 2),
            (GRAIN_SBOX, 4),
            (u128::from(field_bits), 12),
            (t as u128, 12),
            (rf as u128, 10),
            (rp as u128, 10),
            ((1 << 30) - 1, 30),
        ];
        // Each field is written most significant bit first.
        for (value, width) in fields {
            for i in (0..width).rev() {
                state |= ((value >> i) & 1) << len;
                len += 1;
            }
        }
        debug_assert_eq!(len, 80);
        let mut grain = Grain { state };
        for _ in 0..160 {
            grain.step();
        }
        grain
    }

    /// `b_{i+80} = b_{i+62} ^ b_{i+51} ^ b_{i+38} ^ b_{i+23} ^ b_{i+13} ^ b_i`.
    fn step(&mut self) -> bool {
        let s = self.state;
        let bit = ((s >> 62) ^ (s >> 51) ^ (s >> 38) ^ (s >> 23) ^ (s >> 13) ^ s) & 1;
        self.state = (s >> 1) | (bit << 79);
        bit == 1
    }

    /// Self-shrinking output: bits in pairs, the second kept when the first
    /// is 1.
    fn next_bit(&mut self) -> bool {
        loop {
            if self.step() {
                return self.step();
            }
            self.step();
        }
    }

    /// The next 255-bit candidate below r, most significant bit first.
    fn next_fr(&mut self) -> Fr {
        loop {
            let mut limbs = [0u64; 4];
            for (i, limb) in limbs.iter_mut().enumerate().rev() {
                let bits = if i == 3 {
                    Fr::MODULUS_BIT_SIZE - 192
                } else {
                    64
                };
                for _ in 0..bits {
                    *limb = (*limb << 1) | u64::from(self.next_bit());
                }
            }
            if let Some(x) = Fr::from_bigint(BigInt::new(limbs)) {
                return x;
            }
        }
    }
}

/// neptune's round constants: `(rf + rp) * t` elements, round by round.
pub(crate) fn round_constants(t: usize, rf: usize, rp: usize) -> Vec<Fr> {
    let mut grain = Grain::new(Fr::MODULUS_BIT_SIZE as u16, t, rf, rp);
    (0..(rf + rp) * t).map(|_| grain.next_fr()).collect()
}

/// The Cauchy MDS matrix `1 / (i + t + j)`, as rows.
pub(crate) fn mds(t: usize) -> Vec<Vec<Fr>> {
    (0..t as u64)
        .map(|i| {
            (0..t as u64)
                .map(|j| {
                    // i + t + j >= t > 0 and far below r: never zero.
                    Fr::from(i + t as u64 + j).inverse().unwrap_or_default()
                })
                .collect()
        })
        .collect()
}

/// The plain parameters of Poseidon for one arity: what the permutation is
/// defined by, before any optimisation. A circuit must use exactly these.
///
/// The permutation on state `x` (width `t = arity + 1`, `x[0]` the domain
/// tag, `x[1..]` the preimage), for rounds `r = 0 .. R_F + R_P`:
/// add `round_constants_for(r)` to `x`; raise every element (full rounds:
/// the first and last `R_F / 2`) or only `x[0]` (partial rounds) to the
/// fifth power; replace `x` by `M x` with `M = mds()`. The hash is `x[1]`.
#[derive(Debug, Clone, PartialEq)]
pub struct PoseidonConstants {
    arity: Arity,
    full_rounds: usize,
    partial_rounds: usize,
    domain_tag: Fr,
    round_constants: Vec<Fr>,
    mds: Vec<Vec<Fr>>,
}

impl PoseidonConstants {
    /// Generates the parameters for `arity` (milliseconds; use
    /// [`constants`](super::constants) for the cached copy).
    pub fn generate(arity: Arity) -> Self {
        let t = arity.width();
        let (full_rounds, partial_rounds) = round_numbers(t);
        // 2^arity - 1: HashType::MerkleTree's tag, `Arity::tag()` in neptune.
        let domain_tag = Fr::from((1u64 << arity.get()) - 1);
        PoseidonConstants {
            arity,
            full_rounds,
            partial_rounds,
            domain_tag,
            round_constants: round_constants(t, full_rounds, partial_rounds),
            mds: mds(t),
        }
    }

    /// The arity: preimage elements per hash.
    pub fn arity(&self) -> Arity {
        self.arity
    }

    /// The state width `t = arity + 1`.
    pub fn width(&self) -> usize {
        self.arity.width()
    }

    /// `R_F`, the number of full rounds (8 for every arity); half of them
    /// come before the partial rounds.
    pub fn full_rounds(&self) -> usize {
        self.full_rounds
    }

    /// `R_F / 2`.
    pub fn half_full_rounds(&self) -> usize {
        self.full_rounds / 2
    }

    /// `R_P`, the number of partial rounds.
    pub fn partial_rounds(&self) -> usize {
        self.partial_rounds
    }

    /// `R_F + R_P`.
    pub fn rounds(&self) -> usize {
        self.full_rounds + self.partial_rounds
    }

    /// The domain tag, `2^arity - 1`, the state's first element.
    pub fn domain_tag(&self) -> Fr {
        self.domain_tag
    }

    /// All round constants, `width()` per round, round by round.
    pub fn round_constants(&self) -> &[Fr] {
        &self.round_constants
    }

    /// The `width()` constants added at the start of round `round`; `None`
    /// past the last round.
    pub fn round_constants_for(&self, round: usize) -> Option<&[Fr]> {
        self.round_constants.chunks_exact(self.width()).nth(round)
    }

    /// The MDS matrix, as `width()` rows of `width()` elements. It is
    /// symmetric, so row and column conventions agree.
    pub fn mds(&self) -> &[Vec<Fr>] {
        &self.mds
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// neptune 11's `test_round_numbers_against_known_values`: `(t, R_P)`,
    /// all with `R_F = 8`.
    #[test]
    fn round_numbers_match_neptune_table() {
        let cases = [
            (2, 55),
            (3, 55),
            (4, 56),
            (5, 56),
            (6, 56),
            (7, 56),
            (8, 57),
            (9, 57),
            (10, 57),
            (11, 57),
            (12, 57),
            (13, 57),
            (14, 57),
            (15, 57),
            (16, 59),
            (17, 59),
            (25, 59),
            (37, 60),
            (65, 61),
        ];
        for (t, rp) in cases {
            assert_eq!(round_numbers(t), (8, rp), "t = {t}");
        }
    }

    #[test]
    fn secure_bounds() {
        // t = 3: R_F = 6 with R_P = 51 is the unmargined optimum, so
        // R_F = 8, R_P = ceil(1.075 * 51) = 55 with the margin.
        assert!(round_numbers_are_secure(3, 6, 51));
        assert!(!round_numbers_are_secure(3, 6, 50));
        assert!(!round_numbers_are_secure(3, 4, 200));
    }

    #[test]
    fn mds_is_symmetric_cauchy() {
        let m = mds(3);
        assert_eq!(m[0][0], Fr::from(3u64).inverse().unwrap());
        assert_eq!(m[2][1], Fr::from(6u64).inverse().unwrap());
        assert_eq!(m[1][2], m[2][1]);
    }
}

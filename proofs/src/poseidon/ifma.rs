//! Eight Poseidon hashes at once with AVX-512 IFMA (x86_64 only): the
//! fast form's steps ([`Fast`]) with the same constants, each `__m512i`
//! holding one 52-bit limb of eight independent states.
//!
//! # Representation
//!
//! An element is five limbs in radix `2^52` (`Fe`, limb `j` of lane `k` in
//! 64-bit lane `k` of vector `j`), in Montgomery form with `R = 2^260`:
//! `x` is held as some `X ≡ x·R (mod p)`. Limbs are *normalized* (each
//! `< 2^52`, which `vpmadd52{lo,hi}uq` need: they read the low 52 bits of
//! each factor), but `X` is only *lazily reduced*: it may exceed `p`, by
//! the bounds below. Constants (`C`) are canonical (`< p`) in the same
//! form, broadcast to all lanes when used.
//!
//! # Multiplication and reduction
//!
//! A product `a·b` is accumulated schoolbook into ten 64-bit limbs (`Wide`):
//! 25 `madd52lo` into limb `i+j` and 25 `madd52hi` into limb `i+j+1`, with
//! no carries. Sums of products (a mix's dot product) share one
//! accumulator and one reduction. [`reduce`] is word-by-word Montgomery
//! reduction: for `i` in `0..5`, `m = t_i·(-p^-1) mod 2^52`, add `m·p·2^52i`,
//! carry `t_i >> 52` (now exact) into `t_{i+1}`; the result is limbs `5..10`,
//! normalized with (signed) carries. For an accumulated `U >= 0` it returns
//! `V = (U + M·p) / R ≡ U/R (mod p)` with `0 <= M < R`, so
//! `U/R <= V < U/R + p`. Adding a value `k` to limbs `5..10` before
//! reducing adds `k` to the result: that is how round constants (and the
//! partial rounds' `x_i` in `x_i + Σ c·y`) are added, without a separate
//! carry pass.
//!
//! # Bounds
//!
//! `p < 2^255`, and `ρ = R/p > 35.33`, so `1/ρ < 0.0284`. In units of `p`,
//! a product of values below `αp` and `βp` adds less than `αβ/ρ` to `U/R`.
//! Invariant: every state element is below `3.3p` between steps (so below
//! `2^257`, and its top limb below `2^49`):
//!
//! - input: `a·C + f·R` with `C, f < p` and `a < 2^256 < 2.21p` (`a < p`
//!   but for non-canonical encodings, whose hashes are discarded):
//!   `V < 2.21/ρ + 1 + 1 < 2.1p` (`f` is the first round's constant; the
//!   domain tag element is a canonical constant);
//! - S-box from `x < 3.3p`: `x^2 < 3.3²/ρ + 1 < 1.31p`,
//!   `x^4 < 1.31²/ρ + 1 < 1.05p`, `x^5 + k < 1.05·3.3/ρ + 1 + 1 < 2.1p`
//!   (`k < p` the round constant; without one, `< 1.1p`);
//! - dense mix of `T <= 17` elements `< 2.1p` by constants `< p`:
//!   `V < 17·2.1/ρ + 1 < 2.02p`;
//! - partial rounds, in blocks of up to 4 ([`partial_block`]): each
//!   `y_s = x0^5 + k < 2.1p`; a round's new `x0` sums at most 4 products
//!   with `y`s and 16 with `x_i < 3.3p`: `V < (4·2.1 + 16·3.3)/ρ + 1 <
//!   2.74p`; at the end of the block each `x_i` first loses `2p` when its
//!   top limb shows `x_i >= 2p` (exact up to `2^208`: `x_i - 2p·s` is in
//!   `[0, 2p + 2^208)`), then gains at most 4 products `c·y_s`:
//!   `V < 2.0001p + 4·2.1/ρ + 1 < 3.24p`;
//! - output: `V = y·C'/R` with `C' <= p`, `y < 3.3p`: `V < 1.1p`, and one
//!   conditional subtraction makes it canonical.
//!
//! Accumulator limbs: a product adds at most 9 terms `< 2^52` to any limb
//! (5 `lo` and 4 `hi` or the reverse), a sum of up to 20 products (a
//! partial round's `x0`) at most `180·2^52`, the reduction `9·2^52` plus a
//! carry below `2^12`, the added values less than `2^53` in magnitude:
//! every limb stays within `(-2^54, 2^60)`, so 64-bit lanes neither wrap nor, read as signed in the
//! final carries, change sign.
//!
//! # Safety
//!
//! The SIMD functions are `#[target_feature(enable = "avx512f,avx512ifma")]`;
//! the only way in is [`X8::hash`], which checks at run time that the CPU
//! has both (`is_x86_feature_detected!`, cached by std) before its one
//! `unsafe` call. The only other `unsafe` is an unaligned store of a vector
//! into a `[u64; 8]`.
#![allow(unsafe_code)]
// Indices below are constant loop counters over arrays whose lengths are
// fixed by their types (5 limbs, 10 accumulator limbs, 8 lanes); the loops
// unroll and the indices are checked at compile time.
#![allow(clippy::indexing_slicing)]

use std::arch::x86_64::{
    __m512i, _mm512_add_epi64, _mm512_and_si512, _mm512_cmpge_epi64_mask, _mm512_cmpge_epu64_mask,
    _mm512_madd52hi_epu64, _mm512_madd52lo_epu64, _mm512_mask_blend_epi64, _mm512_mask_sub_epi64,
    _mm512_set_epi64, _mm512_set1_epi64, _mm512_setzero_si512, _mm512_srai_epi64,
    _mm512_srli_epi64, _mm512_storeu_epi64, _mm512_sub_epi64,
};

use ark_ff::{Field, PrimeField};

use super::batch::Form;
use super::fast::Fast;
use crate::field::Fr;

/// Lanes per vector: hashes per call.
pub(crate) const LANES: usize = 8;

/// The largest width whose bounds the module docs prove (arity 16).
pub(crate) const MAX_WIDTH: usize = 17;

/// `2^52 - 1`.
const MASK: u64 = (1 << 52) - 1;
/// `p`, the BLS12-381 scalar field modulus, in radix `2^52`.
const P: [u64; 5] = [
    0xfffff00000001,
    0x2fffe5bfefff,
    0x9a1d80553bda4,
    0x7d483339d8080,
    0x73eda753299d,
];
/// `2p` in radix `2^52`.
const TWO_P: [u64; 5] = [
    0xffffe00000002,
    0x5fffcb7fdfff,
    0x343b00aa77b48,
    0xfa906673b0101,
    0xe7db4ea6533a,
];
/// `ceil(2p / 2^208)`: a normalized value whose top limb is at least this
/// is at least `2p`; one whose top limb is below it is below `2p + 2^208`.
const TWO_P_TOP: u64 = 0xe7db4ea6533b;
/// `-p^-1 mod 2^52`.
const N0: u64 = 0xffffeffffffff;
/// `R^2 mod p = 2^520 mod p`: multiplying a canonical integer by it (and
/// reducing) gives its Montgomery form.
const FROM_CANONICAL: [u64; 5] = [
    0x99103f29c6cf0,
    0x57927663d999e,
    0xa1c0ed631138b,
    0x3c829f7715f1b,
    0x9ff646cc027,
];
/// `2^264 mod p`: arkworks keeps `x·2^256 mod p`; times this, reduced by
/// `R = 2^260`, gives `x·2^260`.
const FROM_ARK: [u64; 5] = [
    0x234fffffdcb,
    0x61039ef635000,
    0xdce3c3e2e7505,
    0x7fa6f1563642b,
    0x247db575276a,
];
/// `2^256 mod p`: `x·2^260` times this, reduced, is arkworks' `x·2^256`.
const TO_ARK: [u64; 5] = [
    0x1fffffffe,
    0xfa00034802000,
    0xcbc4ff55884b7,
    0x56f998c4fefe,
    0x1824b159acc5,
];
/// `1`: `x·2^260` times this, reduced, is `x`.
const TO_CANONICAL: [u64; 5] = [1, 0, 0, 0, 0];

/// Whether this CPU runs the IFMA path. `is_x86_feature_detected!` caches
/// its answer (one atomic load after the first call) and checks that the
/// OS saves the AVX-512 state.
pub(crate) fn available() -> bool {
    std::is_x86_feature_detected!("avx512f") && std::is_x86_feature_detected!("avx512ifma")
}

/// Four little-endian 64-bit limbs, `< 2^256`, to five of 52 bits.
pub(crate) const fn split(a: [u64; 4]) -> [u64; 5] {
    let [a0, a1, a2, a3] = a;
    [
        a0 & MASK,
        (a0 >> 52 | a1 << 12) & MASK,
        (a1 >> 40 | a2 << 24) & MASK,
        (a2 >> 28 | a3 << 36) & MASK,
        a3 >> 16,
    ]
}

/// Five 52-bit limbs of a value `< 2^256` to four of 64 bits.
pub(crate) const fn join(l: [u64; 5]) -> [u64; 4] {
    let [l0, l1, l2, l3, l4] = l;
    [
        l0 | l1 << 52,
        l1 >> 12 | l2 << 40,
        l2 >> 24 | l3 << 28,
        l3 >> 36 | l4 << 16,
    ]
}

/// A constant for all lanes: canonical Montgomery form, radix `2^52`.
type C = [u64; 5];

/// Converts constants to Montgomery form: `x·2^260 mod p`, radix `2^52`.
struct Mont(Fr);

impl Mont {
    fn new() -> Self {
        Mont(Fr::from(2u64).pow([260]))
    }

    fn one(&self, x: Fr) -> C {
        split((x * self.0).into_bigint().0)
    }

    fn row<const T: usize>(&self, row: &[Fr; T]) -> [C; T] {
        row.map(|x| self.one(x))
    }

    fn matrix<const T: usize>(&self, m: &[[Fr; T]; T]) -> Box<[[C; T]; T]> {
        Box::new(m.map(|row| self.row(&row)))
    }
}

/// Partial rounds are run `BLOCK` at a time (see [`partial_block`]).
const BLOCK: usize = 4;

/// The constants of up to [`BLOCK`] consecutive partial rounds. Round `s`
/// of the block is `y_s = x0^5 + keys[s]`, `x0 <- rows[s] · x` (with `y_s`
/// for `x0`), `x_i <- x_i + cols[s][i]·y_s` for `i >= 1`.
#[derive(Debug)]
struct PartialBlock<const T: usize> {
    /// Rounds in the block, `1..=BLOCK`.
    len: usize,
    keys: [C; BLOCK],
    rows: [[C; T]; BLOCK],
    /// `cross[s][s'] = Σ_{i>=1} rows[s][i]·cols[s'][i]` for `s' < s`: what
    /// round `s'`'s column update adds to round `s`'s new `x0`, per `y_s'`.
    cross: [[C; BLOCK]; BLOCK],
    /// Element 0 unused.
    cols: [[C; T]; BLOCK],
}

/// The fast form's constants for width `T`, converted once per arity.
#[derive(Debug)]
pub(crate) struct X8<const T: usize> {
    /// The domain tag plus the first round's constant for element 0.
    tag: C,
    first: [C; T],
    first_half: Vec<[C; T]>,
    to_partial: [C; T],
    pre_sparse: Box<[[C; T]; T]>,
    partial: Vec<PartialBlock<T>>,
    second_half: Vec<[C; T]>,
    mds: Box<[[C; T]; T]>,
    /// Row 1 of the MDS matrix: the last mix is only needed for the output.
    out_row: [C; T],
}

impl<const T: usize> X8<T> {
    /// The constants of `fast`, whose domain tag is `tag`.
    pub(crate) fn new(fast: &Fast<T>, tag: Fr) -> Self {
        let m = Mont::new();
        let first0 = fast.first.first().copied().unwrap_or_default();
        X8 {
            tag: m.one(tag + first0),
            first: m.row(&fast.first),
            first_half: fast.first_half.iter().map(|k| m.row(k)).collect(),
            to_partial: m.row(&fast.to_partial),
            pre_sparse: m.matrix(&fast.pre_sparse),
            partial: fast
                .partial
                .chunks(BLOCK)
                .map(|rounds| {
                    let mut b = PartialBlock {
                        len: rounds.len(),
                        keys: [[0; 5]; BLOCK],
                        rows: [[[0; 5]; T]; BLOCK],
                        cross: [[[0; 5]; BLOCK]; BLOCK],
                        cols: [[[0; 5]; T]; BLOCK],
                    };
                    for (s, r) in rounds.iter().enumerate() {
                        b.keys[s] = m.one(r.key);
                        b.rows[s] = m.row(&r.first_row);
                        b.cols[s] = m.row(&r.first_col);
                        for (earlier, e) in rounds.iter().take(s).enumerate() {
                            let g: Fr = (r.first_row.iter().zip(&e.first_col).skip(1))
                                .map(|(a, c)| *a * c)
                                .sum();
                            b.cross[s][earlier] = m.one(g);
                        }
                    }
                    b
                })
                .collect(),
            second_half: fast.second_half.iter().map(|k| m.row(k)).collect(),
            mds: m.matrix(&fast.mds),
            out_row: fast.mds.get(1).map_or([[0; 5]; T], |r| m.row(r)),
        }
    }

    /// The hashes of eight preimages: `preimage[j][k]` is element `j` of
    /// preimage `k`, as four little-endian limbs `< p` in `form`; the
    /// hashes come back in `form`, fully reduced. `None` if the CPU lacks
    /// AVX-512 IFMA, or if `preimage` does not hold `T - 1` elements or `T`
    /// is above [`MAX_WIDTH`].
    pub(crate) fn hash(
        &self,
        preimage: &[[[u64; 4]; LANES]],
        form: Form,
    ) -> Option<[[u64; 4]; LANES]> {
        if preimage.len() + 1 != T || !(2..=MAX_WIDTH).contains(&T) || !available() {
            return None;
        }
        // SAFETY: `hash_x8` needs AVX-512F and AVX-512 IFMA, checked just
        // above; nothing else.
        Some(unsafe { hash_x8(self, preimage, form) })
    }
}

type V = __m512i;

/// Eight lanes of one element: five normalized limbs.
#[derive(Clone, Copy)]
struct Fe([V; 5]);

/// An unreduced sum of products: limb `k` has weight `2^52k`.
type Wide = [V; 10];

#[inline]
#[target_feature(enable = "avx512f,avx512ifma")]
fn splat(c: u64) -> V {
    _mm512_set1_epi64(c as i64)
}

#[inline]
#[target_feature(enable = "avx512f,avx512ifma")]
fn splat5(c: &C) -> Fe {
    Fe([
        splat(c[0]),
        splat(c[1]),
        splat(c[2]),
        splat(c[3]),
        splat(c[4]),
    ])
}

#[inline]
#[target_feature(enable = "avx512f,avx512ifma")]
fn wide() -> Wide {
    [_mm512_setzero_si512(); 10]
}

/// `t += a·b`, schoolbook, without carries.
#[inline]
#[target_feature(enable = "avx512f,avx512ifma")]
fn mac(t: &mut Wide, a: &Fe, b: &Fe) {
    for i in 0..5 {
        for j in 0..5 {
            t[i + j] = _mm512_madd52lo_epu64(t[i + j], a.0[i], b.0[j]);
            t[i + j + 1] = _mm512_madd52hi_epu64(t[i + j + 1], a.0[i], b.0[j]);
        }
    }
}

/// `t += c·x` for a constant `c`.
#[inline]
#[target_feature(enable = "avx512f,avx512ifma")]
fn mac_c(t: &mut Wide, c: &C, x: &Fe) {
    mac(t, &splat5(c), x);
}

/// `t += x·R`: after [`reduce`], `x` is added to the result.
#[inline]
#[target_feature(enable = "avx512f,avx512ifma")]
fn add_high(t: &mut Wide, x: &Fe) {
    for j in 0..5 {
        t[5 + j] = _mm512_add_epi64(t[5 + j], x.0[j]);
    }
}

/// Montgomery reduction of `t` (see the module docs): `t/R mod p`, with
/// normalized limbs, below `t/R + p`.
#[inline]
#[target_feature(enable = "avx512f,avx512ifma")]
fn reduce(mut t: Wide) -> Fe {
    let zero = _mm512_setzero_si512();
    let n0 = splat(N0);
    let p = splat5(&P);
    for i in 0..5 {
        // Only t_i mod 2^52 matters: madd52lo reads the low 52 bits.
        let m = _mm512_madd52lo_epu64(zero, t[i], n0);
        for j in 0..5 {
            t[i + j] = _mm512_madd52lo_epu64(t[i + j], m, p.0[j]);
            t[i + j + 1] = _mm512_madd52hi_epu64(t[i + j + 1], m, p.0[j]);
        }
        // t_i is now a multiple of 2^52 (and non-negative: limbs 0..5 only
        // ever receive products and carries).
        t[i + 1] = _mm512_add_epi64(t[i + 1], _mm512_srli_epi64::<52>(t[i]));
    }
    // Limbs 5..10 may have had negative values added: signed carries.
    let mask = splat(MASK);
    for k in 5..9 {
        t[k + 1] = _mm512_add_epi64(t[k + 1], _mm512_srai_epi64::<52>(t[k]));
        t[k] = _mm512_and_si512(t[k], mask);
    }
    Fe([t[5], t[6], t[7], t[8], t[9]])
}

/// `a·a`, reduced: 15 distinct limb products instead of 25.
#[inline]
#[target_feature(enable = "avx512f,avx512ifma")]
fn sqr(a: &Fe) -> Fe {
    let mut t = wide();
    for i in 0..5 {
        for j in i + 1..5 {
            t[i + j] = _mm512_madd52lo_epu64(t[i + j], a.0[i], a.0[j]);
            t[i + j + 1] = _mm512_madd52hi_epu64(t[i + j + 1], a.0[i], a.0[j]);
        }
    }
    for limb in t.iter_mut() {
        *limb = _mm512_add_epi64(*limb, *limb);
    }
    for i in 0..5 {
        t[2 * i] = _mm512_madd52lo_epu64(t[2 * i], a.0[i], a.0[i]);
        t[2 * i + 1] = _mm512_madd52hi_epu64(t[2 * i + 1], a.0[i], a.0[i]);
    }
    reduce(t)
}

/// `x^5 + key`.
#[inline]
#[target_feature(enable = "avx512f,avx512ifma")]
fn pow5(x: &Fe, key: Option<&C>) -> Fe {
    let x4 = sqr(&sqr(x));
    let mut t = wide();
    mac(&mut t, &x4, x);
    if let Some(k) = key {
        add_high(&mut t, &splat5(k));
    }
    reduce(t)
}

/// `row · x`, one reduction.
#[inline]
#[target_feature(enable = "avx512f,avx512ifma")]
fn dot<const T: usize>(row: &[C; T], x: &[Fe; T]) -> Fe {
    let mut t = wide();
    for (c, xj) in row.iter().zip(x) {
        mac_c(&mut t, c, xj);
    }
    reduce(t)
}

/// S-boxes on every element, then the round's constants if any.
#[inline]
#[target_feature(enable = "avx512f,avx512ifma")]
fn sbox_all<const T: usize>(x: &mut [Fe; T], keys: Option<&[C; T]>) {
    match keys {
        Some(keys) => x
            .iter_mut()
            .zip(keys)
            .for_each(|(x, k)| *x = pow5(x, Some(k))),
        None => x.iter_mut().for_each(|x| *x = pow5(x, None)),
    }
}

/// `x <- A x`, `A` given as rows.
#[inline]
#[target_feature(enable = "avx512f,avx512ifma")]
fn mix<const T: usize>(x: &mut [Fe; T], rows: &[[C; T]; T]) {
    let mut out = *x;
    for (o, row) in out.iter_mut().zip(rows) {
        *o = dot(row, x);
    }
    *x = out;
}

/// Up to [`BLOCK`] partial rounds. The column updates are not applied
/// round by round: after `s` rounds `x_i` is `x_i + Σ_{s'<s} cols[s'][i]·y_s'`,
/// so round `s`'s new `x0` is
/// `rows[s][0]·y_s + Σ_i rows[s][i]·x_i + Σ_{s'<s} cross[s][s']·y_s'` with
/// the block's initial `x_i`, one reduction; the `x_i` are brought up to
/// date once, at the end of the block, one reduction each (instead of one
/// per round).
#[inline]
#[target_feature(enable = "avx512f,avx512ifma")]
fn partial_block<const T: usize>(x: &mut [Fe; T], b: &PartialBlock<T>) {
    let Some((x0, rest)) = x.split_first_mut() else {
        return;
    };
    let len = b.len.min(BLOCK);
    let mut y = [*x0; BLOCK];
    for s in 0..len {
        y[s] = pow5(x0, Some(&b.keys[s]));
        let mut t = wide();
        for (c, xi) in b.rows[s].iter().skip(1).zip(rest.iter()) {
            mac_c(&mut t, c, xi);
        }
        for (c, earlier) in b.cross[s].iter().zip(&y).take(s) {
            mac_c(&mut t, c, earlier);
        }
        mac_c(&mut t, &b.rows[s][0], &y[s]);
        *x0 = reduce(t);
    }
    let (two_p, top) = (splat5(&TWO_P), splat(TWO_P_TOP));
    for (i, xi) in rest.iter_mut().enumerate() {
        // x_i - 2p if x_i >= 2p (by its top limb): keeps x_i below 3.3p.
        let big = _mm512_cmpge_epu64_mask(xi.0[4], top);
        let mut t = wide();
        for (col, ys) in b.cols.iter().zip(&y).take(len) {
            mac_c(&mut t, &col[i + 1], ys);
        }
        for j in 0..5 {
            let lowered = _mm512_mask_sub_epi64(xi.0[j], big, xi.0[j], two_p.0[j]);
            t[5 + j] = _mm512_add_epi64(t[5 + j], lowered);
        }
        *xi = reduce(t);
    }
}

/// `v mod p` for `v < 2p`.
#[inline]
#[target_feature(enable = "avx512f,avx512ifma")]
fn canonical(v: &Fe) -> Fe {
    let mask = splat(MASK);
    let mut d = v.0;
    for (dj, pj) in d.iter_mut().zip(P) {
        *dj = _mm512_sub_epi64(*dj, splat(pj));
    }
    for j in 0..4 {
        d[j + 1] = _mm512_add_epi64(d[j + 1], _mm512_srai_epi64::<52>(d[j]));
        d[j] = _mm512_and_si512(d[j], mask);
    }
    // v - p >= 0 exactly when its signed top limb is.
    let ge = _mm512_cmpge_epi64_mask(d[4], _mm512_setzero_si512());
    let mut out = *v;
    for (o, dj) in out.0.iter_mut().zip(d) {
        *o = _mm512_mask_blend_epi64(ge, *o, dj);
    }
    out
}

/// Eight 256-bit integers (`< 2^256`) as five limb vectors.
#[inline]
#[target_feature(enable = "avx512f,avx512ifma")]
fn load(lanes: &[[u64; 4]; LANES]) -> Fe {
    let l = lanes.map(split);
    let limb = |j: usize| {
        let [a, b, c, d, e, f, g, h] = l.map(|x| x[j] as i64);
        _mm512_set_epi64(h, g, f, e, d, c, b, a)
    };
    Fe([limb(0), limb(1), limb(2), limb(3), limb(4)])
}

/// Five normalized limb vectors of values `< 2^256` as eight integers.
#[inline]
#[target_feature(enable = "avx512f,avx512ifma")]
fn store(x: &Fe) -> [[u64; 4]; LANES] {
    let mut limbs = [[0u64; LANES]; 5];
    for (dst, v) in limbs.iter_mut().zip(&x.0) {
        // SAFETY: `dst` is 64 writable bytes; the store is unaligned.
        unsafe { _mm512_storeu_epi64(dst.as_mut_ptr().cast::<i64>(), *v) };
    }
    let mut out = [[0u64; 4]; LANES];
    for (k, o) in out.iter_mut().enumerate() {
        *o = join([
            limbs[0][k],
            limbs[1][k],
            limbs[2][k],
            limbs[3][k],
            limbs[4][k],
        ]);
    }
    out
}

/// The permutation after the first constants are added, up to the output
/// element (the last mix computes only row 1).
#[target_feature(enable = "avx512f,avx512ifma")]
fn permute<const T: usize>(c: &X8<T>, x: &mut [Fe; T]) -> Fe {
    for keys in &c.first_half {
        sbox_all(x, Some(keys));
        mix(x, &c.mds);
    }
    sbox_all(x, Some(&c.to_partial));
    mix(x, &c.pre_sparse);
    for block in &c.partial {
        partial_block(x, block);
    }
    for keys in &c.second_half {
        sbox_all(x, Some(keys));
        mix(x, &c.mds);
    }
    sbox_all(x, None);
    dot(&c.out_row, x)
}

#[target_feature(enable = "avx512f,avx512ifma")]
fn hash_x8<const T: usize>(
    c: &X8<T>,
    preimage: &[[[u64; 4]; LANES]],
    form: Form,
) -> [[u64; 4]; LANES] {
    let (into, out_of) = match form {
        Form::Canonical => (&FROM_CANONICAL, &TO_CANONICAL),
        Form::Ark => (&FROM_ARK, &TO_ARK),
    };
    let mut x = [splat5(&c.tag); T];
    for ((xi, lanes), first) in x
        .iter_mut()
        .skip(1)
        .zip(preimage)
        .zip(c.first.iter().skip(1))
    {
        let mut t = wide();
        mac_c(&mut t, into, &load(lanes));
        add_high(&mut t, &splat5(first));
        *xi = reduce(t);
    }
    let y = permute(c, &mut x);
    let mut t = wide();
    mac_c(&mut t, out_of, &y);
    store(&canonical(&reduce(t)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_ff::{BigInt, BigInteger, One};

    #[test]
    fn limb_constants() {
        let p = Fr::MODULUS;
        assert_eq!(join(P), p.0);
        assert_eq!(split(p.0), P);
        let mut two_p = p;
        assert!(!two_p.mul2(), "2p < 2^256");
        assert_eq!(join(TWO_P), two_p.0);
        assert!(P.iter().chain(&TWO_P).all(|l| *l <= MASK));
        assert_eq!(TWO_P_TOP, TWO_P[4] + 1, "2p is not a multiple of 2^208");
        // N0 * p == -1 mod 2^52.
        assert_eq!(N0.wrapping_mul(P[0]) & MASK, MASK);
        // The conversion factors, from arkworks.
        let two = Fr::from(2u64);
        let canon = |x: Fr| split(x.into_bigint().0);
        assert_eq!(FROM_CANONICAL, canon(two.pow([520])));
        assert_eq!(FROM_ARK, canon(two.pow([264])));
        assert_eq!(TO_ARK, canon(two.pow([256])));
        assert_eq!(TO_CANONICAL, canon(Fr::one()));
        // arkworks' Montgomery form is x·2^256: the premise of `Form::Ark`.
        assert_eq!(Fr::one().0, BigInt(join(TO_ARK)));
        assert_eq!(join(split([u64::MAX; 4])), [u64::MAX; 4]);
    }
}

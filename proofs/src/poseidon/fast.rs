//! The fast form of the permutation: the same function as
//! [`reference`](super::reference), with fewer multiplications, as neptune's
//! `HashMode::OptimizedStatic` computes it.
//!
//! Two rewrites, both exact (column-vector convention, mix `x <- M x`):
//!
//! 1. **Compressed round constants.** Adding `k` after a mix equals adding
//!    `M^-1 k` before it. So every round's constants move back past the
//!    previous mix, to just after the previous S-boxes. In the partial
//!    rounds only `x[0]` passes an S-box; the other elements of each
//!    constant vector move on back through the linear layer, and what is
//!    left per partial round is one scalar added to `x[0]` after its S-box.
//!    All of them fold into one vector added after the last S-boxes of the
//!    first full half. `R_F * t + R_P` constants in all, where the plain
//!    form has `(R_F + R_P) * t`.
//! 2. **Sparse matrices in partial rounds.** Factor `M = S D` with
//!    `D = diag(1, M^)` (`M^` the lower-right minor) and `S` the identity
//!    except its first row and first column. `D` leaves `x[0]` alone, so it
//!    commutes with the partial S-box and the scalar constant and moves back
//!    into the previous round's matrix, which is factored in turn. Each
//!    partial round then costs `2t - 1` multiplications for its mix instead
//!    of `t^2`; the last first-half full round mixes with the accumulated
//!    dense matrix `D_{R_P} M`.
//!
//! The derived values equal neptune 11's `compressed_round_constants`,
//! `pre_sparse_matrix` and `sparse_matrixes` (transposed, since neptune
//! multiplies row vectors); the tests pin their digests to neptune's.
//!
//! The permutation works on `[Fr; T]` arrays: no allocation and no bounds
//! checks per hash. The `ifma` module (x86_64) runs the same steps, with the same
//! constants, on eight states at once.

use ark_ff::{AdditiveGroup, Zero};

use super::PoseidonConstants;
use super::matrix::{self, Matrix};
use super::reference::pow5;
use crate::field::Fr;

/// One partial round's post-S-box constant and sparse mix `S`.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct PartialRound<const T: usize> {
    /// Added to `x[0]` after its S-box.
    pub(super) key: Fr,
    /// The first row of `S` (`S[0][0]` included).
    pub(super) first_row: [Fr; T],
    /// The first column of `S`; element 0 is unused (zero).
    pub(super) first_col: [Fr; T],
}

/// The fast form's constants for width `T`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Fast<const T: usize> {
    /// Added before the first S-boxes (round 0's constants, unchanged).
    pub(super) first: [Fr; T],
    /// Added after the S-boxes of the first `R_F / 2 - 1` full rounds.
    pub(super) first_half: Vec<[Fr; T]>,
    /// Added after the S-boxes of the last first-half full round: all
    /// partial-round constants, folded.
    pub(super) to_partial: [Fr; T],
    /// The dense mix of the last first-half full round, as rows.
    pub(super) pre_sparse: Box<[[Fr; T]; T]>,
    pub(super) partial: Vec<PartialRound<T>>,
    /// Added after the S-boxes of the second-half full rounds but the last.
    pub(super) second_half: Vec<[Fr; T]>,
    /// The MDS matrix, as rows.
    pub(super) mds: Box<[[Fr; T]; T]>,
}

fn array<const T: usize>(v: &[Fr]) -> Option<[Fr; T]> {
    v.try_into().ok()
}

fn square<const T: usize>(m: &Matrix) -> Option<Box<[[Fr; T]; T]>> {
    let rows: Option<Box<[[Fr; T]]>> = m.iter().map(|row| array(row)).collect();
    rows?.try_into().ok()
}

impl<const T: usize> Fast<T> {
    /// Derives the fast form from the plain constants; `None` if their
    /// width is not `T` or a matrix that must be invertible is not (neither
    /// happens for neptune's constants, which the tests check per arity).
    pub(crate) fn derive(c: &PoseidonConstants) -> Option<Self> {
        if c.width() != T {
            return None;
        }
        let half = c.half_full_rounds();
        let rp = c.partial_rounds();
        let last = c.rounds() - 1;
        let m: Matrix = c.mds().to_vec();
        let m_inv = matrix::invert(&m)?;
        let keys = |round: usize| c.round_constants_for(round);
        let before_mix = |k: &[Fr]| array::<T>(&matrix::mul_vec(&m_inv, k));

        let first = array(keys(0)?)?;
        let first_half = (1..half)
            .map(|r| before_mix(keys(r)?))
            .collect::<Option<Vec<_>>>()?;

        // Fold the constants of the first second-half round back through
        // the partial rounds, last partial round first.
        let mut acc: Vec<Fr> = keys(half + rp)?.to_vec();
        let mut partial_keys = Vec::with_capacity(rp);
        for round in (half..half + rp).rev() {
            let mut moved = matrix::mul_vec(&m_inv, &acc);
            let first = moved.first_mut()?;
            partial_keys.push(*first);
            *first = Fr::zero();
            acc = keys(round)?
                .iter()
                .zip(&moved)
                .map(|(k, x)| *k + x)
                .collect();
        }
        partial_keys.reverse();
        let to_partial = before_mix(&acc)?;

        let second_half = (half + rp + 1..=last)
            .map(|r| before_mix(keys(r)?))
            .collect::<Option<Vec<_>>>()?;

        // Factor the partial rounds' mixes, last partial round first:
        // curr = S D, then the previous round mixes with D M.
        let mut curr = m.clone();
        let mut sparse = Vec::with_capacity(rp);
        for _ in 0..rp {
            let (row0, rest) = curr.split_first()?;
            let (c00, v) = row0.split_first()?;
            let w: Vec<Fr> = rest
                .iter()
                .map(|r| r.first().copied())
                .collect::<Option<_>>()?;
            let m_hat = matrix::minor(&curr, 0, 0);
            let s_row = matrix::vec_mul(v, &matrix::invert(&m_hat)?);
            let mut first_row = [Fr::zero(); T];
            let mut first_col = [Fr::zero(); T];
            for (dst, src) in first_row.iter_mut().zip(std::iter::once(c00).chain(&s_row)) {
                *dst = *src;
            }
            for (dst, src) in first_col.iter_mut().skip(1).zip(&w) {
                *dst = *src;
            }
            sparse.push((first_row, first_col));
            let mut d = matrix::identity(T);
            for (d_row, m_row) in d.iter_mut().zip(&curr).skip(1) {
                for (x, y) in d_row.iter_mut().zip(m_row).skip(1) {
                    *x = *y;
                }
            }
            curr = matrix::mul(&d, &m);
        }
        sparse.reverse();

        let partial = partial_keys
            .into_iter()
            .zip(sparse)
            .map(|(key, (first_row, first_col))| PartialRound {
                key,
                first_row,
                first_col,
            })
            .collect();

        Some(Fast {
            first,
            first_half,
            to_partial,
            pre_sparse: square(&curr)?,
            partial,
            second_half,
            mds: square(&m)?,
        })
    }

    /// The permutation.
    #[inline]
    pub(crate) fn permute(&self, x: &mut [Fr; T]) {
        add(x, &self.first);
        for keys in &self.first_half {
            sbox_all(x);
            add(x, keys);
            mix(x, &self.mds);
        }
        sbox_all(x);
        add(x, &self.to_partial);
        mix(x, &self.pre_sparse);
        for round in &self.partial {
            partial_round(x, round);
        }
        for keys in &self.second_half {
            sbox_all(x);
            add(x, keys);
            mix(x, &self.mds);
        }
        sbox_all(x);
        mix(x, &self.mds);
    }

    /// neptune's `compressed_round_constants`, in its order of use.
    #[cfg(test)]
    pub(crate) fn compressed_round_constants(&self) -> Vec<Fr> {
        let mut out = self.first.to_vec();
        self.first_half.iter().for_each(|k| out.extend(k));
        out.extend(self.to_partial);
        out.extend(self.partial.iter().map(|p| p.key));
        self.second_half.iter().for_each(|k| out.extend(k));
        out
    }

    /// neptune's `pre_sparse_matrix` (row-vector form: our transpose), row
    /// by row.
    #[cfg(test)]
    pub(crate) fn neptune_pre_sparse(&self) -> Vec<Fr> {
        (0..T)
            .flat_map(|j| self.pre_sparse.iter().map(move |row| row[j]))
            .collect()
    }

    /// neptune's `sparse_matrixes` as `w_hat` then `v_rest` for each, in
    /// order of use.
    #[cfg(test)]
    pub(crate) fn neptune_sparse(&self) -> Vec<Fr> {
        self.partial
            .iter()
            .flat_map(|p| {
                p.first_row
                    .iter()
                    .chain(p.first_col.iter().skip(1))
                    .copied()
            })
            .collect()
    }
}

#[inline(always)]
fn add<const T: usize>(x: &mut [Fr; T], keys: &[Fr; T]) {
    x.iter_mut().zip(keys).for_each(|(x, k)| *x += k);
}

#[inline(always)]
fn sbox_all<const T: usize>(x: &mut [Fr; T]) {
    x.iter_mut().for_each(|x| *x = pow5(*x));
}

#[inline(always)]
fn dot<const T: usize>(a: &[Fr; T], b: &[Fr; T]) -> Fr {
    let mut acc = Fr::ZERO;
    for (a, b) in a.iter().zip(b) {
        acc += *a * b;
    }
    acc
}

/// `x <- A x`, `A` given as rows.
#[inline(always)]
fn mix<const T: usize>(x: &mut [Fr; T], rows: &[[Fr; T]; T]) {
    let mut out = [Fr::ZERO; T];
    for (o, row) in out.iter_mut().zip(rows) {
        *o = dot(row, x);
    }
    *x = out;
}

#[inline(always)]
fn partial_round<const T: usize>(x: &mut [Fr; T], round: &PartialRound<T>) {
    if let Some(x0) = x.first_mut() {
        *x0 = pow5(*x0) + round.key;
    }
    let new0 = dot(&round.first_row, x);
    if let Some((x0, rest)) = x.split_first_mut() {
        for (xi, ci) in rest.iter_mut().zip(round.first_col.iter().skip(1)) {
            *xi += *ci * *x0;
        }
        *x0 = new0;
    }
}

//! Dense square matrices over `Fr`, for deriving the fast form's constants
//! once per arity. Not on any hashing path; sizes are fixed by the arity,
//! never by outside input.
// Indices here range over the matrix's own dimensions, checked square on
// entry; no index comes from outside input.
#![allow(clippy::indexing_slicing)]

use ark_ff::{Field, Zero};

use crate::field::Fr;

/// Rows of columns: `m[i][j]` is row `i`, column `j`.
pub(crate) type Matrix = Vec<Vec<Fr>>;

fn is_square(m: &Matrix) -> bool {
    m.iter().all(|row| row.len() == m.len())
}

pub(crate) fn identity(n: usize) -> Matrix {
    (0..n)
        .map(|i| {
            (0..n)
                .map(|j| if i == j { Fr::ONE } else { Fr::zero() })
                .collect()
        })
        .collect()
}

pub(crate) fn transpose(m: &Matrix) -> Matrix {
    (0..m.len())
        .map(|j| m.iter().map(|row| row[j]).collect())
        .collect()
}

/// `a * b`.
pub(crate) fn mul(a: &Matrix, b: &Matrix) -> Matrix {
    debug_assert!(is_square(a) && is_square(b) && a.len() == b.len());
    let bt = transpose(b);
    a.iter()
        .map(|row| bt.iter().map(|col| dot(row, col)).collect())
        .collect()
}

/// `m * v`, with `v` a column vector.
pub(crate) fn mul_vec(m: &Matrix, v: &[Fr]) -> Vec<Fr> {
    m.iter().map(|row| dot(row, v)).collect()
}

/// `v * m`, with `v` a row vector.
pub(crate) fn vec_mul(v: &[Fr], m: &Matrix) -> Vec<Fr> {
    mul_vec(&transpose(m), v)
}

pub(crate) fn dot(a: &[Fr], b: &[Fr]) -> Fr {
    a.iter().zip(b).map(|(x, y)| *x * y).sum()
}

/// `m` without row `i` and column `j`.
pub(crate) fn minor(m: &Matrix, i: usize, j: usize) -> Matrix {
    m.iter()
        .enumerate()
        .filter(|&(r, _)| r != i)
        .map(|(_, row)| {
            row.iter()
                .enumerate()
                .filter(|&(c, _)| c != j)
                .map(|(_, x)| *x)
                .collect()
        })
        .collect()
}

/// The inverse by Gauss-Jordan elimination; `None` if `m` is singular or
/// not square.
pub(crate) fn invert(m: &Matrix) -> Option<Matrix> {
    if !is_square(m) {
        return None;
    }
    let n = m.len();
    let mut a = m.clone();
    let mut inv = identity(n);
    for col in 0..n {
        let pivot = (col..n).find(|&r| !a[r][col].is_zero())?;
        a.swap(col, pivot);
        inv.swap(col, pivot);
        let scale = a[col][col].inverse()?;
        a[col].iter_mut().for_each(|x| *x *= scale);
        inv[col].iter_mut().for_each(|x| *x *= scale);
        for r in 0..n {
            let factor = a[r][col];
            if r == col || factor.is_zero() {
                continue;
            }
            for c in 0..n {
                let (p, q) = (a[col][c], inv[col][c]);
                a[r][c] -= factor * p;
                inv[r][c] -= factor * q;
            }
        }
    }
    Some(inv)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small(rows: &[&[u64]]) -> Matrix {
        rows.iter()
            .map(|r| r.iter().map(|&x| Fr::from(x)).collect())
            .collect()
    }

    #[test]
    fn inverse_times_matrix_is_identity() {
        // A zero on the diagonal forces a row swap.
        let m = small(&[&[0, 2, 1], &[1, 1, 0], &[3, 0, 5]]);
        let inv = invert(&m).unwrap();
        assert_eq!(mul(&m, &inv), identity(3));
        assert_eq!(mul(&inv, &m), identity(3));
    }

    #[test]
    fn singular_and_non_square_have_no_inverse() {
        assert_eq!(invert(&small(&[&[1, 2], &[2, 4]])), None);
        assert_eq!(invert(&small(&[&[1, 2]])), None);
    }

    #[test]
    fn products_and_minor() {
        let m = small(&[&[1, 2], &[3, 4]]);
        let v = [Fr::from(5u64), Fr::from(6u64)];
        assert_eq!(mul_vec(&m, &v), vec![Fr::from(17u64), Fr::from(39u64)]);
        assert_eq!(vec_mul(&v, &m), vec![Fr::from(23u64), Fr::from(34u64)]);
        assert_eq!(minor(&m, 0, 1), small(&[&[3]]));
    }
}

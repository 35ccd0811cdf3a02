//! The permutation exactly as defined, one round at a time: the yardstick
//! the fast form is tested against, and the shape a circuit follows.
//!
//! Column-vector convention: the state `x` is mixed as `M x`. neptune
//! computes `x M`; the MDS matrix is symmetric, so the two agree.

use ark_ff::Field;

use super::{PoseidonConstants, PoseidonError};
use crate::field::Fr;

/// Applies the Poseidon permutation for `constants` to `state` (of
/// `constants.width()` elements).
pub fn permute(constants: &PoseidonConstants, state: &mut [Fr]) -> Result<(), PoseidonError> {
    let t = constants.width();
    if state.len() != t {
        return Err(PoseidonError::WrongWidth {
            width: t,
            len: state.len(),
        });
    }
    let half = constants.half_full_rounds();
    let partial_end = half + constants.partial_rounds();
    for (round, keys) in constants.round_constants().chunks_exact(t).enumerate() {
        state.iter_mut().zip(keys).for_each(|(x, k)| *x += k);
        let full = round < half || round >= partial_end;
        let sboxed = if full { t } else { 1 };
        state.iter_mut().take(sboxed).for_each(|x| *x = pow5(*x));
        let mixed: Vec<Fr> = constants
            .mds()
            .iter()
            .map(|row| row.iter().zip(state.iter()).map(|(m, x)| *m * x).sum())
            .collect();
        state.copy_from_slice(&mixed);
    }
    Ok(())
}

/// The hash of `preimage` (exactly `constants.arity()` elements): the
/// permutation of `[domain tag, preimage..]`, element 1.
pub fn hash(constants: &PoseidonConstants, preimage: &[Fr]) -> Result<Fr, PoseidonError> {
    if preimage.len() != constants.arity().get() {
        return Err(PoseidonError::WrongPreimageLength {
            arity: constants.arity().get(),
            len: preimage.len(),
        });
    }
    let mut state = Vec::with_capacity(constants.width());
    state.push(constants.domain_tag());
    state.extend_from_slice(preimage);
    permute(constants, &mut state)?;
    state.get(1).copied().ok_or(PoseidonError::WrongWidth {
        width: constants.width(),
        len: state.len(),
    })
}

/// `x^5`, the S-box.
pub(crate) fn pow5(x: Fr) -> Fr {
    let x2 = x.square();
    x2.square() * x
}

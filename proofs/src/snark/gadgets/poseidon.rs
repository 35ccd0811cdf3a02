//! Poseidon in R1CS, with exactly the constants the native hashing uses
//! ([`crate::poseidon::constants`]), following
//! [`crate::poseidon::reference::permute`] round by round.
//!
//! Each S-box `x⁵` costs three constraints (x², x⁴, x⁵); an S-box of a
//! constant (the domain tag's element in the first round) folds away.
//! Linear layers cost nothing. In the partial rounds only element 0 is
//! S-boxed, so naively every other element would grow into a linear
//! combination over all the round's variables and the mixes would cost
//! `t² ×` that per round. Instead the partial block is computed once per
//! arity symbolically ([`PartialBlock`]): each S-box input, and the state
//! after the block, as fixed coefficients over the block's inputs and the
//! S-box outputs so far. A hash then only instantiates those
//! coefficients.

// Indices here run over fixed shapes (32-bit words, the 64-word schedule,
// a Poseidon width, a level's children) and are bounded by construction;
// no index comes from outside bytes.
#![allow(clippy::indexing_slicing)]

use std::sync::OnceLock;

use ark_ff::{Field, Zero};

use super::super::cs::{ConstraintSystem, Lc, SynthesisError};
use super::bits::Num;
use crate::field::Fr;
use crate::poseidon::{self, Arity, PoseidonConstants};

/// The partial rounds as coefficients over the basis
/// `[1, s_0 .. s_{t-1}, p_0 .. p_{R_P - 1}]`, where `s` is the state
/// entering the block and `p_r` the S-box output of partial round `r`.
#[derive(Debug)]
struct PartialBlock {
    /// Per partial round, the S-box input (over the first `1 + t + r`
    /// basis elements).
    sbox_inputs: Vec<Vec<Fr>>,
    /// The state after the block, per element (over the whole basis).
    outputs: Vec<Vec<Fr>>,
}

impl PartialBlock {
    fn compute(c: &PoseidonConstants) -> PartialBlock {
        let t = c.width();
        let half = c.half_full_rounds();
        let rp = c.partial_rounds();
        let n = 1 + t + rp;
        let unit = |k: usize| {
            let mut v = vec![Fr::zero(); n];
            v[k] = Fr::from(1u64);
            v
        };
        let mut state: Vec<Vec<Fr>> = (0..t).map(|i| unit(1 + i)).collect();
        let mut sbox_inputs = Vec::with_capacity(rp);
        let rcs = c.round_constants();
        for r in 0..rp {
            let round = half + r;
            for (i, s) in state.iter_mut().enumerate() {
                s[0] += rcs[round * t + i];
            }
            sbox_inputs.push(state[0][..1 + t + r].to_vec());
            state[0] = unit(1 + t + r);
            state = c
                .mds()
                .iter()
                .map(|row| {
                    let mut acc = vec![Fr::zero(); n];
                    for (m, s) in row.iter().zip(&state) {
                        for (a, x) in acc.iter_mut().zip(s) {
                            *a += *m * x;
                        }
                    }
                    acc
                })
                .collect();
        }
        PartialBlock {
            sbox_inputs,
            outputs: state,
        }
    }

    fn get(arity: Arity) -> &'static PartialBlock {
        static BLOCKS: [OnceLock<PartialBlock>; Arity::ALL.len()] =
            [const { OnceLock::new() }; Arity::ALL.len()];
        let i = Arity::ALL.iter().position(|a| *a == arity).unwrap_or(0);
        BLOCKS[i].get_or_init(|| PartialBlock::compute(poseidon::constants(arity)))
    }
}

/// `x⁵`: three constraints, none for a constant.
fn sbox<CS: ConstraintSystem>(cs: &mut CS, x: &Num) -> Result<Num, SynthesisError> {
    if let Some(k) = x.as_constant() {
        let k2 = k.square();
        return Ok(Num::constant(k2.square() * k));
    }
    let x2 = x.square(cs)?;
    let x4 = x2.square(cs)?;
    x4.mul(cs, x)
}

/// `Σ coeffs[k] · basis[k]`.
fn combine(coeffs: &[Fr], basis: &[Num]) -> Num {
    let mut lc = Lc::zero();
    let mut value = Some(Fr::zero());
    for (k, b) in coeffs.iter().zip(basis) {
        if k.is_zero() {
            continue;
        }
        lc = lc.add_lc(*k, b.lc());
        value = value.zip(b.value()).map(|(v, x)| v + *k * x);
    }
    Num::from_lc(lc.compact(), value)
}

fn full_round<CS: ConstraintSystem>(
    cs: &mut CS,
    c: &PoseidonConstants,
    round: usize,
    state: &[Num],
) -> Result<Vec<Num>, SynthesisError> {
    let t = c.width();
    let mut boxed = Vec::with_capacity(t);
    for (i, x) in state.iter().enumerate() {
        let rc = Num::constant(c.round_constants()[round * t + i]);
        boxed.push(sbox(cs, &x.add(&rc))?);
    }
    Ok(c.mds().iter().map(|row| combine(row, &boxed)).collect())
}

/// The Poseidon hash of `preimage` (exactly `arity` elements), as the
/// native [`crate::poseidon::hash`] computes it. The result is a linear
/// combination; callers that need it many times may allocate it.
pub fn hash<CS: ConstraintSystem>(
    cs: &mut CS,
    arity: Arity,
    preimage: &[Num],
) -> Result<Num, SynthesisError> {
    let c = poseidon::constants(arity);
    let t = c.width();
    if preimage.len() != arity.get() {
        return Err(SynthesisError::Malformed(format!(
            "Poseidon arity {} given {} elements",
            arity.get(),
            preimage.len()
        )));
    }
    let mut state: Vec<Num> = std::iter::once(Num::constant(c.domain_tag()))
        .chain(preimage.iter().cloned())
        .collect();
    let half = c.half_full_rounds();
    for round in 0..half {
        state = full_round(cs, c, round, &state)?;
    }
    let block = PartialBlock::get(arity);
    let mut basis: Vec<Num> = std::iter::once(Num::constant(Fr::from(1u64)))
        .chain(state.iter().cloned())
        .collect();
    for input in &block.sbox_inputs {
        let x = combine(input, &basis);
        basis.push(sbox(cs, &x)?);
    }
    state = block.outputs.iter().map(|o| combine(o, &basis)).collect();
    for round in half + c.partial_rounds()..2 * half + c.partial_rounds() {
        state = full_round(cs, c, round, &state)?;
    }
    debug_assert_eq!(state.len(), t);
    state
        .into_iter()
        .nth(1)
        .ok_or_else(|| SynthesisError::Malformed("Poseidon state".into()))
}

#[cfg(test)]
mod tests {
    use super::super::super::cs::{Counter, TestCs};
    use super::*;

    #[test]
    fn matches_the_native_hash() {
        for arity in [Arity::A2, Arity::A8, Arity::A11] {
            let pre: Vec<Fr> = (0..arity.get() as u64)
                .map(|i| Fr::from(i * 1_000_003 + 17).square())
                .collect();
            let mut cs = TestCs::new();
            let nums: Vec<Num> = pre
                .iter()
                .map(|x| Num::alloc(&mut cs, Some(*x)).unwrap())
                .collect();
            let out = hash(&mut cs, arity, &nums).unwrap();
            assert_eq!(
                out.value(),
                Some(poseidon::hash(&pre).unwrap()),
                "arity {}",
                arity.get()
            );
            // The combination evaluates to the same value.
            assert_eq!(
                out.lc().eval(&cs.values.inputs, &cs.values.aux),
                out.value()
            );
            assert!(cs.is_satisfied());
            cs.values.aux[3] += Fr::from(1u64);
            assert!(!cs.is_satisfied());
        }
    }

    /// Pinned sizes: 3 per S-box, the first round's element 0 folded.
    #[test]
    fn sizes() {
        let mut got = Vec::new();
        for arity in [Arity::A2, Arity::A8, Arity::A11] {
            let mut cs = Counter::default();
            let nums: Vec<Num> = (0..arity.get())
                .map(|_| Num::alloc(&mut cs, None).unwrap())
                .collect();
            let before = cs.constraints;
            hash(&mut cs, arity, &nums).unwrap();
            let c = poseidon::constants(arity);
            let want = 3 * (c.width() * 2 * c.half_full_rounds() + c.partial_rounds() - 1);
            assert_eq!(cs.constraints - before, want);
            got.push(cs.constraints - before);
        }
        assert_eq!(got, vec![234, 384, 456]);
    }
}

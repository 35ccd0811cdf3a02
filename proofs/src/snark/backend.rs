//! The prover backend seam: the heavy, data-parallel arithmetic of Groth16
//! (multi-scalar multiplications in G1 and G2, FFTs over the evaluation
//! domain) behind one trait, so a GPU implementation slots in without
//! touching circuits or the prover's logic. [`CpuBackend`] is the
//! multi-threaded CPU implementation on arkworks (its MSM skips zero
//! scalars and adds unit scalars once, which is most of the PoRep
//! witness: bits).

use ark_bls12_381::{G1Affine, G1Projective, G2Affine, G2Projective};
use ark_ec::VariableBaseMSM;
use ark_poly::{EvaluationDomain, Radix2EvaluationDomain};

use crate::field::Fr;

/// The Groth16 evaluation domain.
pub type Domain = Radix2EvaluationDomain<Fr>;

/// What the Groth16 prover delegates.
pub trait ProverBackend: Send + Sync + std::fmt::Debug {
    /// A short name for logs and benchmarks.
    fn name(&self) -> &'static str;
    /// `Σ scalars[i] · bases[i]` in G1 (equal lengths).
    fn msm_g1(&self, bases: &[G1Affine], scalars: &[Fr]) -> G1Projective;
    /// `Σ scalars[i] · bases[i]` in G2 (equal lengths).
    fn msm_g2(&self, bases: &[G2Affine], scalars: &[Fr]) -> G2Projective;
    /// Evaluations over `domain` to coefficients, in place.
    fn ifft(&self, domain: &Domain, values: &mut Vec<Fr>);
    /// Coefficients to evaluations over `domain`'s coset, in place.
    fn coset_fft(&self, domain: &Domain, values: &mut Vec<Fr>);
    /// Evaluations over `domain`'s coset to coefficients, in place.
    fn coset_ifft(&self, domain: &Domain, values: &mut Vec<Fr>);
}

/// arkworks on every core.
#[derive(Debug, Clone, Copy, Default)]
pub struct CpuBackend;

/// The coset [`ProverBackend::coset_fft`] uses: the domain shifted by the
/// field's multiplicative generator.
pub fn coset(domain: &Domain) -> Domain {
    domain.get_coset(Fr::from(7u64)).unwrap_or(*domain)
}

impl ProverBackend for CpuBackend {
    fn name(&self) -> &'static str {
        "cpu"
    }

    fn msm_g1(&self, bases: &[G1Affine], scalars: &[Fr]) -> G1Projective {
        // msm_unchecked uses the shorter of the two.
        G1Projective::msm_unchecked(bases, scalars)
    }

    fn msm_g2(&self, bases: &[G2Affine], scalars: &[Fr]) -> G2Projective {
        G2Projective::msm_unchecked(bases, scalars)
    }

    fn ifft(&self, domain: &Domain, values: &mut Vec<Fr>) {
        domain.ifft_in_place(values);
    }

    fn coset_fft(&self, domain: &Domain, values: &mut Vec<Fr>) {
        coset(domain).fft_in_place(values);
    }

    fn coset_ifft(&self, domain: &Domain, values: &mut Vec<Fr>) {
        coset(domain).ifft_in_place(values);
    }
}

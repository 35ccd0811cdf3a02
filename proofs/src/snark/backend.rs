//! The prover backend seam: the heavy, data-parallel arithmetic of Groth16
//! (multi-scalar multiplications in G1 and G2, FFTs over the evaluation
//! domain) and of PreCommit 2 (batched Poseidon over tree rows and label
//! columns) behind one trait, so a GPU implementation slots in without
//! touching circuits, the prover's logic or the sealing code. [`CpuBackend`] is the
//! multi-threaded CPU implementation: arkworks' MSM for the sparse and
//! small scalars (it skips zeros and adds units once, which is most of the
//! PoRep witness: bits) and our batch-affine Pippenger ([`super::msm`])
//! for the dense ones (the H query).

use ark_bls12_381::{G1Affine, G1Projective, G2Affine, G2Projective};
use ark_ec::VariableBaseMSM;
use ark_poly::{EvaluationDomain, Radix2EvaluationDomain};

use crate::field::Fr;
use crate::poseidon::{Arity, PoseidonError};

/// A tree node: a 32-byte little-endian field element.
pub type Node = [u8; 32];

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

    /// Poseidon parents of consecutive groups of `arity` nodes (a tree
    /// row): `out[k]` hashes `children[k * arity..(k + 1) * arity]`. A
    /// group with a non-canonical node gets `poison`; returns how many did.
    /// The default is the CPU's batch path (AVX-512 IFMA where present).
    fn poseidon_rows(
        &self,
        arity: Arity,
        children: &[Node],
        out: &mut [Node],
        poison: Node,
    ) -> Result<usize, PoseidonError> {
        crate::poseidon::hash_le_many(arity, children, out, poison)
    }

    /// Poseidon hashes of label columns: `rows` holds `out.len()` labels
    /// of layer 1, then as many of layer 2, and so on; `out[i]` hashes
    /// column `i`. Poisoning as in [`ProverBackend::poseidon_rows`].
    fn poseidon_columns(
        &self,
        rows: &[Node],
        out: &mut [Node],
        poison: Node,
    ) -> Result<usize, PoseidonError> {
        crate::poseidon::hash_column_le_many(rows, out, poison)
    }
}

/// Every core: arkworks, with [`super::msm`] for dense G1 MSMs.
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
        // Both use the shorter of the two.
        super::msm::msm_g1(bases, scalars)
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

//! Groth16 over BLS12-381: key generation, proving, verification.
//!
//! Keys, proofs and the verifier are `ark-groth16`'s (its types, its
//! canonical serialization, its pairing check). Key generation and proving
//! are ours, written against [`ConstraintSystem`] so that neither ever
//! materialises the constraint matrices: the generator evaluates every
//! constraint at the Lagrange basis of τ as it is enforced, and the prover
//! evaluates `⟨a,z⟩`, `⟨b,z⟩`, `⟨c,z⟩` as it is enforced (bellperson's
//! approach; `ark-groth16`'s own prover builds the matrices first). The
//! heavy arithmetic goes through a [`ProverBackend`].
//!
//! The QAP is the usual one (libsnark's reduction): constraints occupy the
//! first rows of the domain, then one row `x_i · 1 = …` per public input
//! (the constant one included), which makes the input polynomials
//! linearly independent, as soundness needs.

use ark_bls12_381::{Bls12_381, G1Affine, G1Projective, G2Affine, G2Projective};
use ark_ec::{AffineRepr, CurveGroup, PrimeGroup, scalar_mul::ScalarMul};
use ark_ff::{Field, One, UniformRand, Zero};
use ark_poly::EvaluationDomain;
use rand_chacha::rand_core::{CryptoRng, RngCore};

use super::backend::{Domain, ProverBackend, coset};
use super::cs::{Circuit, ConstraintSystem, Counter, Lc, SynthesisError, Variable};
use crate::field::Fr;

/// Groth16 proving key (with its verifying key).
pub type ProvingKey = ark_groth16::ProvingKey<Bls12_381>;
/// Groth16 verifying key.
pub type VerifyingKey = ark_groth16::VerifyingKey<Bls12_381>;
/// A verifying key with its pairing precomputed.
pub type PreparedVerifyingKey = ark_groth16::PreparedVerifyingKey<Bls12_381>;
/// A Groth16 proof: two G1 points and one G2 point.
pub type Proof = ark_groth16::Proof<Bls12_381>;

/// Why a key or proof could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Groth16Error {
    /// The circuit refused its witness or is malformed.
    #[error("synthesis: {0}")]
    Synthesis(#[from] SynthesisError),
    /// The circuit is larger than BLS12-381's 2^32 evaluation domain.
    #[error("{0} rows do not fit an evaluation domain")]
    TooLarge(usize),
    /// A proving key that does not belong to this circuit.
    #[error("the proving key is for another circuit: {0}")]
    WrongKey(String),
    /// The random γ or δ drawn for key generation was zero (probability
    /// 2^-254; draw again).
    #[error("key generation drew a zero γ or δ")]
    DegenerateToxicWaste,
}

/// The domain for a circuit of `constraints` constraints and `inputs`
/// public inputs (plus the constant one).
fn domain_for(constraints: usize, inputs: usize) -> Result<Domain, Groth16Error> {
    let rows = constraints + inputs + 1;
    Domain::new(rows).ok_or(Groth16Error::TooLarge(rows))
}

/// Accumulates, per variable, the QAP polynomials evaluated at τ.
struct KeyAssembly {
    lagrange: Vec<Fr>,
    row: usize,
    /// Per input (index 0 is `One`): u(τ), v(τ), w(τ).
    inputs: Vec<[Fr; 3]>,
    aux: Vec<[Fr; 3]>,
}

impl KeyAssembly {
    fn slot(&mut self, v: Variable) -> Option<&mut [Fr; 3]> {
        match v {
            Variable::One => self.inputs.get_mut(0),
            Variable::Input(i) => self.inputs.get_mut(i as usize + 1),
            Variable::Aux(i) => self.aux.get_mut(i as usize),
        }
    }
}

impl ConstraintSystem for KeyAssembly {
    fn needs_values(&self) -> bool {
        false
    }

    fn alloc(&mut self, _: Option<Fr>) -> Result<Variable, SynthesisError> {
        self.aux.push([Fr::zero(); 3]);
        Ok(Variable::Aux(self.aux.len() as u32 - 1))
    }

    fn alloc_input(&mut self, _: Option<Fr>) -> Result<Variable, SynthesisError> {
        self.inputs.push([Fr::zero(); 3]);
        Ok(Variable::Input(self.inputs.len() as u32 - 2))
    }

    fn enforce(&mut self, a: &Lc, b: &Lc, c: &Lc) {
        let l = self.lagrange.get(self.row).copied().unwrap_or_default();
        self.row += 1;
        for (k, lc) in [a, b, c].into_iter().enumerate() {
            for &(v, coeff) in lc.terms() {
                if let Some(x) = self.slot(v).and_then(|s| s.get_mut(k)) {
                    *x += coeff * l;
                }
            }
        }
    }
}

/// Generates Groth16 keys for `circuit` from `rng`'s toxic waste. For
/// development networks only: whoever knows the rng's seed can forge
/// proofs (see docs/ARCHITECTURE.md on a multi-party ceremony).
pub fn generate_keys<C: Circuit, R: RngCore + CryptoRng>(
    circuit: &C,
    rng: &mut R,
) -> Result<ProvingKey, Groth16Error> {
    let size = Counter::of(circuit)?;
    let domain = domain_for(size.constraints, size.inputs)?;
    let tau = Fr::rand(rng);
    let alpha = Fr::rand(rng);
    let beta = Fr::rand(rng);
    let gamma = Fr::rand(rng);
    let delta = Fr::rand(rng);

    let mut asm = KeyAssembly {
        lagrange: domain.evaluate_all_lagrange_coefficients(tau),
        row: 0,
        inputs: vec![[Fr::zero(); 3]],
        aux: Vec::with_capacity(size.aux),
    };
    circuit.synthesize(&mut asm)?;
    if asm.row != size.constraints || asm.inputs.len() != size.inputs + 1 {
        return Err(Groth16Error::WrongKey(
            "the circuit's shape changed between two syntheses".into(),
        ));
    }
    // The input rows: x_i · 1 = x_i ... only `a` carries them.
    for (i, s) in asm.inputs.iter_mut().enumerate() {
        s[0] += asm
            .lagrange
            .get(size.constraints + i)
            .copied()
            .unwrap_or_default();
    }
    let z_tau = domain.evaluate_vanishing_polynomial(tau);
    let gamma_inv = gamma.inverse().ok_or(Groth16Error::DegenerateToxicWaste)?;
    let delta_inv = delta.inverse().ok_or(Groth16Error::DegenerateToxicWaste)?;

    let all = asm.inputs.iter().chain(&asm.aux);
    let a: Vec<Fr> = all.clone().map(|s| s[0]).collect();
    let b: Vec<Fr> = all.map(|s| s[1]).collect();
    let abc = |s: &[Fr; 3], inv: Fr| (beta * s[0] + alpha * s[1] + s[2]) * inv;
    let gamma_abc: Vec<Fr> = asm.inputs.iter().map(|s| abc(s, gamma_inv)).collect();
    let l: Vec<Fr> = asm.aux.iter().map(|s| abc(s, delta_inv)).collect();
    let mut h = Vec::with_capacity(domain.size() - 1);
    let mut t = z_tau * delta_inv;
    for _ in 0..domain.size() - 1 {
        h.push(t);
        t *= tau;
    }

    let g1 = G1Projective::generator();
    let g2 = G2Projective::generator();
    let vk = VerifyingKey {
        alpha_g1: (g1 * alpha).into_affine(),
        beta_g2: (g2 * beta).into_affine(),
        gamma_g2: (g2 * gamma).into_affine(),
        delta_g2: (g2 * delta).into_affine(),
        gamma_abc_g1: g1.batch_mul(&gamma_abc),
    };
    Ok(ProvingKey {
        vk,
        beta_g1: (g1 * beta).into_affine(),
        delta_g1: (g1 * delta).into_affine(),
        a_query: g1.batch_mul(&a),
        b_g1_query: g1.batch_mul(&b),
        b_g2_query: g2.batch_mul(&b),
        h_query: g1.batch_mul(&h),
        l_query: g1.batch_mul(&l),
    })
}

/// Evaluates each constraint on the witness as it is enforced.
struct ProvingAssignment {
    inputs: Vec<Fr>,
    aux: Vec<Fr>,
    a: Vec<Fr>,
    b: Vec<Fr>,
    c: Vec<Fr>,
}

impl ProvingAssignment {
    fn eval(&self, lc: &Lc) -> Fr {
        let mut acc = Fr::zero();
        for &(v, coeff) in lc.terms() {
            let x = match v {
                Variable::One => Fr::one(),
                Variable::Input(i) => self.inputs.get(i as usize + 1).copied().unwrap_or_default(),
                Variable::Aux(i) => self.aux.get(i as usize).copied().unwrap_or_default(),
            };
            if coeff.is_one() {
                acc += x;
            } else {
                acc += coeff * x;
            }
        }
        acc
    }
}

impl ConstraintSystem for ProvingAssignment {
    fn needs_values(&self) -> bool {
        true
    }

    fn alloc(&mut self, value: Option<Fr>) -> Result<Variable, SynthesisError> {
        self.aux
            .push(value.ok_or(SynthesisError::AssignmentMissing)?);
        Ok(Variable::Aux(self.aux.len() as u32 - 1))
    }

    fn alloc_input(&mut self, value: Option<Fr>) -> Result<Variable, SynthesisError> {
        self.inputs
            .push(value.ok_or(SynthesisError::AssignmentMissing)?);
        Ok(Variable::Input(self.inputs.len() as u32 - 2))
    }

    fn enforce(&mut self, a: &Lc, b: &Lc, c: &Lc) {
        let (x, y, z) = (self.eval(a), self.eval(b), self.eval(c));
        self.a.push(x);
        self.b.push(y);
        self.c.push(z);
    }
}

/// Where the prover's time went, for `seal-bench`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ProveTimings {
    /// Witness generation (synthesis with evaluation).
    pub synthesis_s: f64,
    /// The seven FFTs of the quotient polynomial.
    pub fft_s: f64,
    /// The multi-scalar multiplications.
    pub msm_s: f64,
}

/// Proves `circuit` (which must carry its witness) with `pk`.
pub fn prove<C: Circuit, R: RngCore + CryptoRng>(
    circuit: &C,
    pk: &ProvingKey,
    backend: &dyn ProverBackend,
    rng: &mut R,
) -> Result<(Proof, ProveTimings), Groth16Error> {
    let t0 = std::time::Instant::now();
    let mut w = ProvingAssignment {
        inputs: vec![Fr::one()],
        aux: Vec::new(),
        a: Vec::new(),
        b: Vec::new(),
        c: Vec::new(),
    };
    circuit.synthesize(&mut w)?;
    let mut timings = ProveTimings {
        synthesis_s: t0.elapsed().as_secs_f64(),
        ..Default::default()
    };
    let m = w.a.len();
    let n_inputs = w.inputs.len();
    let domain = domain_for(m, n_inputs - 1)?;
    let vars = n_inputs + w.aux.len();
    if pk.a_query.len() != vars
        || pk.vk.gamma_abc_g1.len() != n_inputs
        || pk.l_query.len() != w.aux.len()
        || pk.h_query.len() != domain.size() - 1
    {
        return Err(Groth16Error::WrongKey(format!(
            "{vars} variables, {n_inputs} inputs, domain {}; key has {} / {} / {}",
            domain.size(),
            pk.a_query.len(),
            pk.vk.gamma_abc_g1.len(),
            pk.h_query.len()
        )));
    }

    let t1 = std::time::Instant::now();
    let ProvingAssignment {
        inputs,
        aux,
        mut a,
        mut b,
        mut c,
    } = w;
    a.extend_from_slice(&inputs);
    for v in [&mut a, &mut b, &mut c] {
        v.resize(domain.size(), Fr::zero());
        backend.ifft(&domain, v);
        backend.coset_fft(&domain, v);
    }
    // On the coset g·D, Z(x) = x^n - 1 is the constant g^n - 1 (never
    // zero for the field's generator; only a domain without a coset could
    // make it so).
    let z_inv = (coset(&domain).coset_offset_pow_size() - Fr::one())
        .inverse()
        .ok_or(Groth16Error::TooLarge(domain.size()))?;
    let mut h = a;
    for ((h, b), c) in h.iter_mut().zip(&b).zip(&c) {
        *h = (*h * b - c) * z_inv;
    }
    drop((b, c));
    backend.coset_ifft(&domain, &mut h);
    h.truncate(domain.size() - 1);
    timings.fft_s = t1.elapsed().as_secs_f64();

    let t2 = std::time::Instant::now();
    let z: Vec<Fr> = inputs.iter().chain(&aux).copied().collect();
    let r = Fr::rand(rng);
    let s = Fr::rand(rng);
    let delta_g1 = pk.delta_g1.into_group();
    let a_g1 = pk.vk.alpha_g1.into_group() + backend.msm_g1(&pk.a_query, &z) + delta_g1 * r;
    let b_g2 = pk.vk.beta_g2.into_group()
        + backend.msm_g2(&pk.b_g2_query, &z)
        + pk.vk.delta_g2.into_group() * s;
    let b_g1 = pk.beta_g1.into_group() + backend.msm_g1(&pk.b_g1_query, &z) + delta_g1 * s;
    let c_g1 =
        backend.msm_g1(&pk.l_query, &aux) + backend.msm_g1(&pk.h_query, &h) + a_g1 * s + b_g1 * r
            - delta_g1 * (r * s);
    timings.msm_s = t2.elapsed().as_secs_f64();
    let proof = Proof {
        a: a_g1.into_affine(),
        b: b_g2.into_affine(),
        c: c_g1.into_affine(),
    };
    Ok((proof, timings))
}

/// Prepares a verifying key (one pairing; do it once per key).
pub fn prepare(vk: &VerifyingKey) -> PreparedVerifyingKey {
    ark_groth16::prepare_verifying_key(vk)
}

/// Verifies `proof` for `public_inputs`: false for a wrong proof, wrong
/// inputs, or a wrong number of inputs (which `ark-groth16` alone would
/// not notice).
pub fn verify(pvk: &PreparedVerifyingKey, public_inputs: &[Fr], proof: &Proof) -> bool {
    if public_inputs.len() + 1 != pvk.vk.gamma_abc_g1.len() {
        return false;
    }
    ark_groth16::Groth16::<Bls12_381>::verify_proof(pvk, proof, public_inputs).unwrap_or(false)
}

/// Verifies many proofs under one key: true or false per proof, exactly
/// as [`verify`] would say.
///
/// The batch is checked at once with the usual random linear combination:
/// with a random 128-bit `r_i` per proof,
/// `Π e(r_i A_i, B_i) = e(α, β)^{Σ r_i} · e(Σ r_i IC_i, γ) · e(Σ r_i C_i, δ)`,
/// which costs `n + 2` Miller loops and one final exponentiation instead
/// of `3n` and `n`. The `r_i` are derived by hashing every proof and every
/// public input of the batch, so no prover can know them before its proof
/// is fixed. If the batch fails, each proof is verified alone, so only the
/// bad ones are refused.
pub fn verify_batch(pvk: &PreparedVerifyingKey, items: &[(&[Fr], &Proof)]) -> Vec<bool> {
    use ark_ec::VariableBaseMSM;
    use ark_ec::pairing::Pairing;
    use ark_ff::{BigInteger, PrimeField};
    use sha2::{Digest, Sha256};

    let n_inputs = pvk.vk.gamma_abc_g1.len();
    // Proofs with the wrong number of inputs are simply false.
    let batch: Vec<(usize, &[Fr], &Proof)> = items
        .iter()
        .enumerate()
        .filter(|(_, (x, _))| x.len() + 1 == n_inputs)
        .map(|(i, &(x, p))| (i, x, p))
        .collect();
    let mut out = vec![false; items.len()];
    let one_by_one = |out: &mut Vec<bool>| {
        for &(i, x, p) in &batch {
            if let Some(o) = out.get_mut(i) {
                *o = verify(pvk, x, p);
            }
        }
    };
    if batch.len() < 2 {
        one_by_one(&mut out);
        return out;
    }
    // Fiat-Shamir over the whole batch.
    let mut h = Sha256::new();
    h.update(b"cairn groth16 batch v1\0");
    for &(_, inputs, proof) in &batch {
        h.update(proof_to_bytes(proof));
        for x in inputs {
            h.update(x.into_bigint().to_bytes_le());
        }
    }
    let seed: [u8; 32] = h.finalize().into();
    let r: Vec<Fr> = (0..batch.len() as u64)
        .map(|j| {
            let d: [u8; 32] = Sha256::new()
                .chain_update(seed)
                .chain_update(j.to_le_bytes())
                .finalize()
                .into();
            Fr::from_le_bytes_mod_order(d.get(..16).unwrap_or_default())
        })
        .collect();
    let (first, rest) = match pvk.vk.gamma_abc_g1.split_first() {
        Some(x) => x,
        None => return out,
    };
    let ics: Vec<G1Affine> = batch
        .iter()
        .map(|&(_, x, _)| (first.into_group() + G1Projective::msm_unchecked(rest, x)).into_affine())
        .collect();
    let cs: Vec<G1Affine> = batch.iter().map(|&(_, _, p)| p.c).collect();
    let sum_ic = G1Projective::msm_unchecked(&ics, &r);
    let sum_c = G1Projective::msm_unchecked(&cs, &r);
    let mut g1: Vec<<Bls12_381 as Pairing>::G1Prepared> = Vec::with_capacity(batch.len() + 2);
    let mut g2: Vec<<Bls12_381 as Pairing>::G2Prepared> = Vec::with_capacity(batch.len() + 2);
    for (&(_, _, p), ri) in batch.iter().zip(&r) {
        g1.push((p.a * ri).into_affine().into());
        g2.push(p.b.into());
    }
    g1.push(sum_ic.into_affine().into());
    g2.push(pvk.gamma_g2_neg_pc.clone());
    g1.push(sum_c.into_affine().into());
    g2.push(pvk.delta_g2_neg_pc.clone());
    let lhs = Bls12_381::multi_miller_loop(g1, g2);
    let r_sum: Fr = r.iter().sum();
    let ok = Bls12_381::final_exponentiation(lhs)
        .is_some_and(|v| v.0 == pvk.alpha_g1_beta_g2.pow(r_sum.into_bigint()));
    if ok {
        for &(i, _, _) in &batch {
            if let Some(o) = out.get_mut(i) {
                *o = true;
            }
        }
    } else {
        one_by_one(&mut out);
    }
    out
}

/// Bytes of a compressed proof: 48 + 96 + 48.
pub const PROOF_BYTES: usize = 192;

/// A proof's canonical compressed bytes.
pub fn proof_to_bytes(proof: &Proof) -> [u8; PROOF_BYTES] {
    use ark_serialize::CanonicalSerialize;
    let mut out = [0u8; PROOF_BYTES];
    let mut w: &mut [u8] = &mut out;
    // Serializing into a buffer of exactly the compressed size cannot
    // fail.
    let _ = proof.a.serialize_compressed(&mut w);
    let _ = proof.b.serialize_compressed(&mut w);
    let _ = proof.c.serialize_compressed(&mut w);
    out
}

/// Why proof bytes were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProofBytesError {
    /// Not 192 bytes.
    #[error("a Groth16 proof is {PROOF_BYTES} bytes, got {0}")]
    Length(usize),
    /// A point that is not canonical, not on the curve, or not in the
    /// prime-order subgroup.
    #[error("proof point {0} is invalid (not canonical, off the curve or outside the subgroup)")]
    Point(&'static str),
    /// Decodable, but not the canonical encoding of what it decodes to.
    #[error("proof bytes are not the canonical encoding")]
    NotCanonical,
}

/// Parses compressed proof bytes, checking every point is canonical, on
/// the curve and in the prime-order subgroup.
pub fn proof_from_bytes(bytes: &[u8]) -> Result<Proof, ProofBytesError> {
    use ark_serialize::CanonicalDeserialize;
    if bytes.len() != PROOF_BYTES {
        return Err(ProofBytesError::Length(bytes.len()));
    }
    let (a, rest) = bytes.split_at(48);
    let (b, c) = rest.split_at(96);
    let a = G1Affine::deserialize_compressed(a).map_err(|_| ProofBytesError::Point("A"))?;
    let b = G2Affine::deserialize_compressed(b).map_err(|_| ProofBytesError::Point("B"))?;
    let c = G1Affine::deserialize_compressed(c).map_err(|_| ProofBytesError::Point("C"))?;
    let proof = Proof { a, b, c };
    // One encoding per proof (a proof's bytes may be hashed or signed):
    // refuse anything the encoder would not have written, such as a
    // point at infinity with stray bits.
    if proof_to_bytes(&proof) != bytes {
        return Err(ProofBytesError::NotCanonical);
    }
    Ok(proof)
}

#[cfg(test)]
mod tests {
    use rand_chacha::ChaCha20Rng;
    use rand_chacha::rand_core::SeedableRng;

    use super::super::backend::CpuBackend;
    use super::super::gadgets::bits::Num;
    use super::*;

    /// Knows x with x³ + x + 5 = y, y public.
    struct Cubic {
        x: Option<Fr>,
        y: Option<Fr>,
    }

    impl Circuit for Cubic {
        fn synthesize<CS: ConstraintSystem>(&self, cs: &mut CS) -> Result<(), SynthesisError> {
            let y = Num::alloc_input(cs, self.y)?;
            let x = Num::alloc(cs, self.x)?;
            let x2 = x.square(cs)?;
            let x3 = x2.mul(cs, &x)?;
            let lhs = x3.add(&x).add(&Num::constant(Fr::from(5u64)));
            lhs.enforce_equal(cs, &y);
            Ok(())
        }
    }

    #[test]
    fn batches_agree_with_single_verification() {
        let mut rng = ChaCha20Rng::seed_from_u64(2);
        let pk = generate_keys(&Cubic { x: None, y: None }, &mut rng).unwrap();
        let pvk = prepare(&pk.vk);
        let mut items: Vec<(Vec<Fr>, Proof)> = (1..=5u64)
            .map(|x| {
                let x = Fr::from(x);
                let y = x * x * x + x + Fr::from(5u64);
                let (p, _) = prove(
                    &Cubic {
                        x: Some(x),
                        y: Some(y),
                    },
                    &pk,
                    &CpuBackend,
                    &mut rng,
                )
                .unwrap();
                (vec![y], p)
            })
            .collect();
        let view = |items: &[(Vec<Fr>, Proof)]| -> Vec<bool> {
            let refs: Vec<(&[Fr], &Proof)> = items.iter().map(|(x, p)| (x.as_slice(), p)).collect();
            verify_batch(&pvk, &refs)
        };
        assert_eq!(view(&items), vec![true; 5]);
        // One wrong input, one swapped proof, one wrong input count: only
        // those are refused.
        items[1].0[0] += Fr::one();
        items.swap(3, 4);
        let p4 = items[4].1.clone();
        items[3].1 = p4;
        items[2].0.push(Fr::one());
        assert_eq!(view(&items), vec![true, false, false, false, true]);
        assert_eq!(view(&items[..1]), vec![true]);
        assert_eq!(view(&[]), Vec::<bool>::new());
    }

    #[test]
    fn round_trip_and_refusals() {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let pk = generate_keys(&Cubic { x: None, y: None }, &mut rng).unwrap();
        let pvk = prepare(&pk.vk);
        let x = Fr::from(3u64);
        let y = Fr::from(35u64);
        let (proof, _) = prove(
            &Cubic {
                x: Some(x),
                y: Some(y),
            },
            &pk,
            &CpuBackend,
            &mut rng,
        )
        .unwrap();
        assert!(verify(&pvk, &[y], &proof));
        assert!(!verify(&pvk, &[y + Fr::one()], &proof));
        assert!(!verify(&pvk, &[y, y], &proof));
        assert!(!verify(&pvk, &[], &proof));
        // A false statement cannot be proven.
        let (bad, _) = prove(
            &Cubic {
                x: Some(x),
                y: Some(y + Fr::one()),
            },
            &pk,
            &CpuBackend,
            &mut rng,
        )
        .unwrap();
        assert!(!verify(&pvk, &[y + Fr::one()], &bad));
        // Bytes round trip; damaged bytes are refused or fail to verify.
        let bytes = proof_to_bytes(&proof);
        assert_eq!(proof_from_bytes(&bytes).unwrap(), proof);
        assert_eq!(
            proof_from_bytes(&bytes[..191]),
            Err(ProofBytesError::Length(191))
        );
        for i in [0usize, 47, 48, 100, 143, 144, 191] {
            let mut b = bytes;
            b[i] ^= 0x01;
            match proof_from_bytes(&b) {
                Ok(p) => assert!(!verify(&pvk, &[y], &p), "byte {i}"),
                Err(ProofBytesError::Point(_) | ProofBytesError::NotCanonical) => {}
                Err(e) => panic!("{e}"),
            }
        }
        assert!(proof_from_bytes(&[0xff; PROOF_BYTES]).is_err());
    }
}

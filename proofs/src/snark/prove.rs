//! Whole proofs in the form the ledger takes them: Commit 2 (one Groth16
//! proof per PoRep partition, concatenated) and a WindowPoSt (the sectors
//! cut into partitions of the proof's sector count, a vanilla proof and a
//! Groth16 proof for each, concatenated). These are the steps a provider
//! runs after Commit 1 and at each deadline; the ledger's verifier splits
//! the bytes back into 192-byte proofs in the same order.

use rand_chacha::rand_core::{CryptoRng, RngCore};

use crate::challenges::PostRandomness;
use crate::porep::Commit1Output;
use crate::post::{self, ProvingSector, PublicSector};
use crate::seal;
use crate::sector::WindowPostProof;

use super::backend::ProverBackend;
use super::groth16::{self, Groth16Error, ProvingKey};
use super::porep_circuit::{self, PorepCircuit, PorepInputsError};
use super::post_circuit::{self, PostInputsError, WindowPostCircuit};

/// Why a proof could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProveError {
    /// The PoRep's public inputs.
    #[error("PoRep public inputs: {0}")]
    PorepInputs(#[from] PorepInputsError),
    /// The WindowPoSt's public inputs.
    #[error("WindowPoSt public inputs: {0}")]
    PostInputs(#[from] PostInputsError),
    /// The vanilla WindowPoSt (a sector's files could not be read or
    /// opened).
    #[error("WindowPoSt: {0}")]
    Post(#[from] post::PostError),
    /// Groth16 proving.
    #[error("Groth16: {0}")]
    Groth16(#[from] Groth16Error),
    /// A sector's CommC or CommRLast is not a field element.
    #[error("sector {sector}: CommC or CommRLast is not a field element")]
    Commitment {
        /// The sector.
        sector: u64,
    },
    /// Nothing to prove.
    #[error("no sectors to prove")]
    NoSectors,
}

/// Commit 2: the Groth16 proof of every partition of `c1`, concatenated
/// (192 bytes each).
pub fn commit2<R: RngCore + CryptoRng>(
    c1: &Commit1Output,
    pk: &ProvingKey,
    backend: &dyn ProverBackend,
    rng: &mut R,
) -> Result<Vec<u8>, ProveError> {
    let mut out = Vec::with_capacity(c1.partitions.len() * groth16::PROOF_BYTES);
    for (k, witness) in c1.partitions.iter().enumerate() {
        let inputs = porep_circuit::public_inputs(&c1.public, k)?;
        let circuit = PorepCircuit {
            proof: c1.public.proof,
            inputs: Some(&inputs),
            witness: Some(witness),
        };
        let (g, _) = groth16::prove(&circuit, pk, backend, rng)?;
        out.extend_from_slice(&groth16::proof_to_bytes(&g));
    }
    Ok(out)
}

/// A WindowPoSt over `sectors` (in the order the ledger lists them) for
/// `randomness`: one Groth16 proof per partition of
/// `post.sector_count()` sectors, concatenated.
pub fn window_post<R: RngCore + CryptoRng>(
    post: WindowPostProof,
    randomness: &PostRandomness,
    sectors: &[ProvingSector<'_>],
    pk: &ProvingKey,
    backend: &dyn ProverBackend,
    rng: &mut R,
) -> Result<Vec<u8>, ProveError> {
    if sectors.is_empty() {
        return Err(ProveError::NoSectors);
    }
    let mut out = Vec::new();
    for group in sectors.chunks(post.sector_count().max(1)) {
        let vanilla = post::prove(post, randomness, group)?;
        let mut public = Vec::with_capacity(group.len());
        for s in group {
            let comm_r = seal::comm_r(&s.comm_c, &s.comm_r_last).ok_or(ProveError::Commitment {
                sector: s.sector_id.0,
            })?;
            public.push(PublicSector {
                sector_id: s.sector_id,
                comm_r,
            });
        }
        let inputs = post_circuit::public_inputs(post, randomness, &public)?;
        let circuit = WindowPostCircuit {
            post,
            inputs: Some(&inputs),
            proof: Some(&vanilla),
        };
        let (g, _) = groth16::prove(&circuit, pk, backend, rng)?;
        out.extend_from_slice(&groth16::proof_to_bytes(&g));
    }
    Ok(out)
}

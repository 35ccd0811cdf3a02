//! The WindowPoSt circuit (Filecoin's fallback PoSt in window mode): what
//! [`crate::post::verify`] checks, in zero knowledge.
//!
//! For each of the partition's `sector_count` sector slots: CommR is a
//! public input; CommC and CommRLast are private and must hash to it; for
//! each of the sector's challenges, the challenged leaf index is a public
//! input and the leaf's inclusion in tree_r_last (root CommRLast) is
//! proven. A partition with fewer sectors repeats its last sector, as
//! rust-fil-proofs pads it, in the public inputs and in the witness alike.
//!
//! Public inputs, in order, per slot: CommR, then each challenged leaf
//! index. [`public_inputs`] computes them from what the ledger holds
//! (sector ids, CommRs, the randomness).

use super::cs::{Circuit, ConstraintSystem, SynthesisError};
use super::gadgets::bits::Num;
use super::gadgets::{merkle, poseidon as pgadget};
use crate::challenges::{ChallengeError, PostRandomness, window_post_challenges};
use crate::field::{Fr, fr_from_le_bytes};
use crate::poseidon::Arity;
use crate::post::{PublicSector, WindowPostPartition};
use crate::seal;
use crate::sector::WindowPostProof;

/// Why public inputs could not be computed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PostInputsError {
    /// No sector, or more than a partition holds.
    #[error("{got} sectors for a partition of {max}")]
    SectorCount {
        /// Given.
        got: usize,
        /// The partition's capacity.
        max: usize,
    },
    /// A CommR that is not a field element.
    #[error("sector {0}: CommR is not a field element")]
    CommR(u64),
    /// Challenge derivation failed.
    #[error(transparent)]
    Challenges(#[from] ChallengeError),
}

/// The sectors of a partition padded to its full count (the last one
/// repeated).
fn padded<T: Clone>(items: &[T], count: usize) -> Vec<T> {
    let mut out = items.to_vec();
    if let Some(last) = items.last() {
        out.resize(count, last.clone());
    }
    out
}

/// The public inputs of a WindowPoSt partition, from ledger data only.
pub fn public_inputs(
    post: WindowPostProof,
    randomness: &PostRandomness,
    sectors: &[PublicSector],
) -> Result<Vec<Fr>, PostInputsError> {
    let max = post.sector_count();
    if sectors.is_empty() || sectors.len() > max {
        return Err(PostInputsError::SectorCount {
            got: sectors.len(),
            max,
        });
    }
    let nodes = u64::from(post.seal_proof().nodes());
    let mut out = Vec::with_capacity(max * (1 + post.challenge_count()));
    for s in padded(sectors, max) {
        out.push(fr_from_le_bytes(&s.comm_r).map_err(|_| PostInputsError::CommR(s.sector_id.0))?);
        for leaf in
            window_post_challenges(randomness, s.sector_id.0, nodes, post.challenge_count())?
        {
            out.push(Fr::from(leaf));
        }
    }
    Ok(out)
}

/// The circuit; without a witness (`None`s) it is the shape for key
/// generation.
#[derive(Debug, Clone)]
pub struct WindowPostCircuit<'a> {
    /// The registered proof.
    pub post: WindowPostProof,
    /// The public inputs ([`public_inputs`]), when proving.
    pub inputs: Option<&'a [Fr]>,
    /// The vanilla proof, when proving.
    pub proof: Option<&'a WindowPostPartition>,
}

impl WindowPostCircuit<'_> {
    /// The circuit's shape, for key generation and counting.
    pub fn blank(post: WindowPostProof) -> WindowPostCircuit<'static> {
        WindowPostCircuit {
            post,
            inputs: None,
            proof: None,
        }
    }
}

fn fr(node: &[u8; 32], what: &str) -> Result<Fr, SynthesisError> {
    fr_from_le_bytes(node)
        .map_err(|_| SynthesisError::Malformed(format!("{what} is not a field element")))
}

impl Circuit for WindowPostCircuit<'_> {
    fn synthesize<CS: ConstraintSystem>(&self, cs: &mut CS) -> Result<(), SynthesisError> {
        let post = self.post;
        let count = post.sector_count();
        let per = post.challenge_count();
        let seal_proof = post.seal_proof();
        let arities = seal::poseidon_arities(seal_proof);
        let bits = seal_proof.nodes().trailing_zeros() as usize;
        let sectors = match self.proof {
            Some(p) if p.sectors.is_empty() || p.sectors.len() > count => {
                return Err(SynthesisError::Malformed(format!(
                    "{} sector proofs for a partition of {count}",
                    p.sectors.len()
                )));
            }
            Some(p) => Some(padded(&p.sectors, count)),
            None => None,
        };
        if let Some(inputs) = self.inputs
            && inputs.len() != count * (1 + per)
        {
            return Err(SynthesisError::Malformed(format!(
                "{} public inputs, expected {}",
                inputs.len(),
                count * (1 + per)
            )));
        }
        let input = |i: usize| self.inputs.and_then(|x| x.get(i).copied());
        for slot in 0..count {
            let sector = sectors.as_ref().and_then(|s| s.get(slot));
            let base = slot * (1 + per);
            let comm_r = Num::alloc_input(cs, input(base))?;
            let comm_c = Num::alloc(cs, sector.map(|s| fr(&s.comm_c, "CommC")).transpose()?)?;
            let comm_r_last = Num::alloc(
                cs,
                sector
                    .map(|s| fr(&s.comm_r_last, "CommRLast"))
                    .transpose()?,
            )?;
            pgadget::hash(cs, Arity::A2, &[comm_c, comm_r_last.clone()])?
                .enforce_equal(cs, &comm_r);
            if let Some(s) = sector
                && s.paths.len() != per
            {
                return Err(SynthesisError::Malformed(format!(
                    "sector {}: {} openings, expected {per}",
                    s.sector_id,
                    s.paths.len()
                )));
            }
            for k in 0..per {
                let index = Num::alloc_input(cs, input(base + 1 + k))?;
                let index_bits = index.to_bits_le(cs, bits)?;
                let path = sector.and_then(|s| s.paths.get(k));
                let leaf = Num::alloc(cs, path.map(|p| fr(&p.leaf, "a leaf")).transpose()?)?;
                merkle::poseidon_root(cs, &leaf, &index_bits, &arities, path)?
                    .enforce_equal(cs, &comm_r_last);
            }
        }
        Ok(())
    }
}

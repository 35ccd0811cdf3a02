//! The proof checks the ledger depends on: the [`ProofVerifier`] trait and
//! its production implementation, [`Groth16Verifier`].
//!
//! The ledger computes every public input from its own state (CommR from
//! the pre-commit, CommD from the deals' pieces, ticket and seed and PoSt
//! randomness from its randomness beacon, sector ids from its sectors);
//! the prover supplies only proof bytes. A verifier whose keys do not
//! match the digests genesis pins refuses to load: a validator with other
//! keys would accept other proofs and fork.

use std::collections::BTreeMap;

use ark_serialize::CanonicalSerialize;
use cairn_proofs::challenges::PostRandomness;
use cairn_proofs::porep::PorepPublic;
use cairn_proofs::post::PublicSector;
use cairn_proofs::sector::{SealProof, WindowPostProof};
use cairn_proofs::snark::groth16::{
    self, PROOF_BYTES, PreparedVerifyingKey, VerifyingKey, proof_from_bytes,
};
use cairn_proofs::snark::{porep_circuit, post_circuit};
use sha2::{Digest, Sha256};

use crate::genesis::{PinnedKeys, VkDigest};

/// Why a proof was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// The verifier holds no key for this proof (its size is not allowed).
    #[error("no verifying key for {proof}")]
    NoKey {
        /// The registered proof's name.
        proof: &'static str,
    },
    /// Not one 192-byte proof per partition.
    #[error("proof is {got} bytes, expected {expected}")]
    Length {
        /// Expected length.
        expected: usize,
        /// Given.
        got: usize,
    },
    /// Proof bytes that are not curve points.
    #[error("partition {partition}: malformed proof")]
    Malformed {
        /// The partition.
        partition: usize,
    },
    /// Public inputs could not be derived (e.g. a CommR that is not a
    /// field element, or no sectors).
    #[error("public inputs: {reason}")]
    Inputs {
        /// Why.
        reason: String,
    },
    /// The pairing check failed.
    #[error("partition {partition}: the proof does not verify")]
    Invalid {
        /// The partition.
        partition: usize,
    },
}

/// Checks seal and WindowPoSt proofs against ledger-derived public values.
pub trait ProofVerifier {
    /// Verifies a PoRep (one proof per partition, concatenated).
    fn verify_porep(
        &self,
        seal_proof: SealProof,
        public: &PorepPublic,
        proof: &[u8],
    ) -> Result<(), VerifyError>;

    /// Verifies a WindowPoSt over `sectors` (in order; split into
    /// partitions of `post_proof.sector_count()`), one proof per partition.
    fn verify_window_post(
        &self,
        post_proof: WindowPostProof,
        randomness: &PostRandomness,
        sectors: &[PublicSector],
        proof: &[u8],
    ) -> Result<(), VerifyError>;
}

/// SHA-256 of a verifying key's ark-serialize compressed bytes: what
/// genesis pins.
pub fn vk_digest(vk: &VerifyingKey) -> VkDigest {
    let mut bytes = Vec::new();
    // Serializing into a Vec cannot fail.
    let _ = vk.serialize_compressed(&mut bytes);
    Sha256::digest(&bytes).into()
}

/// The verifying keys for one sector size.
#[derive(Debug, Clone)]
pub struct SizeKeys {
    /// The PoRep circuit's key.
    pub porep: VerifyingKey,
    /// The WindowPoSt circuit's key.
    pub window_post: VerifyingKey,
}

/// Why a verifier could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// Genesis allows a size for which no keys were given.
    #[error("no verifying keys for {proof}, which genesis allows")]
    Missing {
        /// The seal proof.
        proof: &'static str,
    },
    /// Keys for a size genesis does not allow.
    #[error("verifying keys for {proof}, which genesis does not allow")]
    Unexpected {
        /// The seal proof.
        proof: &'static str,
    },
    /// A key whose digest is not the one genesis pins.
    #[error("{circuit} key for {proof} has digest {actual}, genesis pins {expected}")]
    Mismatch {
        /// The seal proof.
        proof: &'static str,
        /// "PoRep" or "WindowPoSt".
        circuit: &'static str,
        /// Pinned (hex).
        expected: String,
        /// Given (hex).
        actual: String,
    },
}

fn hex(d: &[u8]) -> String {
    d.iter().map(|b| format!("{b:02x}")).collect()
}

/// Groth16 verification with prepared keys, one pair per allowed size.
#[derive(Debug, Clone)]
pub struct Groth16Verifier {
    porep: BTreeMap<SealProof, PreparedVerifyingKey>,
    post: BTreeMap<WindowPostProof, PreparedVerifyingKey>,
}

impl Groth16Verifier {
    /// Loads `keys`, refusing any that genesis' `pinned` digests do not
    /// name exactly.
    pub fn new(
        pinned: &BTreeMap<SealProof, PinnedKeys>,
        keys: &BTreeMap<SealProof, SizeKeys>,
    ) -> Result<Self, KeyError> {
        if let Some(p) = keys.keys().find(|p| !pinned.contains_key(p)) {
            return Err(KeyError::Unexpected { proof: p.name() });
        }
        let mut porep = BTreeMap::new();
        let mut post = BTreeMap::new();
        for (&proof, pins) in pinned {
            let k = keys.get(&proof).ok_or(KeyError::Missing {
                proof: proof.name(),
            })?;
            for (circuit, vk, expected) in [
                ("PoRep", &k.porep, pins.porep),
                ("WindowPoSt", &k.window_post, pins.window_post),
            ] {
                let actual = vk_digest(vk);
                if actual != expected {
                    return Err(KeyError::Mismatch {
                        proof: proof.name(),
                        circuit,
                        expected: hex(&expected),
                        actual: hex(&actual),
                    });
                }
            }
            porep.insert(proof, groth16::prepare(&k.porep));
            post.insert(proof.window_post(), groth16::prepare(&k.window_post));
        }
        Ok(Self { porep, post })
    }
}

/// Splits `proof` into `partitions` 192-byte proofs.
fn partitions(proof: &[u8], partitions: usize) -> Result<Vec<&[u8]>, VerifyError> {
    let expected = partitions.saturating_mul(PROOF_BYTES);
    if proof.len() != expected || partitions == 0 {
        return Err(VerifyError::Length {
            expected,
            got: proof.len(),
        });
    }
    Ok(proof.chunks_exact(PROOF_BYTES).collect())
}

impl ProofVerifier for Groth16Verifier {
    fn verify_porep(
        &self,
        seal_proof: SealProof,
        public: &PorepPublic,
        proof: &[u8],
    ) -> Result<(), VerifyError> {
        let pvk = self.porep.get(&seal_proof).ok_or(VerifyError::NoKey {
            proof: seal_proof.name(),
        })?;
        if public.proof != seal_proof {
            return Err(VerifyError::Inputs {
                reason: "public values are for another seal proof".into(),
            });
        }
        for (k, bytes) in partitions(proof, seal_proof.partitions())?
            .into_iter()
            .enumerate()
        {
            let p = proof_from_bytes(bytes).map_err(|_| VerifyError::Malformed { partition: k })?;
            let inputs =
                porep_circuit::public_inputs(public, k).map_err(|e| VerifyError::Inputs {
                    reason: e.to_string(),
                })?;
            if !groth16::verify(pvk, &inputs, &p) {
                return Err(VerifyError::Invalid { partition: k });
            }
        }
        Ok(())
    }

    fn verify_window_post(
        &self,
        post_proof: WindowPostProof,
        randomness: &PostRandomness,
        sectors: &[PublicSector],
        proof: &[u8],
    ) -> Result<(), VerifyError> {
        let pvk = self.post.get(&post_proof).ok_or(VerifyError::NoKey {
            proof: post_proof.name(),
        })?;
        let per = post_proof.sector_count().max(1);
        let groups: Vec<&[PublicSector]> = sectors.chunks(per).collect();
        if groups.is_empty() {
            return Err(VerifyError::Inputs {
                reason: "no sectors".into(),
            });
        }
        for (k, (bytes, group)) in partitions(proof, groups.len())?
            .into_iter()
            .zip(groups)
            .enumerate()
        {
            let p = proof_from_bytes(bytes).map_err(|_| VerifyError::Malformed { partition: k })?;
            let inputs =
                post_circuit::public_inputs(post_proof, randomness, group).map_err(|e| {
                    VerifyError::Inputs {
                        reason: e.to_string(),
                    }
                })?;
            if !groth16::verify(pvk, &inputs, &p) {
                return Err(VerifyError::Invalid { partition: k });
            }
        }
        Ok(())
    }
}

//! WindowPoSt, vanilla: Filecoin's fallback PoSt in window mode (api 1.2).
//!
//! For each sector of a partition, the randomness and the sector number
//! pick 10 leaves of the replica ([`window_post_challenges`]); the proof
//! opens each in tree_r_last and carries the sector's CommC and CommRLast,
//! which the verifier binds to the CommR it knows (CommR =
//! Poseidon(CommC, CommRLast)). The verifier takes only the randomness and
//! the sectors' numbers and CommRs.
//!
//! Which sectors are proven is the caller's choice: every non-faulty sector
//! of the partition, in the order the ledger lists them. The prover checks
//! its own openings, so a sector whose replica is missing or damaged at a
//! challenged leaf is reported ([`PostError::FaultySector`]) rather than
//! sent as a proof that will fail. rust-fil-proofs pads short partitions by
//! repeating the last sector to a fixed count for its circuit; the vanilla
//! proof here does not need to, and the SNARK layer pads.

use std::fs::File;
use std::path::Path;

use crate::challenges::{ChallengeError, PostRandomness, window_post_challenges};
use crate::codec::{CodecError, Decoder, Encoder, Kind};
use crate::commp::Node;
use crate::sdr::SectorId;
use crate::seal::{self, TREE_R_LAST, tree_r_last_shape};
use crate::sector::WindowPostProof;
use crate::tree::{MerklePath, NodeFile, PoseidonHasher, StoredTree};

/// Format version of [`WindowPostPartition`] bytes.
pub const POST_VERSION: u16 = 1;

/// One sector's part of a WindowPoSt proof.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostSectorProof {
    /// The sector.
    pub sector_id: SectorId,
    /// tree_c's root.
    pub comm_c: Node,
    /// tree_r_last's root.
    pub comm_r_last: Node,
    /// One tree_r_last opening per challenge, in challenge order.
    pub paths: Vec<MerklePath>,
}

/// A vanilla WindowPoSt proof of one partition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowPostPartition {
    /// The registered PoSt proof.
    pub post: WindowPostProof,
    /// The proven sectors, in the order of the public list.
    pub sectors: Vec<PostSectorProof>,
}

/// A sector as its provider holds it, for proving.
#[derive(Debug, Clone, Copy)]
pub struct ProvingSector<'a> {
    /// The sector.
    pub sector_id: SectorId,
    /// tree_c's root (from PreCommit 2).
    pub comm_c: Node,
    /// tree_r_last's root (from PreCommit 2).
    pub comm_r_last: Node,
    /// The sector's cache folder (holds tree_r_last).
    pub cache_dir: &'a Path,
    /// The sealed replica.
    pub sealed: &'a Path,
}

/// A sector as the ledger knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PublicSector {
    /// The sector.
    pub sector_id: SectorId,
    /// Its CommR.
    pub comm_r: Node,
}

/// Why a WindowPoSt could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PostError {
    /// More sectors than one partition holds.
    #[error("{n} sectors, a {post} partition holds at most {max}")]
    TooManySectors {
        /// Sectors given.
        n: usize,
        /// Partition size.
        max: usize,
        /// The PoSt proof.
        post: &'static str,
    },
    /// A sector that cannot be proven: declare it faulty.
    #[error("sector {sector_id} is faulty: {why}")]
    FaultySector {
        /// The sector.
        sector_id: SectorId,
        /// What is wrong.
        why: String,
    },
    /// Challenges could not be derived.
    #[error(transparent)]
    Challenge(#[from] ChallengeError),
}

/// Why a WindowPoSt proof was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PostVerifyError {
    /// Not the sectors, or not the number of openings, expected.
    #[error("proof shape: {0}")]
    Shape(String),
    /// CommR is not Poseidon(CommC, CommRLast) for a sector.
    #[error("sector {0}: CommR is not Poseidon(CommC, CommRLast)")]
    CommR(SectorId),
    /// An opening does not prove its challenged leaf.
    #[error("sector {sector_id}: opening {i} does not prove leaf {leaf}")]
    Opening {
        /// The sector.
        sector_id: SectorId,
        /// Challenge index.
        i: usize,
        /// The challenged leaf.
        leaf: u64,
    },
    /// Challenges could not be derived.
    #[error(transparent)]
    Challenge(#[from] ChallengeError),
}

/// Proves `sectors` (all non-faulty sectors of one partition) for
/// `randomness`.
pub fn prove(
    post: WindowPostProof,
    randomness: &PostRandomness,
    sectors: &[ProvingSector<'_>],
) -> Result<WindowPostPartition, PostError> {
    let max = post.sector_count();
    if sectors.len() > max {
        return Err(PostError::TooManySectors {
            n: sectors.len(),
            max,
            post: post.name(),
        });
    }
    let seal = post.seal_proof();
    let nodes = u64::from(seal.nodes());
    let arities = seal::poseidon_arities(seal);
    let mut out = Vec::with_capacity(sectors.len());
    for s in sectors {
        let faulty = |why: String| PostError::FaultySector {
            sector_id: s.sector_id,
            why,
        };
        let shape = tree_r_last_shape(seal).map_err(|e| faulty(e.to_string()))?;
        let tree = StoredTree::open(shape, &s.cache_dir.join(TREE_R_LAST))
            .map_err(|e| faulty(format!("tree_r_last: {e}")))?;
        if tree.root().map_err(|e| faulty(e.to_string()))? != s.comm_r_last {
            return Err(faulty("tree_r_last is not this sector's".into()));
        }
        let replica = NodeFile(
            File::open(s.sealed).map_err(|e| faulty(format!("{}: {e}", s.sealed.display())))?,
        );
        let leaves =
            window_post_challenges(randomness, s.sector_id.0, nodes, post.challenge_count())?;
        let mut paths = Vec::with_capacity(leaves.len());
        for leaf in leaves {
            let path = tree
                .open_path(&PoseidonHasher, &replica, leaf)
                .map_err(|e| faulty(format!("leaf {leaf}: {e}")))?;
            if !path.verify(&PoseidonHasher, &arities, &s.comm_r_last, leaf) {
                return Err(faulty(format!(
                    "leaf {leaf} of the replica does not match CommRLast"
                )));
            }
            paths.push(path);
        }
        out.push(PostSectorProof {
            sector_id: s.sector_id,
            comm_c: s.comm_c,
            comm_r_last: s.comm_r_last,
            paths,
        });
    }
    Ok(WindowPostPartition { post, sectors: out })
}

/// Verifies a partition's proof for `randomness` and the ledger's view of
/// its sectors.
pub fn verify(
    post: WindowPostProof,
    randomness: &PostRandomness,
    public: &[PublicSector],
    proof: &WindowPostPartition,
) -> Result<(), PostVerifyError> {
    let shape = PostVerifyError::Shape;
    if proof.post != post {
        return Err(shape(format!(
            "proof is a {}, expected {}",
            proof.post.name(),
            post.name()
        )));
    }
    if public.len() > post.sector_count() {
        return Err(shape(format!(
            "{} sectors in one partition, at most {}",
            public.len(),
            post.sector_count()
        )));
    }
    if proof.sectors.len() != public.len() {
        return Err(shape(format!(
            "{} sector proofs for {} sectors",
            proof.sectors.len(),
            public.len()
        )));
    }
    let seal = post.seal_proof();
    let nodes = u64::from(seal.nodes());
    let arities = seal::poseidon_arities(seal);
    for (s, p) in proof.sectors.iter().zip(public) {
        if s.sector_id != p.sector_id {
            return Err(shape(format!(
                "proof for sector {} where sector {} is listed",
                s.sector_id, p.sector_id
            )));
        }
        if seal::comm_r(&s.comm_c, &s.comm_r_last) != Some(p.comm_r) {
            return Err(PostVerifyError::CommR(p.sector_id));
        }
        let leaves =
            window_post_challenges(randomness, p.sector_id.0, nodes, post.challenge_count())?;
        if s.paths.len() != leaves.len() {
            return Err(shape(format!(
                "sector {}: {} openings, expected {}",
                p.sector_id,
                s.paths.len(),
                leaves.len()
            )));
        }
        for (i, (path, &leaf)) in s.paths.iter().zip(&leaves).enumerate() {
            if !path.verify(&PoseidonHasher, &arities, &s.comm_r_last, leaf) {
                return Err(PostVerifyError::Opening {
                    sector_id: p.sector_id,
                    i,
                    leaf,
                });
            }
        }
    }
    Ok(())
}

impl WindowPostPartition {
    /// Canonical bytes (what goes on the wire).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut e = Encoder::new(Kind::WindowPost, POST_VERSION);
        e.u64(self.post.id());
        e.len(self.sectors.len());
        for s in &self.sectors {
            e.u64(s.sector_id.0).node(&s.comm_c).node(&s.comm_r_last);
            e.len(s.paths.len());
            for p in &s.paths {
                p.encode(&mut e);
            }
        }
        e.finish()
    }

    /// Decodes [`WindowPostPartition::to_bytes`]; never panics.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CodecError> {
        let (mut d, _) = Decoder::new(bytes, Kind::WindowPost, POST_VERSION, false)?;
        let post =
            WindowPostProof::from_id(d.u64("post proof")?).map_err(|e| CodecError::Invalid {
                what: "post proof",
                why: e.to_string(),
            })?;
        let n = d.len("sectors", post.sector_count() as u64, 76)?;
        let mut sectors = Vec::with_capacity(n);
        for _ in 0..n {
            let sector_id = SectorId(d.u64("sector id")?);
            let comm_c = d.node("CommC")?;
            let comm_r_last = d.node("CommRLast")?;
            let m = d.len("openings", post.challenge_count() as u64, 33)?;
            let paths = (0..m)
                .map(|_| MerklePath::decode(&mut d))
                .collect::<Result<_, _>>()?;
            sectors.push(PostSectorProof {
                sector_id,
                comm_c,
                comm_r_last,
                paths,
            });
        }
        d.finish()?;
        Ok(Self { post, sectors })
    }
}

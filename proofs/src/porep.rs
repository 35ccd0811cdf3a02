//! Commit 1 and the vanilla PoRep: for each challenged node, every opening
//! a verifier needs to recheck the sealing at that node, and the verifier.
//!
//! A challenge proof holds what storage-proofs-porep's vanilla `Proof`
//! holds, without its redundant copies: the tree_d opening of the node (its
//! data), the tree_r_last opening (its replica value), and the tree_c
//! openings of the node's column and of its 14 parents' columns (6 DRG, 8
//! expander; a column is the node's label in every layer). Everything else
//! — the labelling parents of each layer, the key — is read off those
//! columns, so the verifier recomputes it instead of trusting a copy. This
//! is also the witness the Groth16 circuit needs.
//!
//! The verifier takes only public data — the seal proof, prover id, sector
//! number, ticket, seed, CommD and CommR — and derives the replica id, the
//! challenges and the parents itself. It checks, per challenge:
//! CommR = Poseidon(CommC, CommRLast); the tree_d path proves the node under
//! CommD; the tree_r_last path proves it under CommRLast; each column hashes
//! to its tree_c leaf, which proves the right node under CommC; each layer's
//! label is SHA-256 of the replica id and its parents' labels; and the
//! replica value is the data plus the last layer's label in Fr.
//! A bad proof gets a [`VerifyError`] naming the first check that failed;
//! no input makes it panic.

use std::fs::File;
use std::path::Path;

use crate::challenges::{ChallengeError, porep_challenges};
use crate::codec::{CodecError, Decoder, Encoder, Kind};
use crate::commp::Node;
use crate::sdr::encode::fr_add;
use crate::sdr::{ProverId, ReplicaId, SectorId, StackedGraph, Ticket, label_node};
use crate::seal::{
    self, Columns, Pc1Output, Pc2Output, SealError, hash_column, tree_c_shape, tree_d_shape,
    tree_r_last_shape,
};
use crate::sector::{DRG_DEGREE, SealProof};
use crate::tree::{MerklePath, NodeFile, PoseidonHasher, Sha256Hasher, StoredTree};

/// Format version of [`Commit1Output`] and [`PartitionProof`] bytes.
pub const COMMIT1_VERSION: u16 = 1;

/// Columns opened per challenge: the node and its 14 parents.
pub const COLUMNS_PER_CHALLENGE: usize = 15;

/// The openings of one column: its labels, layer 1 first, and its tree_c
/// path (whose leaf is the column's hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnOpening {
    /// The node's label in each layer.
    pub labels: Vec<Node>,
    /// Inclusion of the column hash in tree_c.
    pub path: MerklePath,
}

/// Everything proving one challenged node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChallengeProof {
    /// The challenged node.
    pub node: u64,
    /// tree_d opening: the node's data under CommD.
    pub data_path: MerklePath,
    /// tree_r_last opening: the node's replica value under CommRLast.
    pub replica_path: MerklePath,
    /// The node's column, then its 6 DRG and 8 expander parents' columns.
    pub columns: Vec<ColumnOpening>,
}

/// The vanilla proof of one partition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionProof {
    /// Partition index.
    pub k: u32,
    /// tree_c's root.
    pub comm_c: Node,
    /// tree_r_last's root.
    pub comm_r_last: Node,
    /// One per challenge, in challenge order.
    pub challenges: Vec<ChallengeProof>,
}

/// What the ledger knows about a sector when it checks a PoRep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PorepPublic {
    /// The seal proof.
    pub proof: SealProof,
    /// The provider.
    pub prover_id: ProverId,
    /// The sector number.
    pub sector_id: SectorId,
    /// The sealing ticket.
    pub ticket: Ticket,
    /// The interactive seed drawn after PreCommit.
    pub seed: [u8; 32],
    /// CommD, from the deals.
    pub comm_d: Node,
    /// CommR, from the PreCommit.
    pub comm_r: Node,
}

impl PorepPublic {
    /// The replica id these inputs imply.
    pub fn replica_id(&self) -> ReplicaId {
        crate::sdr::replica_id(
            &self.prover_id,
            self.sector_id,
            &self.ticket,
            &self.comm_d,
            &self.proof.porep_id(),
        )
    }
}

/// Why a PoRep proof was refused: the first check that failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// Not the seal proof's number of partitions or challenges.
    #[error("proof shape: {0}")]
    Shape(String),
    /// CommR is not Poseidon(CommC, CommRLast).
    #[error("CommR is not Poseidon(CommC, CommRLast) for partition {k}")]
    CommR {
        /// Partition.
        k: u32,
    },
    /// A challenge is not the one the seed gives.
    #[error("partition {k} challenge {i} opens node {got}, the seed challenges node {want}")]
    WrongChallenge {
        /// Partition.
        k: u32,
        /// Challenge index in the partition.
        i: usize,
        /// Node the proof opens.
        got: u64,
        /// Node challenged.
        want: u64,
    },
    /// A Merkle path does not prove its node under its root.
    #[error("node {node}: {tree} opening does not verify")]
    Opening {
        /// Challenged node.
        node: u64,
        /// Which tree (and column).
        tree: String,
    },
    /// A label does not follow from its parents.
    #[error("node {node}: layer {layer} label does not follow from its parents")]
    Label {
        /// Challenged node.
        node: u64,
        /// Layer.
        layer: u32,
    },
    /// The replica value is not data + key.
    #[error("node {node}: replica value is not the data encoded with the last layer")]
    Encoding {
        /// Challenged node.
        node: u64,
    },
    /// Challenges could not be derived.
    #[error(transparent)]
    Challenge(#[from] ChallengeError),
}

fn shape(why: String) -> VerifyError {
    VerifyError::Shape(why)
}

/// Verifies one partition's proof against public data only.
pub fn verify_partition(
    public: &PorepPublic,
    k: u32,
    proof: &PartitionProof,
) -> Result<(), VerifyError> {
    let p = public.proof;
    if k as usize >= p.partitions() {
        return Err(shape(format!(
            "partition {k} does not exist: a {} sector has {}",
            p.name(),
            p.partitions()
        )));
    }
    if proof.k != k {
        return Err(shape(format!(
            "proof is for partition {}, not {k}",
            proof.k
        )));
    }
    if seal::comm_r(&proof.comm_c, &proof.comm_r_last) != Some(public.comm_r) {
        return Err(VerifyError::CommR { k });
    }
    let replica_id = public.replica_id();
    let per = p.challenges_per_partition();
    let want = porep_challenges(
        u64::from(p.nodes()),
        replica_id.as_bytes(),
        &public.seed,
        per,
        k as usize,
    )?;
    if proof.challenges.len() != want.len() {
        return Err(shape(format!(
            "{} challenge proofs, a {} partition has {per}",
            proof.challenges.len(),
            p.name()
        )));
    }
    let graph = StackedGraph::for_proof(p);
    let d_arities = tree_d_arities(p);
    let r_arities = seal::poseidon_arities(p);
    let layers = p.layers();
    for (i, (c, &node)) in proof.challenges.iter().zip(&want).enumerate() {
        if c.node != node {
            return Err(VerifyError::WrongChallenge {
                k,
                i,
                got: c.node,
                want: node,
            });
        }
        let opening = |tree: &str| VerifyError::Opening {
            node,
            tree: tree.to_owned(),
        };
        if !c
            .data_path
            .verify(&Sha256Hasher, &d_arities, &public.comm_d, node)
        {
            return Err(opening("tree_d"));
        }
        if !c
            .replica_path
            .verify(&PoseidonHasher, &r_arities, &proof.comm_r_last, node)
        {
            return Err(opening("tree_r_last"));
        }
        // Columns of the node and its parents, each proven under CommC.
        let node32 = u32::try_from(node).map_err(|_| shape(format!("node {node} out of range")))?;
        let parents = graph.parents(node32);
        if c.columns.len() != COLUMNS_PER_CHALLENGE {
            return Err(shape(format!(
                "{} column openings, expected {COLUMNS_PER_CHALLENGE}",
                c.columns.len()
            )));
        }
        let column_nodes = std::iter::once(node).chain(parents.iter().map(|&x| u64::from(x)));
        for (j, (col, at)) in c.columns.iter().zip(column_nodes).enumerate() {
            if col.labels.len() != layers as usize {
                return Err(shape(format!(
                    "column {j} has {} labels, expected {layers}",
                    col.labels.len()
                )));
            }
            let hashed = hash_column(&col.labels).map_err(|_| opening(&format!("column {j}")))?;
            if hashed != col.path.leaf
                || !col
                    .path
                    .verify(&PoseidonHasher, &r_arities, &proof.comm_c, at)
            {
                return Err(opening(&format!("tree_c column {j} (node {at})")));
            }
        }
        // Labels, layer by layer, from the parents' columns.
        let (own, parent_cols) = c.columns.split_at(1);
        let own = own
            .first()
            .map(|c| &c.labels)
            .ok_or_else(|| shape("no columns".into()))?;
        let (drg, exp) = parent_cols.split_at(DRG_DEGREE);
        let mut parent_labels = Vec::with_capacity(14);
        for layer in 1..=layers {
            let li = layer as usize - 1;
            parent_labels.clear();
            parent_labels.extend(drg.iter().filter_map(|c| c.labels.get(li)));
            if layer > 1 {
                parent_labels.extend(exp.iter().filter_map(|c| c.labels.get(li - 1)));
            }
            let label = label_node(&replica_id, layer, node32, &parent_labels)
                .map_err(|_| VerifyError::Label { node, layer })?;
            if own.get(li) != Some(&label) {
                return Err(VerifyError::Label { node, layer });
            }
        }
        // Encoding: replica = data + key.
        let key = own.last().ok_or_else(|| shape("empty column".into()))?;
        if fr_add(&c.data_path.leaf, key) != Some(c.replica_path.leaf) {
            return Err(VerifyError::Encoding { node });
        }
    }
    Ok(())
}

/// Verifies a whole PoRep: every partition of the seal proof, in order.
pub fn verify(public: &PorepPublic, partitions: &[PartitionProof]) -> Result<(), VerifyError> {
    let want = public.proof.partitions();
    if partitions.len() != want {
        return Err(shape(format!(
            "{} partition proofs, a {} sector has {want}",
            partitions.len(),
            public.proof.name()
        )));
    }
    for (k, p) in partitions.iter().enumerate() {
        verify_partition(public, k as u32, p)?;
    }
    Ok(())
}

fn tree_d_arities(p: SealProof) -> Vec<usize> {
    vec![2; p.nodes().trailing_zeros() as usize]
}

/// What Commit 1 produced: the public inputs and every partition's proof.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commit1Output {
    /// The public inputs the proof is for.
    pub public: PorepPublic,
    /// One per partition.
    pub partitions: Vec<PartitionProof>,
}

/// Commit 1: the vanilla proofs of every partition for `seed`, from the
/// sector's files. The cache folder is checked against both phase outputs.
pub fn commit1(
    pc1: &Pc1Output,
    pc2: &Pc2Output,
    seed: [u8; 32],
    staged: &Path,
    sealed: &Path,
    cache_dir: &Path,
) -> Result<Commit1Output, SealError> {
    let p = pc1.proof;
    if pc2.proof != p || pc2.sector_id != pc1.sector_id || pc2.replica_id != pc1.replica_id {
        return Err(SealError::OutputMismatch(format!(
            "PreCommit 2 output is for sector {} ({}), PreCommit 1 for sector {} ({})",
            pc2.sector_id,
            pc2.proof.name(),
            pc1.sector_id,
            p.name()
        )));
    }
    pc1.check_cache(cache_dir)?;
    pc2.check_cache(cache_dir)?;
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| SealError::Io { path, source }
    };
    let data = NodeFile(File::open(staged).map_err(io(staged))?);
    let replica = NodeFile(File::open(sealed).map_err(io(sealed))?);
    let columns = Columns::open(cache_dir, p.layers())?;
    let tree_d = StoredTree::open(tree_d_shape(p)?, &cache_dir.join(seal::TREE_D))?;
    let tree_c = StoredTree::open(tree_c_shape(p)?, &cache_dir.join(seal::TREE_C))?;
    let tree_r = StoredTree::open(tree_r_last_shape(p)?, &cache_dir.join(seal::TREE_R_LAST))?;
    let graph = StackedGraph::for_proof(p);
    let per = p.challenges_per_partition();
    let mut partitions = Vec::with_capacity(p.partitions());
    for k in 0..p.partitions() {
        let nodes = porep_challenges(
            u64::from(p.nodes()),
            pc1.replica_id.as_bytes(),
            &seed,
            per,
            k,
        )
        .map_err(|e| SealError::OutputMismatch(e.to_string()))?;
        let mut challenges = Vec::with_capacity(per);
        for node in nodes {
            let node32 = u32::try_from(node)
                .map_err(|_| SealError::OutputMismatch(format!("node {node}")))?;
            let mut cols = Vec::with_capacity(COLUMNS_PER_CHALLENGE);
            for at in
                std::iter::once(node).chain(graph.parents(node32).iter().map(|&x| u64::from(x)))
            {
                let labels = columns.column(at).map_err(io(cache_dir))?;
                let path = tree_c.open_path(&PoseidonHasher, &columns, at)?;
                cols.push(ColumnOpening { labels, path });
            }
            challenges.push(ChallengeProof {
                node,
                data_path: tree_d.open_path(&Sha256Hasher, &data, node)?,
                replica_path: tree_r.open_path(&PoseidonHasher, &replica, node)?,
                columns: cols,
            });
        }
        partitions.push(PartitionProof {
            k: k as u32,
            comm_c: pc2.comm_c,
            comm_r_last: pc2.comm_r_last,
            challenges,
        });
    }
    Ok(Commit1Output {
        public: PorepPublic {
            proof: p,
            prover_id: pc1.prover_id,
            sector_id: pc1.sector_id,
            ticket: pc1.ticket,
            seed,
            comm_d: pc1.comm_d,
            comm_r: pc2.comm_r,
        },
        partitions,
    })
}

impl PartitionProof {
    fn encode_body(&self, e: &mut Encoder) {
        e.u32(self.k).node(&self.comm_c).node(&self.comm_r_last);
        e.len(self.challenges.len());
        for c in &self.challenges {
            e.u64(c.node);
            c.data_path.encode(e);
            c.replica_path.encode(e);
            e.len(c.columns.len());
            for col in &c.columns {
                e.len(col.labels.len());
                for l in &col.labels {
                    e.node(l);
                }
                col.path.encode(e);
            }
        }
    }

    fn decode_body(d: &mut Decoder<'_>) -> Result<Self, CodecError> {
        let k = d.u32("partition")?;
        let comm_c = d.node("CommC")?;
        let comm_r_last = d.node("CommRLast")?;
        // Largest valid: 18 challenges (32/64 GiB), 15 columns of 11 labels.
        let n = d.len("challenges", 64, 8)?;
        let mut challenges = Vec::with_capacity(n);
        for _ in 0..n {
            let node = d.u64("challenge node")?;
            let data_path = MerklePath::decode(d)?;
            let replica_path = MerklePath::decode(d)?;
            let m = d.len("columns", COLUMNS_PER_CHALLENGE as u64, 33)?;
            let mut columns = Vec::with_capacity(m);
            for _ in 0..m {
                let l = d.len("column labels", 16, 32)?;
                let labels = (0..l).map(|_| d.node("label")).collect::<Result<_, _>>()?;
                columns.push(ColumnOpening {
                    labels,
                    path: MerklePath::decode(d)?,
                });
            }
            challenges.push(ChallengeProof {
                node,
                data_path,
                replica_path,
                columns,
            });
        }
        Ok(Self {
            k,
            comm_c,
            comm_r_last,
            challenges,
        })
    }

    /// Canonical bytes of one partition's proof (what goes on the wire).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut e = Encoder::new(Kind::PorepPartition, COMMIT1_VERSION);
        self.encode_body(&mut e);
        e.finish()
    }

    /// Decodes [`PartitionProof::to_bytes`]; never panics, whatever the bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CodecError> {
        let (mut d, _) = Decoder::new(bytes, Kind::PorepPartition, COMMIT1_VERSION, false)?;
        let p = Self::decode_body(&mut d)?;
        d.finish()?;
        Ok(p)
    }
}

impl Commit1Output {
    /// Canonical, checksummed bytes (a journal record).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut e = Encoder::new(Kind::Commit1, COMMIT1_VERSION);
        let p = &self.public;
        e.u64(p.proof.id())
            .node(p.prover_id.as_bytes())
            .u64(p.sector_id.0)
            .node(p.ticket.as_bytes())
            .node(&p.seed)
            .node(&p.comm_d)
            .node(&p.comm_r);
        e.len(self.partitions.len());
        for part in &self.partitions {
            part.encode_body(&mut e);
        }
        e.finish_checksummed()
    }

    /// Decodes [`Commit1Output::to_bytes`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CodecError> {
        let (mut d, _) = Decoder::new(bytes, Kind::Commit1, COMMIT1_VERSION, true)?;
        let proof = SealProof::from_id(d.u64("seal proof")?).map_err(|e| CodecError::Invalid {
            what: "seal proof",
            why: e.to_string(),
        })?;
        let public = PorepPublic {
            proof,
            prover_id: ProverId(d.node("prover id")?),
            sector_id: SectorId(d.u64("sector id")?),
            ticket: Ticket(d.node("ticket")?),
            seed: d.node("seed")?,
            comm_d: d.node("CommD")?,
            comm_r: d.node("CommR")?,
        };
        let n = d.len("partitions", 16, 72)?;
        let partitions = (0..n)
            .map(|_| PartitionProof::decode_body(&mut d))
            .collect::<Result<_, _>>()?;
        d.finish()?;
        Ok(Self { public, partitions })
    }
}

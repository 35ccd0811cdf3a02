//! The sealing phases: PreCommit 1 (tree_d, CommD, replica id, label
//! layers) and PreCommit 2 (tree_c, the replica, tree_r_last, CommC,
//! CommRLast, CommR), each ending in a serializable, versioned output that
//! a storage node journals and that is checked when loaded.
//!
//! The sector's cache folder holds what the phases write:
//!
//! | file | written by | what |
//! | --- | --- | --- |
//! | `sc-02-data-layer-{n}.dat` | PC1 | label layer `n` (rust-fil-proofs' name and bytes) |
//! | `tree-d.dat` | PC1 | tree_d rows from [`D_DISCARD`] up (SHA-256, binary) |
//! | `tree-c.dat` | PC2 | tree_c rows from [`C_DISCARD`] up (Poseidon, the sector's shape) |
//! | `tree-r-last.dat` | PC2 | tree_r_last rows from [`R_DISCARD`] up |
//!
//! Trees keep only their upper rows; openings rebuild the low rows from the
//! staged data (tree_d), the label layers (tree_c) or the replica
//! (tree_r_last). That changes what is on disk, not any commitment: CommD,
//! CommC, CommRLast and CommR are rust-fil-proofs' bytes.
//!
//! Resuming: every file is written under a temporary name and renamed when
//! complete, so a phase killed midway leaves either nothing or whole files;
//! rerunning the phase rewrites them and gives the same bytes. Loading a
//! phase output checks it against the cache folder ([`Pc1Output::check_cache`]):
//! the files are there with the right sizes, and labels of sampled nodes
//! recompute from their parents — which fails for a truncated or damaged
//! layer and for another sector's layers (the replica id is hashed into
//! every label).

use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};

use cid::Cid;
use multihash::Multihash;

use crate::codec::{CodecError, Decoder, Encoder, Kind};
use crate::commp::Node;
use crate::field::{fr_from_le_bytes, fr_to_le_bytes};
use crate::pieces::{self, PieceError, PieceInfo};
use crate::poseidon;
use crate::sdr::{
    self, ParentCacheReader, ProverId, ReplicaId, SdrError, SectorId, StackedGraph, Ticket,
    label_node, layer_file_name,
};
use crate::sector::SealProof;
use crate::snark::backend::{CpuBackend, ProverBackend};
use crate::tree::{
    self, BackendPoseidon, LeafSource, NodeFile, Sha256Hasher, TreeError, TreeShape,
};

mod columns;

pub use columns::{Columns, hash_column};

/// tree_d rows not stored: openings rehash 128 leaves (4 KiB of data).
pub const D_DISCARD: usize = 7;
/// tree_c rows not stored: openings rehash 64 columns.
pub const C_DISCARD: usize = 2;
/// tree_r_last rows not stored (rust-fil-proofs' default for arity 8).
pub const R_DISCARD: usize = 2;
/// tree_d file name in the cache folder.
pub const TREE_D: &str = "tree-d.dat";
/// tree_c file name in the cache folder.
pub const TREE_C: &str = "tree-c.dat";
/// tree_r_last file name in the cache folder.
pub const TREE_R_LAST: &str = "tree-r-last.dat";

/// Multicodec `fil-commitment-sealed`, the codec of CommR CIDs.
pub const FIL_COMMITMENT_SEALED: u64 = 0xf102;
/// Multihash `poseidon-bls12_381-a2-fc1`, the hash of CommR CIDs.
pub const POSEIDON_BLS12_381_A2_FC1: u64 = 0xb401;

/// Format version of [`Pc1Output`].
pub const PC1_VERSION: u16 = 1;
/// Format version of [`Pc2Output`].
pub const PC2_VERSION: u16 = 1;

/// Why a sealing phase failed or its output was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SealError {
    /// The staged sector file is not exactly one sector.
    #[error("staged sector {path} is {actual} bytes, a {proof} sector is {expected}")]
    StagedSize {
        /// The file.
        path: PathBuf,
        /// Its size.
        actual: u64,
        /// The sector size.
        expected: u64,
        /// The seal proof.
        proof: &'static str,
    },
    /// The pieces do not describe the staged data.
    #[error("pieces give CommD {from_pieces}, the staged data has {from_data}")]
    PiecesMismatch {
        /// CommD from the pieces, hex.
        from_pieces: String,
        /// CommD of the data, hex.
        from_data: String,
    },
    /// A cache folder that does not hold this sector's phase files.
    #[error("cache folder {dir}: {file}: {why}")]
    CacheMismatch {
        /// The folder.
        dir: PathBuf,
        /// The file at fault.
        file: String,
        /// What is wrong.
        why: String,
    },
    /// A phase output that belongs to another sector or seal proof.
    #[error("phase output mismatch: {0}")]
    OutputMismatch(String),
    /// Labelling, parents or encoding failed.
    #[error(transparent)]
    Sdr(#[from] SdrError),
    /// Building or reading a tree failed.
    #[error(transparent)]
    Tree(#[from] TreeError),
    /// Pieces could not be committed.
    #[error(transparent)]
    Piece(#[from] PieceError),
    /// A phase output could not be decoded.
    #[error(transparent)]
    Codec(#[from] CodecError),
    /// File access failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        source: io::Error,
    },
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> SealError + '_ {
    move |source| SealError::Io {
        path: path.to_owned(),
        source,
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// tree_d's shape: binary over every node.
pub fn tree_d_shape(proof: SealProof) -> Result<TreeShape, TreeError> {
    let h = proof.nodes().trailing_zeros() as usize;
    TreeShape::new(vec![2; h], D_DISCARD)
}

/// The arities of tree_c and tree_r_last, leaves up: base arity over each
/// base tree, then the sub-tree and top-tree layers the shape has.
pub fn poseidon_arities(proof: SealProof) -> Vec<usize> {
    let s = proof.tree_shape();
    let base_leaves = u64::from(proof.nodes()) / s.base_tree_count() as u64;
    let mut arities = Vec::new();
    let mut n = 1u64;
    while n < base_leaves {
        arities.push(s.base);
        n *= s.base as u64;
    }
    if s.sub > 0 {
        arities.push(s.sub);
    }
    if s.top > 0 {
        arities.push(s.top);
    }
    arities
}

/// tree_c's shape.
pub fn tree_c_shape(proof: SealProof) -> Result<TreeShape, TreeError> {
    TreeShape::new(poseidon_arities(proof), C_DISCARD)
}

/// tree_r_last's shape.
pub fn tree_r_last_shape(proof: SealProof) -> Result<TreeShape, TreeError> {
    TreeShape::new(poseidon_arities(proof), R_DISCARD)
}

/// CommR = Poseidon(CommC, CommRLast). `None` if either is not a canonical
/// field element.
pub fn comm_r(comm_c: &Node, comm_r_last: &Node) -> Option<Node> {
    let c = fr_from_le_bytes(comm_c).ok()?;
    let r = fr_from_le_bytes(comm_r_last).ok()?;
    Some(fr_to_le_bytes(poseidon::hash2(c, r)))
}

/// CommR as a CID (`bagboea4b5abc…`), as Lotus prints it: CIDv1,
/// fil-commitment-sealed, with a poseidon-bls12_381-a2-fc1 multihash.
pub fn comm_r_cid(comm_r: &Node) -> Cid {
    // A 32-byte digest always fits a 64-byte multihash.
    let mh = Multihash::<64>::wrap(POSEIDON_BLS12_381_A2_FC1, comm_r).unwrap_or_default();
    Cid::new_v1(FIL_COMMITMENT_SEALED, mh)
}

/// CommD as a CID (`baga6ea4sea…`): the same form as a v1 piece CID,
/// fil-commitment-unsealed with a sha2-256-trunc254-padded multihash.
pub fn comm_d_cid(comm_d: &Node) -> Cid {
    let mh =
        Multihash::<64>::wrap(crate::commp::SHA2_256_TRUNC254_PADDED, comm_d).unwrap_or_default();
    Cid::new_v1(crate::commp::FIL_COMMITMENT_UNSEALED, mh)
}

/// A step of PreCommit 1 or 2, reported to an observer when it ends (see
/// [`precommit1_observed`]), for progress reports and benchmarks: the
/// library keeps no clock, the caller times the gaps between steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Step {
    /// PC1: tree_d over the staged sector, CommD checked against the pieces.
    TreeD,
    /// PC1: the parent cache found (or generated and its digest checked).
    ParentCache,
    /// PC1: every label layer written.
    Labels,
    /// PC1: the SHA-256 of every layer file, for the output.
    LayerDigests,
    /// PC2: the cache folder checked against the PreCommit 1 output.
    CheckCache,
    /// PC2: tree_c over the columns, CommC.
    TreeC,
    /// PC2: the replica written (staged data plus the last layer).
    Encode,
    /// PC2: tree_r_last over the replica, CommRLast and CommR.
    TreeRLast,
}

impl Step {
    /// A short name: `tree_d`, `parent_cache`, `labels`, `layer_digests`,
    /// `check_cache`, `tree_c`, `encode`, `tree_r_last`.
    pub fn name(self) -> &'static str {
        match self {
            Step::TreeD => "tree_d",
            Step::ParentCache => "parent_cache",
            Step::Labels => "labels",
            Step::LayerDigests => "layer_digests",
            Step::CheckCache => "check_cache",
            Step::TreeC => "tree_c",
            Step::Encode => "encode",
            Step::TreeRLast => "tree_r_last",
        }
    }
}

/// What PreCommit 1 produced: the sector's identity and commitments so far,
/// and a record of each label layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pc1Output {
    /// The seal proof (sector size and parameters).
    pub proof: SealProof,
    /// The provider.
    pub prover_id: ProverId,
    /// The sector number.
    pub sector_id: SectorId,
    /// The sealing ticket.
    pub ticket: Ticket,
    /// The pieces, in order (empty: a committed-capacity sector).
    pub pieces: Vec<PieceInfo>,
    /// CommD: tree_d's root.
    pub comm_d: Node,
    /// The replica id.
    pub replica_id: ReplicaId,
    /// SHA-256 of each label layer file, layer 1 first.
    pub layer_digests: Vec<Node>,
}

impl Pc1Output {
    /// Canonical, checksummed bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut e = Encoder::new(Kind::PreCommit1, PC1_VERSION);
        e.u64(self.proof.id())
            .node(self.prover_id.as_bytes())
            .u64(self.sector_id.0)
            .node(self.ticket.as_bytes())
            .node(&self.comm_d)
            .node(self.replica_id.as_bytes());
        e.len(self.pieces.len());
        for p in &self.pieces {
            e.node(&p.comm_p).u64(p.padded_size);
        }
        e.len(self.layer_digests.len());
        for d in &self.layer_digests {
            e.node(d);
        }
        e.finish_checksummed()
    }

    /// Decodes and checks bytes from [`Pc1Output::to_bytes`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, SealError> {
        let (mut d, _v) = Decoder::new(bytes, Kind::PreCommit1, PC1_VERSION, true)?;
        let proof = SealProof::from_id(d.u64("seal proof")?).map_err(|e| CodecError::Invalid {
            what: "seal proof",
            why: e.to_string(),
        })?;
        let prover_id = ProverId(d.node("prover id")?);
        let sector_id = SectorId(d.u64("sector id")?);
        let ticket = Ticket(d.node("ticket")?);
        let comm_d = d.node("CommD")?;
        let replica_id = ReplicaId(d.node("replica id")?);
        let max_pieces = proof.sector_size() / pieces::MIN_PIECE_PADDED;
        let n = d.len("pieces", max_pieces, 40)?;
        let mut ps = Vec::with_capacity(n);
        for _ in 0..n {
            let comm_p = d.node("piece CommP")?;
            let size = d.u64("piece size")?;
            ps.push(
                PieceInfo::new(comm_p, size).map_err(|e| CodecError::Invalid {
                    what: "piece size",
                    why: e.to_string(),
                })?,
            );
        }
        let layers = u64::from(proof.layers());
        let n = d.len("layer digests", layers, 32)?;
        if n as u64 != layers {
            return Err(CodecError::Invalid {
                what: "layer digests",
                why: format!("{n} layers, a {} sector has {layers}", proof.name()),
            }
            .into());
        }
        let layer_digests = (0..n)
            .map(|_| d.node("layer digest"))
            .collect::<Result<_, _>>()?;
        d.finish()?;
        Ok(Self {
            proof,
            prover_id,
            sector_id,
            ticket,
            pieces: ps,
            comm_d,
            replica_id,
            layer_digests,
        })
    }

    /// Checks that `cache_dir` holds this sector's PreCommit 1 files: every
    /// layer and tree_d with the right size, tree_d's root equal to CommD,
    /// and the labels of sampled nodes in every layer equal to what their
    /// parents' labels give.
    pub fn check_cache(&self, cache_dir: &Path) -> Result<(), SealError> {
        let mismatch = |file: &str, why: String| SealError::CacheMismatch {
            dir: cache_dir.to_owned(),
            file: file.to_owned(),
            why,
        };
        let nodes = u64::from(self.proof.nodes());
        let layer_bytes = nodes * 32;
        for l in 1..=self.proof.layers() {
            let name = layer_file_name(l);
            let p = cache_dir.join(&name);
            let len = fs::metadata(&p)
                .map_err(|e| mismatch(&name, format!("missing ({e})")))?
                .len();
            if len != layer_bytes {
                return Err(mismatch(
                    &name,
                    format!("{len} bytes, expected {layer_bytes}"),
                ));
            }
        }
        let tree_d = tree::StoredTree::open(tree_d_shape(self.proof)?, &cache_dir.join(TREE_D))
            .map_err(|e| mismatch(TREE_D, e.to_string()))?;
        if tree_d.root()? != self.comm_d {
            return Err(mismatch(TREE_D, "root is not this sector's CommD".into()));
        }
        let graph = StackedGraph::for_proof(self.proof);
        let columns = Columns::open(cache_dir, self.proof.layers())?;
        let samples = [0, 1, nodes / 3, nodes / 2 + 1, nodes - 1];
        for layer in 1..=self.proof.layers() {
            for &node in &samples {
                let stored = columns.column(node).map_err(io_err(cache_dir))?;
                let want = recompute_label(&graph, &columns, &self.replica_id, layer, node)?;
                if stored.get(layer as usize - 1) != Some(&want) {
                    return Err(mismatch(
                        &layer_file_name(layer),
                        format!(
                            "label of node {node} does not follow from its parents: another sector's layer, or damaged"
                        ),
                    ));
                }
            }
        }
        Ok(())
    }
}

/// The label of `node` in `layer`, from its parents' stored labels.
fn recompute_label(
    graph: &StackedGraph,
    columns: &Columns,
    replica_id: &ReplicaId,
    layer: u32,
    node: u64,
) -> Result<Node, SealError> {
    let node32 = u32::try_from(node)
        .map_err(|_| SealError::OutputMismatch(format!("node {node} out of range")))?;
    let parents = graph.parents(node32);
    let mut labels = Vec::with_capacity(14);
    if node > 0 {
        let (drg, exp) = parents.split_at(graph_drg_degree());
        for &p in drg {
            let col = columns
                .column(u64::from(p))
                .map_err(|source| SealError::Io {
                    path: PathBuf::from("layers"),
                    source,
                })?;
            labels.push(col.get(layer as usize - 1).copied().unwrap_or_default());
        }
        if layer > 1 {
            for &p in exp {
                let col = columns
                    .column(u64::from(p))
                    .map_err(|source| SealError::Io {
                        path: PathBuf::from("layers"),
                        source,
                    })?;
                labels.push(col.get(layer as usize - 2).copied().unwrap_or_default());
            }
        }
    }
    Ok(label_node(replica_id, layer, node32, &labels)?)
}

fn graph_drg_degree() -> usize {
    crate::sector::DRG_DEGREE
}

/// Writes `path` via a temporary file and a rename.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), SealError> {
    let tmp = path.with_extension("tmp");
    fs::write(&tmp, bytes).map_err(io_err(&tmp))?;
    File::open(&tmp)
        .and_then(|f| f.sync_all())
        .map_err(io_err(&tmp))?;
    rename_durably(&tmp, path)
}

/// Renames `from` to `to` and fsyncs `to`'s folder, so the new name
/// survives a power loss, not only a killed process.
fn rename_durably(from: &Path, to: &Path) -> Result<(), SealError> {
    fs::rename(from, to).map_err(io_err(to))?;
    let dir = match to.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err(dir))
}

/// Builds a tree into `dir/name` via a temporary file.
fn build_tree(
    shape: &TreeShape,
    hasher: &impl tree::TreeHasher,
    src: &(impl LeafSource + ?Sized),
    dir: &Path,
    name: &str,
    threads: usize,
) -> Result<Node, SealError> {
    let path = dir.join(name);
    let tmp = dir.join(format!("{name}.tmp"));
    let root = tree::build(shape, hasher, src, &tmp, threads)?;
    rename_durably(&tmp, &path)?;
    Ok(root)
}

/// Inputs of PreCommit 1.
#[derive(Debug, Clone)]
pub struct Pc1Inputs<'a> {
    /// The seal proof.
    pub proof: SealProof,
    /// Folder of the parent cache (shared by all sectors of a size;
    /// generated there on first use).
    pub parent_cache_dir: &'a Path,
    /// The staged sector: exactly one sector of fr32-padded pieces.
    pub staged: &'a Path,
    /// The sector's cache folder (created if missing).
    pub cache_dir: &'a Path,
    /// The provider.
    pub prover_id: ProverId,
    /// The sector number.
    pub sector_id: SectorId,
    /// The sealing ticket.
    pub ticket: Ticket,
    /// The staged pieces, in order; their CommD must be the data's.
    pub pieces: &'a [PieceInfo],
    /// Worker threads for tree building and the parent cache.
    pub threads: usize,
}

/// PreCommit 1: tree_d and CommD over the staged sector, the replica id,
/// and every label layer into the cache folder.
pub fn precommit1(inp: &Pc1Inputs<'_>) -> Result<Pc1Output, SealError> {
    precommit1_observed(inp, &mut |_| {})
}

/// [`precommit1`], calling `step_done` as each of its steps ends
/// ([`Step::TreeD`], [`Step::ParentCache`], [`Step::Labels`],
/// [`Step::LayerDigests`], in that order).
pub fn precommit1_observed(
    inp: &Pc1Inputs<'_>,
    step_done: &mut dyn FnMut(Step),
) -> Result<Pc1Output, SealError> {
    let proof = inp.proof;
    let actual = fs::metadata(inp.staged).map_err(io_err(inp.staged))?.len();
    if actual != proof.sector_size() {
        return Err(SealError::StagedSize {
            path: inp.staged.to_owned(),
            actual,
            expected: proof.sector_size(),
            proof: proof.name(),
        });
    }
    fs::create_dir_all(inp.cache_dir).map_err(io_err(inp.cache_dir))?;
    let staged = NodeFile(File::open(inp.staged).map_err(io_err(inp.staged))?);
    let comm_d = build_tree(
        &tree_d_shape(proof)?,
        &Sha256Hasher,
        &staged,
        inp.cache_dir,
        TREE_D,
        inp.threads,
    )?;
    if !inp.pieces.is_empty() {
        let from_pieces = pieces::comm_d(proof.sector_size(), inp.pieces)?;
        if from_pieces != comm_d {
            return Err(SealError::PiecesMismatch {
                from_pieces: hex(&from_pieces),
                from_data: hex(&comm_d),
            });
        }
    }
    step_done(Step::TreeD);
    let replica_id = sdr::replica_id(
        &inp.prover_id,
        inp.sector_id,
        &inp.ticket,
        &comm_d,
        &proof.porep_id(),
    );
    let cache = sdr::cache::ensure_parent_cache(proof, inp.parent_cache_dir, inp.threads, false)?;
    step_done(Step::ParentCache);
    let graph = StackedGraph::for_proof(proof);
    let mut parents = ParentCacheReader::open(&cache, graph.nodes())?;
    let files = sdr::generate_layers(
        &graph,
        &mut parents,
        &replica_id,
        proof.layers(),
        inp.cache_dir,
    )?;
    step_done(Step::Labels);
    let layer_digests = files
        .iter()
        .map(|p| sdr::cache::sha256_file(p))
        .collect::<Result<_, _>>()?;
    step_done(Step::LayerDigests);
    Ok(Pc1Output {
        proof,
        prover_id: inp.prover_id,
        sector_id: inp.sector_id,
        ticket: inp.ticket,
        pieces: inp.pieces.to_vec(),
        comm_d,
        replica_id,
        layer_digests,
    })
}

/// What PreCommit 2 produced: the commitments a PreCommit message carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pc2Output {
    /// The seal proof.
    pub proof: SealProof,
    /// The sector number.
    pub sector_id: SectorId,
    /// The replica id (from PreCommit 1).
    pub replica_id: ReplicaId,
    /// CommD.
    pub comm_d: Node,
    /// tree_c's root.
    pub comm_c: Node,
    /// tree_r_last's root.
    pub comm_r_last: Node,
    /// Poseidon(CommC, CommRLast): the sealed sector's commitment.
    pub comm_r: Node,
}

impl Pc2Output {
    /// Canonical, checksummed bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut e = Encoder::new(Kind::PreCommit2, PC2_VERSION);
        e.u64(self.proof.id())
            .u64(self.sector_id.0)
            .node(self.replica_id.as_bytes())
            .node(&self.comm_d)
            .node(&self.comm_c)
            .node(&self.comm_r_last)
            .node(&self.comm_r);
        e.finish_checksummed()
    }

    /// Decodes and checks bytes from [`Pc2Output::to_bytes`], including
    /// CommR = Poseidon(CommC, CommRLast).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, SealError> {
        let (mut d, _v) = Decoder::new(bytes, Kind::PreCommit2, PC2_VERSION, true)?;
        let proof = SealProof::from_id(d.u64("seal proof")?).map_err(|e| CodecError::Invalid {
            what: "seal proof",
            why: e.to_string(),
        })?;
        let out = Self {
            proof,
            sector_id: SectorId(d.u64("sector id")?),
            replica_id: ReplicaId(d.node("replica id")?),
            comm_d: d.node("CommD")?,
            comm_c: d.node("CommC")?,
            comm_r_last: d.node("CommRLast")?,
            comm_r: d.node("CommR")?,
        };
        d.finish()?;
        if comm_r(&out.comm_c, &out.comm_r_last) != Some(out.comm_r) {
            return Err(CodecError::Invalid {
                what: "CommR",
                why: "not Poseidon(CommC, CommRLast)".into(),
            }
            .into());
        }
        Ok(out)
    }

    /// Checks that `cache_dir` holds this sector's PreCommit 2 trees with
    /// the recorded roots.
    pub fn check_cache(&self, cache_dir: &Path) -> Result<(), SealError> {
        for (name, shape, root) in [
            (TREE_C, tree_c_shape(self.proof)?, self.comm_c),
            (
                TREE_R_LAST,
                tree_r_last_shape(self.proof)?,
                self.comm_r_last,
            ),
        ] {
            let t = tree::StoredTree::open(shape, &cache_dir.join(name)).map_err(|e| {
                SealError::CacheMismatch {
                    dir: cache_dir.to_owned(),
                    file: name.into(),
                    why: e.to_string(),
                }
            })?;
            if t.root()? != root {
                return Err(SealError::CacheMismatch {
                    dir: cache_dir.to_owned(),
                    file: name.into(),
                    why: "root is not this sector's".into(),
                });
            }
        }
        Ok(())
    }
}

/// PreCommit 2: tree_c over the layers' columns, the replica (staged data
/// plus the last layer) written to `sealed`, tree_r_last over it, and CommR.
/// The cache folder is checked against `pc1` first.
pub fn precommit2(
    pc1: &Pc1Output,
    staged: &Path,
    cache_dir: &Path,
    sealed: &Path,
    threads: usize,
) -> Result<Pc2Output, SealError> {
    precommit2_observed(pc1, staged, cache_dir, sealed, threads, &mut |_| {})
}

/// [`precommit2`], calling `step_done` as each of its steps ends
/// ([`Step::CheckCache`], [`Step::TreeC`], [`Step::Encode`],
/// [`Step::TreeRLast`], in that order).
pub fn precommit2_observed(
    pc1: &Pc1Output,
    staged: &Path,
    cache_dir: &Path,
    sealed: &Path,
    threads: usize,
    step_done: &mut dyn FnMut(Step),
) -> Result<Pc2Output, SealError> {
    precommit2_with(
        pc1,
        staged,
        cache_dir,
        sealed,
        threads,
        &CpuBackend,
        step_done,
    )
}

/// [`precommit2_observed`] with the batched Poseidon (tree_c's columns and
/// rows, tree_r_last's rows) on `backend`.
pub fn precommit2_with(
    pc1: &Pc1Output,
    staged: &Path,
    cache_dir: &Path,
    sealed: &Path,
    threads: usize,
    backend: &dyn ProverBackend,
    step_done: &mut dyn FnMut(Step),
) -> Result<Pc2Output, SealError> {
    let proof = pc1.proof;
    let actual = fs::metadata(staged).map_err(io_err(staged))?.len();
    if actual != proof.sector_size() {
        return Err(SealError::StagedSize {
            path: staged.to_owned(),
            actual,
            expected: proof.sector_size(),
            proof: proof.name(),
        });
    }
    pc1.check_cache(cache_dir)?;
    step_done(Step::CheckCache);
    let columns = Columns::open_with(cache_dir, proof.layers(), backend)?;
    let comm_c = build_tree(
        &tree_c_shape(proof)?,
        &BackendPoseidon(backend),
        &columns,
        cache_dir,
        TREE_C,
        threads,
    )?;
    step_done(Step::TreeC);

    let key = cache_dir.join(layer_file_name(proof.layers()));
    let tmp = sealed.with_extension("tmp");
    sdr::encode::encode_file(staged, &key, &tmp)?;
    rename_durably(&tmp, sealed)?;
    step_done(Step::Encode);
    let replica = NodeFile(File::open(sealed).map_err(io_err(sealed))?);
    let comm_r_last = build_tree(
        &tree_r_last_shape(proof)?,
        &BackendPoseidon(backend),
        &replica,
        cache_dir,
        TREE_R_LAST,
        threads,
    )?;
    let comm_r = comm_r(&comm_c, &comm_r_last).ok_or_else(|| {
        SealError::OutputMismatch("CommC or CommRLast is not a field element".into())
    })?;
    step_done(Step::TreeRLast);
    Ok(Pc2Output {
        proof,
        sector_id: pc1.sector_id,
        replica_id: pc1.replica_id,
        comm_d: pc1.comm_d,
        comm_c,
        comm_r_last,
        comm_r,
    })
}

/// Writes a phase output's bytes to `path` atomically (temporary file,
/// fsync, rename): a journal entry a crash cannot tear.
pub fn write_output(path: &Path, bytes: &[u8]) -> Result<(), SealError> {
    write_atomic(path, bytes)
}

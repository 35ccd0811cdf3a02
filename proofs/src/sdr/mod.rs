//! SDR, Stacked Depth Robust Graphs: the sealing half of Filecoin's PoRep,
//! byte-identical to storage-proofs-porep 19.1.0 (interactive PoRep, API
//! version 1.1).
//!
//! Goals: produce, from a staged (fr32-padded) sector, the label layers
//! and the sealed replica that rust-fil-proofs' `seal_pre_commit_phase1`
//! and `_phase2` produce, bit for bit, with the same file names in the
//! sector's cache folder; and give the verifier the pure pieces it needs
//! (a node's parents, one label from its parents' labels, challenges).
//!
//! Non-goals here: the Poseidon trees TreeC and TreeRLast (CommC, CommRLast,
//! CommR), proofs and circuits, the multicore SDR pipeline.
//!
//! Flow of PreCommit 1, module by module:
//! 1. [`seeds`]: the PoRep id gives the DRG seed and the Feistel keys; the
//!    prover id, sector id, ticket and CommD give the replica id.
//! 2. [`graph`]: each node's 14 parents, 6 DRG parents in the same layer
//!    and 8 expander parents in the previous one.
//! 3. [`cache`]: those parents for every node, generated once per sector
//!    size into the v28 parent cache file (14 little-endian u32 per node)
//!    and streamed back in order while labelling.
//! 4. [`label`]: layer after layer, each node's label is SHA-256 of the
//!    replica id, the layer and node numbers and 37 parent labels, top two
//!    bits cleared; each layer is written to `sc-02-data-layer-{n}.dat`.
//!    Memory: two layers.
//! 5. [`encode`]: the replica is the staged data plus the last layer, node
//!    by node, in the BLS12-381 scalar field.

pub mod cache;
pub mod encode;
pub mod feistel;
pub mod graph;
pub mod label;
pub mod seeds;

use std::io;
use std::path::PathBuf;

pub use cache::{ParentCacheReader, ParentSource, generate_parent_cache, parent_cache_file_name};
pub use encode::{decode_node, encode_node};
pub use graph::{DEGREE, Parents, StackedGraph};
pub use label::{Label, generate_layers, label_node, layer_file_name};
pub use seeds::{ProverId, ReplicaId, SectorId, Seed, Ticket, replica_id};

/// Why an SDR step failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SdrError {
    /// A graph needs at least two nodes.
    #[error("a graph of {nodes} nodes is too small (at least 2)")]
    TooFewNodes {
        /// Nodes asked for.
        nodes: u32,
    },
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        #[source]
        source: io::Error,
    },
    /// A file has the wrong length for the graph it should belong to.
    #[error("{path}: {actual} bytes, expected {expected}")]
    FileSize {
        /// The file.
        path: PathBuf,
        /// Length it should have.
        expected: u64,
        /// Length it has.
        actual: u64,
    },
    /// A parent cache file's SHA-256 is not the published one.
    #[error("parent cache {path}: sha256 {actual}, expected {expected}")]
    ParentCacheDigest {
        /// The file.
        path: PathBuf,
        /// Published digest, hex.
        expected: String,
        /// Digest of the file, hex.
        actual: String,
    },
    /// A parent index that cannot be right: past the graph, or a same-layer
    /// parent not before its node. Only a corrupt parent cache gives one.
    #[error("layer {layer} node {node}: parent {parent} out of range")]
    ParentOutOfRange {
        /// Layer being labelled.
        layer: u32,
        /// Node being labelled.
        node: u32,
        /// The offending parent index.
        parent: u32,
    },
    /// [`label_node`] was given the wrong number of parent labels.
    #[error("layer {layer} node {node}: {actual} parent labels, expected {expected}")]
    ParentCount {
        /// Layer of the node.
        layer: u32,
        /// The node.
        node: u32,
        /// 0 for node 0, 6 in layer 1, 14 in later layers.
        expected: usize,
        /// Labels given.
        actual: usize,
    },
    /// Layers count from 1.
    #[error("layer {layer} is not a layer (they count from 1)")]
    InvalidLayer {
        /// The layer given.
        layer: u32,
    },
    /// A 32-byte node is not a canonical BLS12-381 scalar (it is at least
    /// the field modulus), so it cannot be encoded or decoded.
    #[error("node {node} is not a field element")]
    NotInField {
        /// Index of the node.
        node: u64,
    },
    /// The thread gathering parent labels stopped before the layer was
    /// complete.
    #[error("layer {layer}: labelling stopped at node {node}")]
    LabellingStopped {
        /// The layer.
        layer: u32,
        /// The first node not labelled.
        node: u64,
    },
}

impl SdrError {
    fn io(path: impl Into<PathBuf>) -> impl FnOnce(io::Error) -> SdrError {
        let path = path.into();
        move |source| SdrError::Io { path, source }
    }
}

//! Merkle trees over sector-sized data, kept on disk, with openings.
//!
//! One shape covers all of Filecoin's sealing trees: a list of arities from
//! the leaves up. tree_d is binary SHA-256 (`[2; h]`); tree_c and tree_r_last
//! are Poseidon with base arity 8, then the sub-tree arity and the top-tree
//! arity when the sector shape has them (32 GiB: `[8; 10]`, 64 GiB:
//! `[8; 10] + [2]`). A compound tree of Filecoin's (`LCTree<8, 8, 2>`) has the
//! same root as this one-piece tree, because its base trees are contiguous
//! leaf ranges.
//!
//! What is stored: the rows from `discard` up to the root, one file, row after
//! row. The rows below are recomputed from the leaves when a path is opened
//! (a few KiB of reads and `arity^discard` hashes), as rust-fil-proofs does
//! for tree_r_last; we do it for every tree, so a 32 GiB sector's trees take
//! ~600 MB each instead of 36 GiB.
//!
//! Building is parallel: the leaves are cut into aligned chunks that worker
//! threads reduce independently, writing their rows with positioned writes;
//! the few rows above the chunks are finished on the calling thread.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::codec::{CodecError, Decoder, Encoder};
use crate::commp::{Node, hash_nodes};
use crate::field::{Fr, fr_from_le_bytes, fr_to_le_bytes};
use crate::poseidon;
use crate::snark::backend::{CpuBackend, ProverBackend};

/// Why a tree could not be built, opened or read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TreeError {
    /// An arity list that is empty or holds an arity the hasher lacks.
    #[error("bad tree shape {arities:?}: {why}")]
    BadShape {
        /// The arities, leaves up.
        arities: Vec<usize>,
        /// What is wrong with them.
        why: &'static str,
    },
    /// A leaf index past the last leaf.
    #[error("leaf {leaf} is out of range for a tree of {leaves} leaves")]
    LeafOutOfRange {
        /// The index asked for.
        leaf: u64,
        /// Leaves in the tree.
        leaves: u64,
    },
    /// A stored tree file whose size does not fit the shape.
    #[error("tree file {path} is {actual} bytes, expected {expected}")]
    FileSize {
        /// The file.
        path: PathBuf,
        /// Size on disk.
        actual: u64,
        /// Size the shape implies.
        expected: u64,
    },
    /// Reading leaves or the tree file, or writing it, failed.
    #[error("tree I/O: {0}")]
    Io(#[from] io::Error),
}

/// Hashes `arity` children into their parent.
pub trait TreeHasher: Sync {
    /// Whether this hasher has a function for `arity` children.
    fn supports(&self, arity: usize) -> bool;
    /// Whether `node` is a value this hasher's nodes can take (Poseidon:
    /// a canonical field element). Paths with other values do not verify.
    fn valid_node(&self, _node: &Node) -> bool {
        true
    }
    /// The parent of `children` (`children.len()` is a supported arity).
    fn hash(&self, children: &[Node]) -> Node;
    /// The parents of consecutive groups of `arity` children: `out[k]` is
    /// the parent of `children[k * arity..(k + 1) * arity]`, as
    /// [`TreeHasher::hash`] gives it (`arity` is supported and
    /// `children.len() == out.len() * arity`). Tree building hashes whole
    /// rows with this; the default hashes one group at a time, a hasher with
    /// a faster way to hash many (SIMD) overrides it with the same values.
    fn hash_many(&self, children: &[Node], arity: usize, out: &mut [Node]) {
        for (o, c) in out.iter_mut().zip(children.chunks_exact(arity.max(1))) {
            *o = self.hash(c);
        }
    }
}

/// sha2-256-trunc254 binary tree nodes (tree_d, CommP, CommD).
#[derive(Debug, Clone, Copy, Default)]
pub struct Sha256Hasher;

impl TreeHasher for Sha256Hasher {
    fn supports(&self, arity: usize) -> bool {
        arity == 2
    }

    fn hash(&self, children: &[Node]) -> Node {
        match children {
            [l, r] => hash_nodes(l, r),
            _ => [0; 32],
        }
    }
}

/// Poseidon nodes (tree_c, tree_r_last): 32-byte little-endian canonical
/// BLS12-381 scalars, hashed with Filecoin's arity-2, -4, -8 or -16
/// instance.
#[derive(Debug, Clone, Copy, Default)]
pub struct PoseidonHasher;

/// What a Poseidon parent of a non-canonical child is: itself non-canonical,
/// so no root built on it can equal a real one.
const POISONED: Node = [0xff; 32];

impl TreeHasher for PoseidonHasher {
    fn supports(&self, arity: usize) -> bool {
        matches!(arity, 2 | 4 | 8 | 16)
    }

    fn valid_node(&self, node: &Node) -> bool {
        fr_from_le_bytes(node).is_ok()
    }

    fn hash(&self, children: &[Node]) -> Node {
        let mut frs = [Fr::from(0u64); 16];
        for (f, c) in frs.iter_mut().zip(children) {
            match fr_from_le_bytes(c) {
                Ok(x) => *f = x,
                Err(_) => return POISONED,
            }
        }
        match poseidon::hash(frs.get(..children.len()).unwrap_or_default()) {
            Ok(h) => fr_to_le_bytes(h),
            Err(_) => POISONED,
        }
    }

    /// Eight groups at a time with AVX-512 IFMA where the CPU has it
    /// ([`poseidon::batch_backend`]); a group with a non-canonical child
    /// gets [`POISONED`], as from `hash`.
    fn hash_many(&self, children: &[Node], arity: usize, out: &mut [Node]) {
        BackendPoseidon(&CpuBackend).hash_many(children, arity, out);
    }
}

/// Poseidon nodes hashed in rows by a [`ProverBackend`] (PreCommit 2's
/// trees): the same values as [`PoseidonHasher`], wherever computed.
#[derive(Debug, Clone, Copy)]
pub struct BackendPoseidon<'a>(pub &'a dyn ProverBackend);

impl TreeHasher for BackendPoseidon<'_> {
    fn supports(&self, arity: usize) -> bool {
        PoseidonHasher.supports(arity)
    }

    fn valid_node(&self, node: &Node) -> bool {
        PoseidonHasher.valid_node(node)
    }

    fn hash(&self, children: &[Node]) -> Node {
        PoseidonHasher.hash(children)
    }

    fn hash_many(&self, children: &[Node], arity: usize, out: &mut [Node]) {
        let batched = poseidon::Arity::try_from(arity)
            .ok()
            .filter(|_| self.supports(arity))
            .and_then(|a| self.0.poseidon_rows(a, children, out, POISONED).ok());
        if batched.is_none() {
            // An arity without an instance, or lengths that do not pair
            // up: one group at a time, as the default does.
            for (o, c) in out.iter_mut().zip(children.chunks_exact(arity.max(1))) {
                *o = self.hash(c);
            }
        }
    }
}

/// Where leaves come from: random access by index.
pub trait LeafSource: Sync {
    /// Fills `out` with leaves `start..start + out.len()`.
    fn read_leaves(&self, start: u64, out: &mut [Node]) -> io::Result<()>;
}

/// A file of 32-byte nodes (a replica, a staged sector, a label layer).
#[derive(Debug)]
pub struct NodeFile(pub File);

impl NodeFile {
    /// Reads nodes `start..start + out.len()` of a node file.
    pub fn read_at(file: &File, start: u64, out: &mut [Node]) -> io::Result<()> {
        file.read_exact_at(out.as_flattened_mut(), start * 32)
    }
}

impl LeafSource for NodeFile {
    fn read_leaves(&self, start: u64, out: &mut [Node]) -> io::Result<()> {
        let bytes = out.as_flattened_mut();
        self.0.read_exact_at(bytes, start * 32)
    }
}

impl LeafSource for [Node] {
    fn read_leaves(&self, start: u64, out: &mut [Node]) -> io::Result<()> {
        let s = usize::try_from(start).map_err(|_| io::ErrorKind::InvalidInput)?;
        let src = self
            .get(s..s + out.len())
            .ok_or(io::ErrorKind::UnexpectedEof)?;
        out.copy_from_slice(src);
        Ok(())
    }
}

/// A tree's shape: arities from the leaves up, and how many rows above the
/// leaves are not stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeShape {
    arities: Vec<usize>,
    discard: usize,
}

impl TreeShape {
    /// A shape; `discard` is clamped to the height (at most the root is kept).
    pub fn new(arities: Vec<usize>, discard: usize) -> Result<Self, TreeError> {
        if arities.is_empty() {
            return Err(TreeError::BadShape {
                arities,
                why: "no levels",
            });
        }
        if arities.iter().any(|&a| a < 2) {
            return Err(TreeError::BadShape {
                arities,
                why: "an arity below 2",
            });
        }
        let mut leaves: u64 = 1;
        for &a in &arities {
            leaves = leaves.checked_mul(a as u64).ok_or(TreeError::BadShape {
                arities: arities.clone(),
                why: "more than 2^64 leaves",
            })?;
        }
        let discard = discard.min(arities.len());
        Ok(Self { arities, discard })
    }

    /// Arities, leaves up.
    pub fn arities(&self) -> &[usize] {
        &self.arities
    }

    /// Rows above the leaves that are recomputed rather than stored.
    pub fn discard(&self) -> usize {
        self.discard
    }

    /// Number of leaves.
    pub fn leaves(&self) -> u64 {
        self.arities.iter().map(|&a| a as u64).product()
    }

    /// Height: the root is row `height()`.
    pub fn height(&self) -> usize {
        self.arities.len()
    }

    /// Nodes in row `r` (row 0 = leaves).
    pub fn row_len(&self, r: usize) -> u64 {
        self.leaves() / self.span(r)
    }

    /// Leaves under one node of row `r`.
    pub fn span(&self, r: usize) -> u64 {
        self.arities.iter().take(r).map(|&a| a as u64).product()
    }

    /// Byte offset of row `r` (≥ discard) in the stored file.
    fn row_offset(&self, r: usize) -> u64 {
        (self.discard..r).map(|q| self.row_len(q) * 32).sum()
    }

    /// Size of the stored file.
    pub fn stored_bytes(&self) -> u64 {
        self.row_offset(self.height() + 1)
    }

    fn check_hasher(&self, h: &impl TreeHasher) -> Result<(), TreeError> {
        if self.arities.iter().all(|&a| h.supports(a)) {
            Ok(())
        } else {
            Err(TreeError::BadShape {
                arities: self.arities.clone(),
                why: "an arity the hasher does not support",
            })
        }
    }
}

/// Reduces `nodes` (a whole number of groups) one row up with arity `a`.
fn reduce_row(h: &impl TreeHasher, nodes: &[Node], a: usize) -> Vec<Node> {
    let mut out = vec![[0u8; 32]; nodes.len() / a.max(1)];
    let groups = nodes.get(..out.len() * a).unwrap_or_default();
    h.hash_many(groups, a, &mut out);
    out
}

/// Builds the tree over `src` and writes its stored rows to `path`
/// (created or truncated); returns the root. Uses `threads` workers.
pub fn build(
    shape: &TreeShape,
    hasher: &impl TreeHasher,
    src: &(impl LeafSource + ?Sized),
    path: &Path,
    threads: usize,
) -> Result<Node, TreeError> {
    shape.check_hasher(hasher)?;
    let file = File::create(path)?;
    file.set_len(shape.stored_bytes())?;

    // Batch: the lowest row whose subtrees hold ≥ 4096 leaves (or the root),
    // but never below the first stored row. Chunk: the lowest row at or above
    // the batch row with at most 64 nodes, so workers balance.
    let height = shape.height();
    let mut batch_row = shape.discard;
    while batch_row < height && shape.span(batch_row) < 4096 {
        batch_row += 1;
    }
    let mut chunk_row = batch_row;
    while chunk_row < height && shape.row_len(chunk_row) > 64 {
        chunk_row += 1;
    }
    let chunks = shape.row_len(chunk_row) as usize;
    let next = AtomicUsize::new(0);
    let mut chunk_roots: Vec<Node> = vec![[0; 32]; chunks];
    let threads = threads.clamp(1, chunks.max(1));

    let results: Vec<Result<Vec<(usize, Node)>, TreeError>> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let c = next.fetch_add(1, Ordering::Relaxed);
                        if c >= chunks {
                            return Ok(done);
                        }
                        let root =
                            build_chunk(shape, hasher, src, &file, c as u64, batch_row, chunk_row)?;
                        done.push((c, root));
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| {
                w.join()
                    .unwrap_or_else(|_| Err(io::Error::other("tree worker panicked").into()))
            })
            .collect()
    });
    for r in results {
        for (c, root) in r? {
            if let Some(slot) = chunk_roots.get_mut(c) {
                *slot = root;
            }
        }
    }

    // Rows above the chunks, on this thread.
    let mut row = chunk_roots;
    let mut r = chunk_row;
    loop {
        if r >= shape.discard {
            file.write_all_at(row.as_flattened(), shape.row_offset(r))?;
        }
        if r == height {
            break;
        }
        row = reduce_row(hasher, &row, shape.arities.get(r).copied().unwrap_or(2));
        r += 1;
    }
    file.sync_all()?;
    Ok(row.first().copied().unwrap_or([0; 32]))
}

/// Reduces chunk `c` (a subtree rooted at `chunk_row`) and writes its stored
/// rows below `chunk_row`; returns the chunk's root.
fn build_chunk(
    shape: &TreeShape,
    hasher: &impl TreeHasher,
    src: &(impl LeafSource + ?Sized),
    file: &File,
    c: u64,
    batch_row: usize,
    chunk_row: usize,
) -> Result<Node, TreeError> {
    let batch_leaves = shape.span(batch_row);
    let batches_per_chunk = shape.span(chunk_row) / batch_leaves;
    let mut leaves = vec![[0u8; 32]; batch_leaves as usize];
    // Nodes of rows batch_row..chunk_row for this chunk, built up in order.
    let mut upper: Vec<Vec<Node>> = vec![Vec::new(); chunk_row - batch_row + 1];
    for b in 0..batches_per_chunk {
        let batch = c * batches_per_chunk + b;
        src.read_leaves(batch * batch_leaves, &mut leaves)?;
        let mut row = leaves.clone();
        for r in 0..batch_row {
            if r >= shape.discard {
                let first = batch * batch_leaves / shape.span(r);
                file.write_all_at(row.as_flattened(), shape.row_offset(r) + first * 32)?;
            }
            row = reduce_row(hasher, &row, shape.arities.get(r).copied().unwrap_or(2));
        }
        if let Some(u) = upper.first_mut() {
            u.extend_from_slice(&row);
        }
    }
    // Rows batch_row..chunk_row: write, reduce.
    for i in 0..upper.len() {
        let r = batch_row + i;
        let nodes = std::mem::take(
            upper
                .get_mut(i)
                .ok_or(io::Error::from(io::ErrorKind::InvalidData))?,
        );
        if r >= shape.discard && r < chunk_row {
            let first = c * (nodes.len() as u64);
            file.write_all_at(nodes.as_flattened(), shape.row_offset(r) + first * 32)?;
        }
        if r == chunk_row {
            return Ok(nodes.first().copied().unwrap_or([0; 32]));
        }
        let a = shape.arities.get(r).copied().unwrap_or(2);
        let up = reduce_row(hasher, &nodes, a);
        if let Some(next) = upper.get_mut(i + 1) {
            *next = up;
        }
    }
    Err(io::Error::other("chunk reduction did not reach its root").into())
}

/// One level of a Merkle path: the siblings of the node on the path, and its
/// position among its `arity` children.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathLevel {
    /// The other `arity - 1` children, in order.
    pub siblings: Vec<Node>,
    /// Where the path's node goes among the children.
    pub index: u8,
}

/// An inclusion proof of one leaf: the leaf and a level per row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MerklePath {
    /// The leaf's value.
    pub leaf: Node,
    /// From the leaves up.
    pub levels: Vec<PathLevel>,
}

impl MerklePath {
    /// Appends the path's canonical bytes: the leaf, the level count, then
    /// per level its index, sibling count and siblings.
    pub fn encode(&self, e: &mut Encoder) {
        e.node(&self.leaf).u8(self.levels.len() as u8);
        for l in &self.levels {
            e.u8(l.index).u8(l.siblings.len() as u8);
            for s in &l.siblings {
                e.node(s);
            }
        }
    }

    /// Reads a path written by [`MerklePath::encode`]: at most 64 levels
    /// of at most 15 siblings (arity 16). Shape is checked by verification.
    pub fn decode(d: &mut Decoder<'_>) -> Result<Self, CodecError> {
        let leaf = d.node("path leaf")?;
        let n = d.u8("path levels")?;
        if n > 64 {
            return Err(CodecError::TooLong {
                what: "path levels",
                len: u64::from(n),
                max: 64,
            });
        }
        let mut levels = Vec::with_capacity(usize::from(n));
        for _ in 0..n {
            let index = d.u8("path index")?;
            let k = d.u8("path siblings")?;
            if k > 15 {
                return Err(CodecError::TooLong {
                    what: "path siblings",
                    len: u64::from(k),
                    max: 15,
                });
            }
            let siblings = (0..k)
                .map(|_| d.node("path sibling"))
                .collect::<Result<_, _>>()?;
            levels.push(PathLevel { siblings, index });
        }
        Ok(Self { leaf, levels })
    }

    /// The leaf index the path's positions spell out.
    pub fn leaf_index(&self) -> u64 {
        let mut idx: u64 = 0;
        let mut weight: u64 = 1;
        for l in &self.levels {
            idx = idx.saturating_add(u64::from(l.index).saturating_mul(weight));
            weight = weight.saturating_mul(l.siblings.len() as u64 + 1);
        }
        idx
    }

    /// The root this path leads to, or `None` if a level is malformed for
    /// `arities` (wrong sibling count, index out of range, wrong height).
    pub fn root(&self, hasher: &impl TreeHasher, arities: &[usize]) -> Option<Node> {
        if self.levels.len() != arities.len() {
            return None;
        }
        let mut node = self.leaf;
        if !hasher.valid_node(&node) {
            return None;
        }
        let mut children = Vec::with_capacity(16);
        for (l, &a) in self.levels.iter().zip(arities) {
            if l.siblings.len() + 1 != a
                || usize::from(l.index) >= a
                || !hasher.supports(a)
                || !l.siblings.iter().all(|s| hasher.valid_node(s))
            {
                return None;
            }
            children.clear();
            children.extend_from_slice(&l.siblings);
            children.insert(usize::from(l.index), node);
            node = hasher.hash(&children);
        }
        Some(node)
    }

    /// Whether this path proves leaf `leaf` under `root`.
    pub fn verify(
        &self,
        hasher: &impl TreeHasher,
        arities: &[usize],
        root: &Node,
        leaf: u64,
    ) -> bool {
        self.leaf_index() == leaf && self.root(hasher, arities).as_ref() == Some(root)
    }
}

/// A built tree on disk: its shape and stored rows.
#[derive(Debug)]
pub struct StoredTree {
    shape: TreeShape,
    file: File,
}

impl StoredTree {
    /// Opens the stored rows at `path`, checking the file's size.
    pub fn open(shape: TreeShape, path: &Path) -> Result<Self, TreeError> {
        let file = File::open(path)?;
        let actual = file.metadata()?.len();
        let expected = shape.stored_bytes();
        if actual != expected {
            return Err(TreeError::FileSize {
                path: path.to_owned(),
                actual,
                expected,
            });
        }
        Ok(Self { shape, file })
    }

    /// The shape.
    pub fn shape(&self) -> &TreeShape {
        &self.shape
    }

    /// The root, read from the file.
    pub fn root(&self) -> Result<Node, TreeError> {
        let mut root = [0u8; 32];
        self.file
            .read_exact_at(&mut root, self.shape.row_offset(self.shape.height()))?;
        Ok(root)
    }

    /// The inclusion path of `leaf`, recomputing the unstored rows from `src`.
    pub fn open_path(
        &self,
        hasher: &impl TreeHasher,
        src: &(impl LeafSource + ?Sized),
        leaf: u64,
    ) -> Result<MerklePath, TreeError> {
        let shape = &self.shape;
        shape.check_hasher(hasher)?;
        if leaf >= shape.leaves() {
            return Err(TreeError::LeafOutOfRange {
                leaf,
                leaves: shape.leaves(),
            });
        }
        let mut levels = Vec::with_capacity(shape.height());
        // Unstored rows: rebuild the subtree of span(discard) leaves.
        let group = shape.span(shape.discard);
        let mut row = vec![[0u8; 32]; group as usize];
        src.read_leaves(leaf / group * group, &mut row)?;
        let leaf_value = row
            .get((leaf % group) as usize)
            .copied()
            .ok_or(io::Error::from(io::ErrorKind::InvalidData))?;
        let mut pos = leaf % group;
        for r in 0..shape.discard {
            let a = shape.arities.get(r).copied().unwrap_or(2) as u64;
            let start = (pos / a * a) as usize;
            let kids = row
                .get(start..start + a as usize)
                .ok_or(io::Error::from(io::ErrorKind::InvalidData))?;
            levels.push(level_of(kids, (pos % a) as usize));
            row = reduce_row(hasher, &row, a as usize);
            pos /= a;
        }
        // Stored rows: read the siblings.
        let mut pos = leaf / group;
        for r in shape.discard..shape.height() {
            let a = shape.arities.get(r).copied().unwrap_or(2) as u64;
            let start = pos / a * a;
            let mut kids = vec![[0u8; 32]; a as usize];
            self.file
                .read_exact_at(kids.as_flattened_mut(), shape.row_offset(r) + start * 32)?;
            levels.push(level_of(&kids, (pos % a) as usize));
            pos /= a;
        }
        Ok(MerklePath {
            leaf: leaf_value,
            levels,
        })
    }
}

fn level_of(kids: &[Node], at: usize) -> PathLevel {
    PathLevel {
        siblings: kids
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != at)
            .map(|(_, n)| *n)
            .collect(),
        index: at as u8,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commp::commp;

    /// A toy arity-agnostic hash for shape tests (not cryptographic).
    struct Toy;
    impl TreeHasher for Toy {
        fn supports(&self, arity: usize) -> bool {
            arity == 2 || arity == 4 || arity == 8
        }
        fn hash(&self, children: &[Node]) -> Node {
            let mut h = sha2::Sha256::default();
            sha2::Digest::update(&mut h, [children.len() as u8]);
            for c in children {
                sha2::Digest::update(&mut h, c);
            }
            sha2::Digest::finalize(h).into()
        }
    }

    fn naive_root(h: &impl TreeHasher, leaves: &[Node], arities: &[usize]) -> Node {
        let mut row = leaves.to_vec();
        for &a in arities {
            row = reduce_row(h, &row, a);
        }
        row[0]
    }

    /// The root by `TreeHasher::hash`, one node at a time.
    fn root_one_at_a_time(h: &impl TreeHasher, leaves: &[Node], arities: &[usize]) -> Node {
        let mut row = leaves.to_vec();
        for &a in arities {
            row = row.chunks_exact(a).map(|c| h.hash(c)).collect();
        }
        row[0]
    }

    fn leaves(n: usize) -> Vec<Node> {
        (0..n)
            .map(|i| {
                let mut l = [0u8; 32];
                l[..8].copy_from_slice(&(i as u64 * 0x9e37_79b9).to_le_bytes());
                l
            })
            .collect()
    }

    #[test]
    fn roots_and_paths_for_every_discard_and_thread_count() {
        let dir = tempfile::tempdir().unwrap();
        for arities in [
            vec![2; 6],
            vec![8, 8],
            vec![8, 8, 8, 8, 2],
            vec![4, 8, 2],
            vec![8; 5],
        ] {
            let shape0 = TreeShape::new(arities.clone(), 0).unwrap();
            let data = leaves(shape0.leaves() as usize);
            let want = naive_root(&Toy, &data, &arities);
            for discard in 0..=arities.len() {
                for threads in [1, 2, 3] {
                    let shape = TreeShape::new(arities.clone(), discard).unwrap();
                    let path = dir.path().join("t");
                    let root = build(&shape, &Toy, &data[..], &path, threads).unwrap();
                    assert_eq!(
                        root, want,
                        "{arities:?} discard {discard} threads {threads}"
                    );
                    let t = StoredTree::open(shape.clone(), &path).unwrap();
                    assert_eq!(t.root().unwrap(), want);
                    for leaf in [0, 1, shape.leaves() / 3, shape.leaves() - 1] {
                        let p = t.open_path(&Toy, &data[..], leaf).unwrap();
                        assert_eq!(p.leaf, data[leaf as usize]);
                        assert!(
                            p.verify(&Toy, &arities, &want, leaf),
                            "{arities:?} leaf {leaf}"
                        );
                        // A path does not prove another leaf, nor another root.
                        assert!(!p.verify(&Toy, &arities, &want, (leaf + 1) % shape.leaves()));
                        let mut bad_root = want;
                        bad_root[0] ^= 1;
                        assert!(!p.verify(&Toy, &arities, &bad_root, leaf));
                        let mut forged = p.clone();
                        forged.leaf[5] ^= 1;
                        assert!(!forged.verify(&Toy, &arities, &want, leaf));
                    }
                }
            }
        }
    }

    /// Poseidon rows hashed in batches (SIMD where the CPU has it) give the
    /// roots of one-at-a-time hashing, for every arity and remainder.
    #[test]
    fn poseidon_batches_equal_one_at_a_time() {
        let dir = tempfile::tempdir().unwrap();
        for arities in [
            vec![8, 8, 8],
            vec![2; 9],
            vec![4, 4, 4],
            vec![16, 16],
            vec![8, 8, 8, 2],
        ] {
            let shape = TreeShape::new(arities.clone(), 1).unwrap();
            let data = leaves(shape.leaves() as usize);
            let want = root_one_at_a_time(&PoseidonHasher, &data, &arities);
            let root = build(&shape, &PoseidonHasher, &data[..], &dir.path().join("p"), 2).unwrap();
            assert_eq!(root, want, "{arities:?}");
        }
        // Rows of 1 to 20 groups, some with a non-canonical child.
        for arity in [2, 4, 8, 16] {
            for groups in 1..=20 {
                let mut children = leaves(groups * arity);
                for g in (0..groups).step_by(3) {
                    children[g * arity + g % arity] = [0xfe; 32];
                }
                let want: Vec<Node> = children
                    .chunks_exact(arity)
                    .map(|c| PoseidonHasher.hash(c))
                    .collect();
                let mut out = vec![[0; 32]; groups];
                PoseidonHasher.hash_many(&children, arity, &mut out);
                assert_eq!(out, want, "arity {arity}, {groups} groups");
                assert!(out.iter().step_by(3).all(|o| *o == POISONED));
            }
        }
        // An arity Poseidon lacks, and lengths that do not pair up.
        let children = leaves(9);
        let mut out = vec![[0; 32]; 3];
        PoseidonHasher.hash_many(&children, 3, &mut out);
        assert!(out.iter().all(|o| *o == POISONED));
        let mut out = vec![[0; 32]; 2];
        PoseidonHasher.hash_many(&children, 4, &mut out);
        assert_eq!(out[1], PoseidonHasher.hash(&children[4..8]));
    }

    #[test]
    fn sha256_tree_is_commp_over_padded_data() {
        let data: Vec<u8> = (0..2032u32).map(|i| (i * 13) as u8).collect();
        let padded = crate::fr32::pad(&data);
        let nodes: Vec<Node> = padded
            .chunks_exact(32)
            .map(|c| c.try_into().unwrap())
            .collect();
        let dir = tempfile::tempdir().unwrap();
        let shape = TreeShape::new(vec![2; 6], 3).unwrap();
        let root = build(&shape, &Sha256Hasher, &nodes[..], &dir.path().join("d"), 2).unwrap();
        assert_eq!(root, commp(&data).unwrap().comm_p);
    }

    #[test]
    fn refusals() {
        assert!(TreeShape::new(vec![], 0).is_err());
        assert!(TreeShape::new(vec![1, 2], 0).is_err());
        let shape = TreeShape::new(vec![8, 8], 1).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let e = build(
            &shape,
            &Sha256Hasher,
            &leaves(64)[..],
            &dir.path().join("x"),
            1,
        );
        assert!(matches!(e, Err(TreeError::BadShape { .. })));
        let p = dir.path().join("y");
        std::fs::write(&p, [0u8; 10]).unwrap();
        assert!(matches!(
            StoredTree::open(shape.clone(), &p),
            Err(TreeError::FileSize { actual: 10, .. })
        ));
        let data = leaves(64);
        build(&shape, &Toy, &data[..], &p, 1).unwrap();
        let t = StoredTree::open(shape, &p).unwrap();
        assert!(matches!(
            t.open_path(&Toy, &data[..], 64),
            Err(TreeError::LeafOutOfRange { .. })
        ));
        // Truncated leaves: an I/O error, not a panic.
        assert!(t.open_path(&Toy, &data[..10], 20).is_err());
        // Malformed paths verify false.
        let mut path = t.open_path(&Toy, &data[..], 5).unwrap();
        path.levels[0].index = 9;
        assert!(path.root(&Toy, &[8, 8]).is_none());
        path.levels.pop();
        assert!(path.root(&Toy, &[8, 8]).is_none());
    }
}

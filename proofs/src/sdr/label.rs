//! Labelling: the SDR layers (storage-proofs-porep
//! `create_label::single`).
//!
//! A node's label in layer `l` (counting from 1) is SHA-256 of
//!
//! ```text
//! replica_id (32) ‖ l u32 BE ‖ node u64 BE ‖ 20 zero bytes ‖ 37 parent labels (32 each)
//! ```
//!
//! with the top two bits of byte 31 cleared (so a label is a field
//! element). The 37 labels cycle through the node's parents: in layer 1 the
//! 6 DRG parents (already labelled, same layer) six times and then the
//! first again; in later layers the 6 DRG parents of this layer and the 8
//! expander parents of the previous one, twice, then the first nine. In
//! both cases label `i` is parent `i mod d`. Node 0 hashes no parents.
//!
//! The message is 1248 bytes, so SHA-256 pads it to exactly 20 blocks whose
//! last 32 bytes (the padding and the length) never change. Labelling fills
//! those 20 blocks in place and calls the block compression function once,
//! rather than streaming 38 updates through the incremental hasher.

use std::fs::{self, File};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::mpsc;

use sha2::block_api::compress256;
use sha2::{Digest, Sha256};

use super::Parents;
use super::SdrError;
use super::cache::ParentSource;
use super::graph::StackedGraph;
use super::seeds::ReplicaId;
use crate::sector::{DRG_DEGREE, NODE_SIZE};

/// A node's label: 32 bytes, a field element in little-endian form.
pub type Label = [u8; 32];

/// Parent labels hashed into every label but node 0's.
pub const HASHED_PARENTS: usize = 37;
/// Parents in later layers: DRG plus expander.
const LATER_LAYER_PARENTS: usize = super::graph::DEGREE;
/// SHA-256 blocks in one label's padded message.
const BLOCKS: usize = 20;
/// Bytes hashed for a label with parents: header block plus 37 labels.
const MESSAGE_BYTES: u64 = 64 + HASHED_PARENTS as u64 * 32;
/// SHA-256's initial state.
const IV: [u32; 8] = [
    0x6a09_e667,
    0xbb67_ae85,
    0x3c6e_f372,
    0xa54f_f53a,
    0x510e_527f,
    0x9b05_688c,
    0x1f83_d9ab,
    0x5be0_cd19,
];

/// The file rust-fil-proofs stores layer `layer` in, inside the sector's
/// cache folder.
pub fn layer_file_name(layer: u32) -> String {
    format!("sc-02-data-layer-{layer}.dat")
}

/// The padded 20-block message of one label, reused node after node.
struct LabelHasher {
    blocks: [[u8; 64]; BLOCKS],
}

impl LabelHasher {
    fn new(replica_id: &ReplicaId) -> Self {
        let mut blocks = [[0u8; 64]; BLOCKS];
        if let Some(first) = blocks.first_mut() {
            first[..32].copy_from_slice(replica_id.as_bytes());
        }
        if let Some(last) = blocks.last_mut() {
            last[32] = 0x80;
            last[56..].copy_from_slice(&(MESSAGE_BYTES * 8).to_be_bytes());
        }
        Self { blocks }
    }

    fn set_header(&mut self, layer: u32, node: u32) {
        if let Some(first) = self.blocks.first_mut() {
            first[32..36].copy_from_slice(&layer.to_be_bytes());
            first[36..44].copy_from_slice(&u64::from(node).to_be_bytes());
        }
    }

    /// Puts hashed parent `i` (0..37) in its place: 64 + 32 i bytes in.
    fn set_parent(&mut self, i: usize, label: &Label) {
        if let Some(block) = self.blocks.get_mut(1 + i / 2) {
            let off = (i % 2) * 32;
            if let Some(dst) = block.get_mut(off..off + 32) {
                dst.copy_from_slice(label);
            }
        }
    }

    /// The label of the message as filled.
    fn finish(&self) -> Label {
        let mut state = IV;
        compress256(&mut state, &self.blocks);
        let mut out = [0u8; 32];
        for (o, w) in out.chunks_exact_mut(4).zip(state) {
            o.copy_from_slice(&w.to_be_bytes());
        }
        out[31] &= 0x3f;
        out
    }

    /// Node 0's label: the header block alone, no parents.
    fn finish_without_parents(&self) -> Label {
        let mut out: Label = Sha256::digest(self.blocks.first().unwrap_or(&[0; 64])).into();
        out[31] &= 0x3f;
        out
    }
}

/// How many parent labels node `node` of layer `layer` hashes.
fn parent_count(layer: u32, node: u32) -> usize {
    match (node, layer) {
        (0, _) => 0,
        (_, 1) => DRG_DEGREE,
        _ => LATER_LAYER_PARENTS,
    }
}

/// One label from its parents' labels, in [`super::Parents`] order: none
/// for node 0, the 6 DRG parents' labels (this layer) in layer 1, and
/// those then the 8 expander parents' labels (previous layer) after. This
/// is what a verifier recomputes for a challenged node.
pub fn label_node(
    replica_id: &ReplicaId,
    layer: u32,
    node: u32,
    parent_labels: &[Label],
) -> Result<Label, SdrError> {
    if layer == 0 {
        return Err(SdrError::InvalidLayer { layer });
    }
    let expected = parent_count(layer, node);
    if parent_labels.len() != expected {
        return Err(SdrError::ParentCount {
            layer,
            node,
            expected,
            actual: parent_labels.len(),
        });
    }
    let mut h = LabelHasher::new(replica_id);
    h.set_header(layer, node);
    if node == 0 {
        return Ok(h.finish_without_parents());
    }
    for (i, label) in parent_labels
        .iter()
        .cycle()
        .take(HASHED_PARENTS)
        .enumerate()
    {
        h.set_parent(i, label);
    }
    Ok(h.finish())
}

/// Nodes per batch handed from the gathering thread to the hashing one
/// (80 KiB of messages).
const BATCH: usize = 64;
/// Batches in flight: how far the gatherer may run ahead of the hasher.
const BATCHES: usize = 4;
/// Labels per write when a layer goes to its file (1 MiB).
const WRITE_LABELS: usize = 1 << 15;

/// One layer's labels in memory, shared by the two labelling threads: the
/// hasher writes each label once, in node order, and publishes how many
/// are written through an `AtomicU32`; the gatherer reads only labels
/// below that count. Relaxed atomic loads and stores compile to plain
/// moves, so this costs nothing over a `Vec<Label>`.
struct Layer {
    words: Vec<[AtomicU64; 4]>,
}

impl Layer {
    fn new(nodes: usize) -> Self {
        let mut words = Vec::with_capacity(nodes);
        words.resize_with(nodes, Default::default);
        Self { words }
    }

    fn len(&self) -> usize {
        self.words.len()
    }

    fn load(&self, node: usize) -> Option<Label> {
        let w = self.words.get(node)?;
        let mut out = [0u8; 32];
        for (o, a) in out.chunks_exact_mut(8).zip(w) {
            o.copy_from_slice(&a.load(Ordering::Relaxed).to_le_bytes());
        }
        Some(out)
    }

    fn store(&self, node: usize, label: &Label) {
        if let Some(w) = self.words.get(node) {
            for (a, b) in w.iter().zip(label.chunks_exact(8)) {
                a.store(
                    u64::from_le_bytes(b.try_into().unwrap_or_default()),
                    Ordering::Relaxed,
                );
            }
        }
    }

    /// Writes the layer to `layer_file_name(layer)` in `dir` (tmp, fsync,
    /// rename).
    fn write(&self, dir: &Path, layer: u32) -> Result<PathBuf, SdrError> {
        let path = dir.join(layer_file_name(layer));
        let tmp = path.with_extension("dat.tmp");
        let mut f = File::create(&tmp).map_err(SdrError::io(&tmp))?;
        let mut buf = Vec::with_capacity(WRITE_LABELS * 32);
        for start in (0..self.len()).step_by(WRITE_LABELS) {
            buf.clear();
            for node in start..self.len().min(start + WRITE_LABELS) {
                buf.extend_from_slice(&self.load(node).unwrap_or_default());
            }
            f.write_all(&buf).map_err(SdrError::io(&tmp))?;
        }
        f.sync_all().map_err(SdrError::io(&tmp))?;
        drop(f);
        fs::rename(&tmp, &path).map_err(SdrError::io(&path))?;
        Ok(path)
    }
}

/// Consecutive nodes' parent labels, gathered by one thread for the other:
/// the labels of a node's DRG parents (this layer) and expander parents
/// (previous layer), except the DRG parents not yet labelled when the
/// gatherer got to them (`missing`, one bit each), which the hasher reads
/// itself. Only the 14 distinct labels cross between the cores (7 cache
/// lines a node); the hasher lays out the 37-label message.
struct Batch {
    first: u32,
    len: usize,
    parents: Vec<Parents>,
    labels: Vec<[Label; LATER_LAYER_PARENTS]>,
    missing: Vec<u8>,
}

impl Batch {
    fn new() -> Self {
        Self {
            first: 0,
            len: 0,
            parents: vec![[0; LATER_LAYER_PARENTS]; BATCH],
            labels: vec![[[0; 32]; LATER_LAYER_PARENTS]; BATCH],
            missing: vec![0; BATCH],
        }
    }
}

/// How many nodes ahead the gatherer prefetches parent labels.
const PREFETCH_AHEAD: usize = 8;

/// Asks the CPU to start loading `node`'s label into cache: the parents of
/// a node are scattered over two whole layers, so their loads miss every
/// cache, and issuing them a few nodes early overlaps those misses.
#[inline(always)]
#[allow(unsafe_code)]
fn prefetch(layer: &Layer, node: u32) {
    #[cfg(target_arch = "x86_64")]
    if let Some(w) = layer.words.get(node as usize) {
        // SAFETY: SSE is part of x86_64's baseline, and a prefetch is only
        // a hint: it reads nothing the program sees and never faults (the
        // pointer comes from a live reference anyway).
        unsafe {
            std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(
                w.as_ptr().cast::<i8>(),
            );
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (layer, node);
}

/// The gathering side of one layer: reads every node's parents in order,
/// checks them, and copies the labels of the expander parents (previous
/// layer) and of the DRG parents already labelled into the batch. This is
/// the memory-bound half of labelling (the parents are scattered over
/// whole layers), so it runs on its own thread ahead of the hasher, as
/// rust-fil-proofs' multicore SDR splits it.
fn gather_layer(
    layer: u32,
    parents: &mut dyn ParentSource,
    cur: &Layer,
    prev: &Layer,
    done: &AtomicU32,
    free: &mpsc::Receiver<Batch>,
    full: &mpsc::SyncSender<Result<Batch, SdrError>>,
) {
    let mut run = || -> Result<(), SdrError> {
        parents.rewind()?;
        let d = parent_count(layer, 1);
        let n = cur.len();
        for first in (0..n).step_by(BATCH) {
            // The hasher stopped (it failed): nothing left to do.
            let Ok(mut batch) = free.recv() else {
                return Ok(());
            };
            let len = BATCH.min(n - first);
            batch.first = first as u32;
            batch.len = len;
            let Batch {
                parents: ps,
                labels,
                missing,
                ..
            } = &mut batch;
            for (k, p) in ps.iter_mut().take(len).enumerate() {
                let node = first + k;
                *p = parents.next_parents()?;
                for (j, &parent) in p.iter().enumerate().take(d) {
                    let bad = if j < DRG_DEGREE {
                        node > 0 && parent as usize >= node
                    } else {
                        parent as usize >= prev.len()
                    };
                    if bad {
                        return Err(SdrError::ParentOutOfRange {
                            layer,
                            node: node as u32,
                            parent,
                        });
                    }
                }
            }
            let mut ready = done.load(Ordering::Acquire);
            for k in 0..len.min(PREFETCH_AHEAD) {
                if let Some(p) = ps.get(k) {
                    p.iter().take(DRG_DEGREE).for_each(|&q| prefetch(cur, q));
                    p.iter()
                        .take(d)
                        .skip(DRG_DEGREE)
                        .for_each(|&q| prefetch(prev, q));
                }
            }
            for k in 0..len {
                if let Some(p) = ps.get(k + PREFETCH_AHEAD) {
                    p.iter().take(DRG_DEGREE).for_each(|&q| prefetch(cur, q));
                    p.iter()
                        .take(d)
                        .skip(DRG_DEGREE)
                        .for_each(|&q| prefetch(prev, q));
                }
                let (Some(p), Some(out), Some(miss)) =
                    (ps.get(k), labels.get_mut(k), missing.get_mut(k))
                else {
                    continue;
                };
                *miss = 0;
                if first + k == 0 {
                    continue;
                }
                if k % 16 == 0 {
                    ready = done.load(Ordering::Acquire);
                }
                for (j, (&parent, slot)) in p.iter().zip(out.iter_mut()).enumerate().take(d) {
                    let label = if j >= DRG_DEGREE {
                        prev.load(parent as usize)
                    } else if parent < ready {
                        cur.load(parent as usize)
                    } else {
                        *miss |= 1 << j;
                        continue;
                    };
                    *slot = label.unwrap_or_default();
                }
            }
            if full.send(Ok(batch)).is_err() {
                return Ok(());
            }
        }
        Ok(())
    };
    if let Err(e) = run() {
        let _ = full.send(Err(e));
    }
}

/// The hashing side of one layer: reads the DRG parents the gatherer could
/// not, lays out each node's message, hashes it, and publishes the labels.
fn hash_layer(
    h: &mut LabelHasher,
    layer: u32,
    cur: &Layer,
    done: &AtomicU32,
    free: &mpsc::SyncSender<Batch>,
    full: &mpsc::Receiver<Result<Batch, SdrError>>,
) -> Result<(), SdrError> {
    let d = parent_count(layer, 1);
    let n = cur.len();
    let mut next = 0usize;
    while next < n {
        let Ok(batch) = full.recv() else {
            // The gatherer ended without an error: it can only have
            // panicked, which the scope re-raises.
            break;
        };
        let batch = batch?;
        for k in 0..batch.len {
            let node = batch.first + k as u32;
            let (Some(p), Some(labels), Some(&missing)) = (
                batch.parents.get(k),
                batch.labels.get(k),
                batch.missing.get(k),
            ) else {
                continue;
            };
            h.set_header(layer, node);
            let label = if node == 0 {
                h.finish_without_parents()
            } else {
                let mut own = [[0u8; 32]; DRG_DEGREE];
                for (j, (&parent, o)) in p.iter().zip(own.iter_mut()).enumerate() {
                    if missing & (1 << j) != 0 {
                        // Below `node`, so this thread labelled it already.
                        *o = cur.load(parent as usize).unwrap_or_default();
                    }
                }
                for i in 0..HASHED_PARENTS {
                    let j = i % d;
                    let l = if j < DRG_DEGREE && missing & (1 << j) != 0 {
                        own.get(j)
                    } else {
                        labels.get(j)
                    };
                    if let Some(l) = l {
                        h.set_parent(i, l);
                    }
                }
                h.finish()
            };
            cur.store(node as usize, &label);
        }
        next = batch.first as usize + batch.len;
        // Once per batch, not per node: every store takes the line back
        // from the gatherer's core.
        done.store(next as u32, Ordering::Release);
        let _ = free.send(batch);
    }
    if next < n {
        return Err(SdrError::LabellingStopped {
            layer,
            node: next as u64,
        });
    }
    Ok(())
}

/// Labels one whole layer into `cur`, with expander parents from `prev`
/// (unused in layer 1): a gathering thread and this one, the hasher.
fn label_layer(
    replica_id: &ReplicaId,
    layer: u32,
    parents: &mut (dyn ParentSource + Send),
    cur: &Layer,
    prev: &Layer,
) -> Result<(), SdrError> {
    let done = AtomicU32::new(0);
    let (free_tx, free_rx) = mpsc::sync_channel(BATCHES);
    let (full_tx, full_rx) = mpsc::sync_channel(BATCHES);
    for _ in 0..BATCHES {
        let _ = free_tx.send(Batch::new());
    }
    let mut h = LabelHasher::new(replica_id);
    std::thread::scope(|s| {
        let done = &done;
        s.spawn(move || gather_layer(layer, parents, cur, prev, done, &free_rx, &full_tx));
        hash_layer(&mut h, layer, cur, done, &free_tx, &full_rx)
    })
}

/// Graphs up to this many nodes are labelled on one thread: at 2 KiB (64
/// nodes) handing batches between threads costs more than the hashing.
const SERIAL_NODES: usize = 1 << 12;

/// Labels one whole layer into `cur` on this thread alone, node by node,
/// with the same parent checks as the pipeline.
fn label_layer_serial(
    replica_id: &ReplicaId,
    layer: u32,
    parents: &mut (dyn ParentSource + Send),
    cur: &Layer,
    prev: &Layer,
) -> Result<(), SdrError> {
    parents.rewind()?;
    let d = parent_count(layer, 1);
    let mut h = LabelHasher::new(replica_id);
    let mut labels = [[0u8; 32]; LATER_LAYER_PARENTS];
    for node in 0..cur.len() {
        let p = parents.next_parents()?;
        h.set_header(layer, node as u32);
        let label = if node == 0 {
            h.finish_without_parents()
        } else {
            for (j, (&parent, slot)) in p.iter().zip(labels.iter_mut()).enumerate().take(d) {
                let (layer_of, bad) = if j < DRG_DEGREE {
                    (cur, parent as usize >= node)
                } else {
                    (prev, parent as usize >= prev.len())
                };
                if bad {
                    return Err(SdrError::ParentOutOfRange {
                        layer,
                        node: node as u32,
                        parent,
                    });
                }
                *slot = layer_of.load(parent as usize).unwrap_or_default();
            }
            let used = labels.get(..d).unwrap_or_default();
            for (i, l) in used.iter().cycle().take(HASHED_PARENTS).enumerate() {
                h.set_parent(i, l);
            }
            h.finish()
        };
        cur.store(node, &label);
    }
    Ok(())
}

/// PreCommit 1's labelling: all `layers` layers of `graph` for
/// `replica_id`, each written to [`layer_file_name`] in `cache_dir`
/// (created if missing) as soon as it is done. `parents` gives every
/// node's parents in order, once per layer (a [`super::ParentCacheReader`]
/// in production). Two threads label (one gathers parent labels, one
/// hashes) and a third writes each finished layer while the next is
/// labelled; graphs of at most [`SERIAL_NODES`] nodes are labelled and
/// written on the calling thread. Memory: two layers (2 × 32 × nodes bytes). Returns the layer
/// files, layer 1 first; the last one is the encoding key.
pub fn generate_layers(
    graph: &StackedGraph,
    parents: &mut (dyn ParentSource + Send),
    replica_id: &ReplicaId,
    layers: u32,
    cache_dir: &Path,
) -> Result<Vec<PathBuf>, SdrError> {
    fs::create_dir_all(cache_dir).map_err(SdrError::io(cache_dir))?;
    let n = graph.nodes() as usize;
    let bufs = [Layer::new(n), Layer::new(n)];
    let mut paths = Vec::with_capacity(layers as usize);
    std::thread::scope(|s| {
        let mut writer = None;
        for layer in 1..=layers {
            let [cur, prev] = if layer % 2 == 1 {
                [&bufs[0], &bufs[1]]
            } else {
                [&bufs[1], &bufs[0]]
            };
            if n <= SERIAL_NODES {
                label_layer_serial(replica_id, layer, parents, cur, prev)?;
                paths.push(cur.write(cache_dir, layer)?);
                continue;
            }
            // `cur` was last written to a file two layers ago; that writer
            // was joined before the previous layer started.
            label_layer(replica_id, layer, parents, cur, prev)?;
            if let Some(w) = writer.take() {
                paths.push(join_writer(w)?);
            }
            writer = Some(s.spawn(move || cur.write(cache_dir, layer)));
        }
        if let Some(w) = writer.take() {
            paths.push(join_writer(w)?);
        }
        Ok::<_, SdrError>(())
    })?;
    Ok(paths)
}

fn join_writer(
    w: std::thread::ScopedJoinHandle<'_, Result<PathBuf, SdrError>>,
) -> Result<PathBuf, SdrError> {
    match w.join() {
        Ok(r) => r,
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

/// Reads the label of `node` from a layer file (for openings).
pub fn read_label(layer_file: &Path, node: u32) -> Result<Label, SdrError> {
    let mut f = File::open(layer_file).map_err(SdrError::io(layer_file))?;
    f.seek(SeekFrom::Start(u64::from(node) * NODE_SIZE))
        .map_err(SdrError::io(layer_file))?;
    let mut label = [0u8; 32];
    f.read_exact(&mut label).map_err(SdrError::io(layer_file))?;
    Ok(label)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sdr::cache::GraphParents;
    use crate::sector::SealProof;

    /// The message spelled out and hashed with the incremental hasher.
    fn naive(replica_id: &ReplicaId, layer: u32, node: u32, parents: &[Label]) -> Label {
        let mut h = Sha256::new();
        h.update(replica_id.as_bytes());
        h.update(layer.to_be_bytes());
        h.update(u64::from(node).to_be_bytes());
        h.update([0u8; 20]);
        if node > 0 {
            for i in 0..37 {
                h.update(parents[i % parents.len()]);
            }
        }
        let mut out: Label = h.finalize().into();
        out[31] &= 0x3f;
        out
    }

    #[test]
    fn block_hasher_matches_the_incremental_one() {
        let r = ReplicaId([0x5a; 32]);
        let labels: Vec<Label> = (0..14u8).map(|i| [i.wrapping_mul(37); 32]).collect();
        for (layer, node, d) in [
            (1, 0, 0),
            (1, 1, 6),
            (1, 77, 6),
            (2, 0, 0),
            (2, 5, 14),
            (11, 1 << 30, 14),
        ] {
            let got = label_node(&r, layer, node, &labels[..d]).unwrap();
            assert_eq!(got, naive(&r, layer, node, &labels[..d]), "{layer}/{node}");
            assert_eq!(got[31] & 0xc0, 0);
        }
    }

    #[test]
    fn label_node_rejects_wrong_inputs() {
        let r = ReplicaId([1; 32]);
        let six = [[0u8; 32]; 6];
        assert!(matches!(
            label_node(&r, 0, 1, &six),
            Err(SdrError::InvalidLayer { layer: 0 })
        ));
        assert!(matches!(
            label_node(&r, 2, 1, &six),
            Err(SdrError::ParentCount {
                expected: 14,
                actual: 6,
                ..
            })
        ));
        assert!(matches!(
            label_node(&r, 1, 0, &six),
            Err(SdrError::ParentCount {
                expected: 0,
                actual: 6,
                ..
            })
        ));
        // Every input enters the label.
        let base = label_node(&r, 1, 3, &six).unwrap();
        let mut other = six;
        other[5][0] = 1;
        assert_ne!(label_node(&r, 1, 3, &other).unwrap(), base);
        assert_ne!(label_node(&r, 1, 4, &six).unwrap(), base);
        assert_ne!(label_node(&ReplicaId([2; 32]), 1, 3, &six).unwrap(), base);
    }

    /// Every label in the layer files recomputes from its parents' labels
    /// with the verifier's function.
    #[test]
    fn layers_agree_with_label_node() {
        let g = StackedGraph::for_proof(SealProof::StackedDrg2KiBV1_1);
        let r = ReplicaId([9; 32]);
        let dir = tempfile::tempdir().unwrap();
        let files = generate_layers(&g, &mut GraphParents::new(&g), &r, 3, dir.path()).unwrap();
        assert_eq!(files.len(), 3);
        let layers: Vec<Vec<Label>> = files
            .iter()
            .map(|f| {
                fs::read(f)
                    .unwrap()
                    .chunks_exact(32)
                    .map(|c| c.try_into().unwrap())
                    .collect()
            })
            .collect();
        for (l, layer) in layers.iter().enumerate() {
            assert_eq!(layer.len(), 64);
            let layer_no = l as u32 + 1;
            for node in 0..64u32 {
                let p = g.parents(node);
                let parents: Vec<Label> = if node == 0 {
                    vec![]
                } else if l == 0 {
                    p[..6].iter().map(|&q| layer[q as usize]).collect()
                } else {
                    p[..6]
                        .iter()
                        .map(|&q| layer[q as usize])
                        .chain(p[6..].iter().map(|&q| layers[l - 1][q as usize]))
                        .collect()
                };
                let want = label_node(&r, layer_no, node, &parents).unwrap();
                assert_eq!(layer[node as usize], want, "layer {layer_no} node {node}");
                assert_eq!(read_label(&files[l], node).unwrap(), want);
            }
        }
        assert_eq!(files[1].file_name().unwrap(), "sc-02-data-layer-2.dat");
    }

    /// At 8 MiB (4096 batches a layer) the gatherer finds most DRG parents
    /// already labelled and the hasher the rest: sampled nodes of both
    /// layers recompute with the verifier's function.
    #[test]
    fn pipelined_layers_agree_with_label_node() {
        let g = StackedGraph::for_proof(SealProof::StackedDrg8MiBV1_1);
        let r = ReplicaId([3; 32]);
        let dir = tempfile::tempdir().unwrap();
        let files = generate_layers(&g, &mut GraphParents::new(&g), &r, 2, dir.path()).unwrap();
        let layers: Vec<Vec<u8>> = files.iter().map(|f| fs::read(f).unwrap()).collect();
        let label = |l: usize, node: u32| -> Label {
            layers[l][node as usize * 32..][..32].try_into().unwrap()
        };
        for node in (0..g.nodes())
            .step_by(61)
            .chain([1, 2, 63, 64, 65, g.nodes() - 1])
        {
            let p = g.parents(node);
            let drg: Vec<Label> = if node == 0 {
                vec![]
            } else {
                p[..6].iter().map(|&q| label(0, q)).collect()
            };
            assert_eq!(
                label(0, node),
                label_node(&r, 1, node, &drg).unwrap(),
                "layer 1 node {node}"
            );
            let mut both: Vec<Label> = if node == 0 {
                vec![]
            } else {
                p[..6].iter().map(|&q| label(1, q)).collect()
            };
            if node > 0 {
                both.extend(p[6..].iter().map(|&q| label(0, q)));
            }
            assert_eq!(
                label(1, node),
                label_node(&r, 2, node, &both).unwrap(),
                "layer 2 node {node}"
            );
        }
    }

    /// A parent cache that points a DRG parent at a later node is caught.
    #[test]
    fn rejects_a_corrupt_parent_source() {
        struct Bad;
        impl ParentSource for Bad {
            fn rewind(&mut self) -> Result<(), SdrError> {
                Ok(())
            }
            fn next_parents(&mut self) -> Result<crate::sdr::Parents, SdrError> {
                Ok([5; 14])
            }
        }
        let g = StackedGraph::for_proof(SealProof::StackedDrg2KiBV1_1);
        let dir = tempfile::tempdir().unwrap();
        let err = generate_layers(&g, &mut Bad, &ReplicaId([0; 32]), 2, dir.path()).unwrap_err();
        assert!(matches!(
            err,
            SdrError::ParentOutOfRange {
                layer: 1,
                node: 1,
                parent: 5
            }
        ));
    }
}

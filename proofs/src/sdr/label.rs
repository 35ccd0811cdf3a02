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

use sha2::block_api::compress256;
use sha2::{Digest, Sha256};

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

/// Labels one whole layer into `cur`, reading expander parents from `prev`
/// (unused in layer 1).
fn label_layer(
    h: &mut LabelHasher,
    layer: u32,
    parents: &mut dyn ParentSource,
    cur: &mut [Label],
    prev: &[Label],
) -> Result<(), SdrError> {
    parents.rewind()?;
    let d = parent_count(layer, 1);
    for (node, slot) in (0u32..).zip(0..cur.len()) {
        let p = parents.next_parents()?;
        h.set_header(layer, node);
        let label = if node == 0 {
            h.finish_without_parents()
        } else {
            let mut labels = [[0u8; 32]; LATER_LAYER_PARENTS];
            for (j, (&parent, l)) in p.iter().zip(labels.iter_mut()).take(d).enumerate() {
                // DRG parents must already be labelled; expander parents
                // may be anywhere in the previous layer.
                let found = if j < DRG_DEGREE {
                    cur.get(parent as usize).filter(|_| parent < node)
                } else {
                    prev.get(parent as usize)
                };
                *l = *found.ok_or(SdrError::ParentOutOfRange {
                    layer,
                    node,
                    parent,
                })?;
            }
            for i in 0..HASHED_PARENTS {
                if let Some(l) = labels.get(i % d) {
                    h.set_parent(i, l);
                }
            }
            h.finish()
        };
        if let Some(c) = cur.get_mut(slot) {
            *c = label;
        }
    }
    Ok(())
}

fn write_layer(dir: &Path, layer: u32, labels: &[Label]) -> Result<PathBuf, SdrError> {
    let path = dir.join(layer_file_name(layer));
    let tmp = path.with_extension("dat.tmp");
    let mut f = File::create(&tmp).map_err(SdrError::io(&tmp))?;
    f.write_all(labels.as_flattened())
        .map_err(SdrError::io(&tmp))?;
    f.sync_all().map_err(SdrError::io(&tmp))?;
    drop(f);
    fs::rename(&tmp, &path).map_err(SdrError::io(&path))?;
    Ok(path)
}

/// PreCommit 1's labelling: all `layers` layers of `graph` for
/// `replica_id`, each written to [`layer_file_name`] in `cache_dir`
/// (created if missing) as soon as it is done. `parents` gives every
/// node's parents in order, once per layer (a [`super::ParentCacheReader`]
/// in production). Memory: two layers (2 × 32 × nodes bytes). Returns the
/// layer files, layer 1 first; the last one is the encoding key.
pub fn generate_layers(
    graph: &StackedGraph,
    parents: &mut dyn ParentSource,
    replica_id: &ReplicaId,
    layers: u32,
    cache_dir: &Path,
) -> Result<Vec<PathBuf>, SdrError> {
    fs::create_dir_all(cache_dir).map_err(SdrError::io(cache_dir))?;
    let n = graph.nodes() as usize;
    let mut cur = vec![[0u8; 32]; n];
    let mut prev = vec![[0u8; 32]; n];
    let mut h = LabelHasher::new(replica_id);
    let mut paths = Vec::with_capacity(layers as usize);
    for layer in 1..=layers {
        label_layer(&mut h, layer, parents, &mut cur, &prev)?;
        paths.push(write_layer(cache_dir, layer, &cur)?);
        std::mem::swap(&mut cur, &mut prev);
    }
    Ok(paths)
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

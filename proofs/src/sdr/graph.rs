//! The SDR graph: each node's 6 DRG parents and 8 expander parents.
//!
//! DRG parents (storage-proofs-core `BucketGraph::parents`, API v1.1):
//! Alwen et al.'s bucket sampling over a metagraph of `5 * nodes` nodes,
//! driven by a ChaCha8 stream keyed with the 28-byte DRG seed and the node
//! index (u32 little-endian). The immediate predecessor comes first, so a
//! label can never be computed before the one before it; nodes 0 and 1
//! have six parents 0.
//!
//! Expander parents (storage-proofs-porep `StackedGraph`): Chung's
//! construction, the edge slot `8 * node + i` permuted by a Feistel cipher
//! keyed from the PoRep id, then divided by 8. In layers after the first
//! they point into the previous layer.

use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{RngCore, SeedableRng};

use super::SdrError;
use super::feistel::Feistel;
use super::seeds::{drg_seed, feistel_keys};
use crate::sector::{DRG_DEGREE, EXPANSION_DEGREE, PorepId, SealProof};

/// Parents per node: DRG then expander.
pub const DEGREE: usize = DRG_DEGREE + EXPANSION_DEGREE;

/// One node's parents, in the parent cache's order: 6 DRG parents (same
/// layer), then 8 expander parents (previous layer).
pub type Parents = [u32; DEGREE];

/// The stacked DRG + expander graph of one PoRep id and size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackedGraph {
    nodes: u32,
    drg_seed: [u8; 28],
    feistel_keys: [u64; 4],
    feistel: Feistel,
}

impl StackedGraph {
    /// The graph of `nodes` nodes seeded by `porep_id`.
    pub fn new(nodes: u32, porep_id: &PorepId) -> Result<Self, SdrError> {
        if nodes < 2 {
            return Err(SdrError::TooFewNodes { nodes });
        }
        Ok(Self {
            nodes,
            drg_seed: drg_seed(porep_id),
            feistel_keys: feistel_keys(porep_id),
            feistel: Feistel::new(u64::from(nodes) * EXPANSION_DEGREE as u64),
        })
    }

    /// The graph a registered seal proof seals with.
    pub fn for_proof(proof: SealProof) -> Self {
        let porep_id = proof.porep_id();
        let nodes = proof.nodes();
        Self {
            nodes,
            drg_seed: drg_seed(&porep_id),
            feistel_keys: feistel_keys(&porep_id),
            feistel: Feistel::new(u64::from(nodes) * EXPANSION_DEGREE as u64),
        }
    }

    /// Number of nodes.
    pub fn nodes(&self) -> u32 {
        self.nodes
    }

    /// The DRG seed.
    pub fn drg_seed(&self) -> &[u8; 28] {
        &self.drg_seed
    }

    /// The Feistel keys.
    pub fn feistel_keys(&self) -> &[u64; 4] {
        &self.feistel_keys
    }

    /// storage-proofs' `ParameterSetMetadata::identifier` of the graph: it
    /// names the parent cache file.
    pub fn identifier(&self) -> String {
        format!(
            "stacked_graph::StackedGraph{{expansion_degree: {EXPANSION_DEGREE} base_graph: \
             drgraph::BucketGraph{{size: {}; degree: {DRG_DEGREE}; hasher: poseidon_hasher}} }}",
            self.nodes
        )
    }

    /// The 6 DRG parents of `node`, all below it (except for node 0, whose
    /// parents are 0). `node` must be below [`Self::nodes`].
    pub fn drg_parents(&self, node: u32) -> [u32; DRG_DEGREE] {
        let mut parents = [0u32; DRG_DEGREE];
        if node < 2 {
            return parents;
        }
        let mut seed = [0u8; 32];
        seed[..28].copy_from_slice(&self.drg_seed);
        seed[28..].copy_from_slice(&node.to_le_bytes());
        let mut rng = ChaCha8Rng::from_seed(seed);

        let m_prime = (DRG_DEGREE - 1) as u64;
        let meta_node = u64::from(node) * m_prime;
        // Exactly the reference's float computation: for meta_node < 2^54
        // the conversion is exact and log2 of a power of two is exact.
        let buckets = (meta_node as f64).log2().ceil() as u64;

        parents[0] = node - 1;
        for parent in parents.iter_mut().skip(1) {
            let bucket = rng.next_u64() % buckets + 1;
            let largest = meta_node.min(1u64 << bucket);
            let smallest = (largest >> 1).max(2);
            let distance = smallest + rng.next_u64() % (largest - smallest + 1);
            let mapped = ((meta_node - distance) / m_prime) as u32;
            *parent = if mapped == node { node - 1 } else { mapped };
        }
        parents
    }

    /// The 8 expander parents of `node` (indices into the previous layer).
    pub fn expander_parents(&self, node: u32) -> [u32; EXPANSION_DEGREE] {
        let mut parents = [0u32; EXPANSION_DEGREE];
        let base = u64::from(node) * EXPANSION_DEGREE as u64;
        for (i, parent) in (0u64..).zip(parents.iter_mut()) {
            let slot = self.feistel.permute(base + i, &self.feistel_keys);
            // slot < 8 * nodes, so slot / 8 < nodes fits a u32.
            *parent = (slot / EXPANSION_DEGREE as u64) as u32;
        }
        parents
    }

    /// The parents of `count` consecutive nodes from `first`, appended to
    /// `out`: what [`Self::parents`] gives node by node, with the expander
    /// chains of all of them computed together (faster, see
    /// [`Feistel::permute_many`]).
    pub fn parents_many(&self, first: u32, count: u32, out: &mut Vec<Parents>) {
        let mut slots: Vec<u64> = (u64::from(first) * EXPANSION_DEGREE as u64..)
            .take(count as usize * EXPANSION_DEGREE)
            .collect();
        self.feistel.permute_many(&mut slots, &self.feistel_keys);
        for (node, exp) in (first..).zip(slots.chunks_exact(EXPANSION_DEGREE)) {
            let mut all = [0u32; DEGREE];
            let (drg, rest) = all.split_at_mut(DRG_DEGREE);
            drg.copy_from_slice(&self.drg_parents(node));
            for (p, slot) in rest.iter_mut().zip(exp) {
                *p = (slot / EXPANSION_DEGREE as u64) as u32;
            }
            out.push(all);
        }
    }

    /// All 14 parents of `node`: DRG then expander.
    pub fn parents(&self, node: u32) -> Parents {
        let mut all = [0u32; DEGREE];
        let (drg, exp) = all.split_at_mut(DRG_DEGREE);
        drg.copy_from_slice(&self.drg_parents(node));
        exp.copy_from_slice(&self.expander_parents(node));
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drg_parents_precede_their_node() {
        let g = StackedGraph::for_proof(SealProof::StackedDrg8MiBV1_1);
        assert_eq!(g.drg_parents(0), [0; 6]);
        assert_eq!(g.drg_parents(1), [0; 6]);
        for node in (2..g.nodes()).step_by(997) {
            let p = g.drg_parents(node);
            assert_eq!(p[0], node - 1);
            assert!(p.iter().all(|&q| q < node), "{node}: {p:?}");
        }
        let last = g.nodes() - 1;
        assert!(g.drg_parents(last).iter().all(|&q| q < last));
    }

    #[test]
    fn expander_parents_are_in_range_and_spread() {
        let g = StackedGraph::for_proof(SealProof::StackedDrg2KiBV1_1);
        let mut hits = vec![0u32; 64];
        for node in 0..64 {
            for p in g.expander_parents(node) {
                hits[p as usize] += 1;
            }
        }
        // A permutation of the 512 edge slots: every node is the expander
        // parent of exactly 8 slots.
        assert!(hits.iter().all(|&h| h == 8), "{hits:?}");
    }

    #[test]
    fn parents_many_matches_parents() {
        let g = StackedGraph::for_proof(SealProof::StackedDrg512MiBV1_1);
        let mut out = Vec::new();
        g.parents_many(1000, 37, &mut out);
        g.parents_many(0, 3, &mut out);
        let want: Vec<Parents> = (1000..1037).chain(0..3).map(|n| g.parents(n)).collect();
        assert_eq!(out, want);
    }

    #[test]
    fn rejects_degenerate_sizes() {
        let id = SealProof::StackedDrg2KiBV1_1.porep_id();
        assert!(matches!(
            StackedGraph::new(1, &id),
            Err(SdrError::TooFewNodes { nodes: 1 })
        ));
        assert_eq!(
            StackedGraph::new(64, &id).ok(),
            Some(StackedGraph::for_proof(SealProof::StackedDrg2KiBV1_1))
        );
    }
}

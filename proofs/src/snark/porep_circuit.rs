//! The PoRep circuit (stacked DRG, one partition): what
//! [`crate::porep::verify_partition`] checks, in zero knowledge.
//!
//! Per challenged node `c`:
//!
//! - the data node's inclusion in tree_d (SHA-256, root CommD);
//! - the columns of `c` and of its 6 DRG and 8 expander parents: each
//!   column's labels hashed with Poseidon (arity = layers) and included in
//!   tree_c (root CommC);
//! - every layer's label of `c` recomputed with SHA-256 from the replica
//!   id, the layer, `c` and its parents' labels read off their columns
//!   (DRG parents in the same layer, expander parents in the previous),
//!   and equal to the label in `c`'s column;
//! - the encoding: the replica node is the data node plus the last
//!   layer's label, and it is included in tree_r_last (root CommRLast);
//!
//! and once per partition CommR = Poseidon(CommC, CommRLast). CommC and
//! CommRLast are private; the labels, data and replica nodes and every
//! sibling are private.
//!
//! Public inputs, in order: replica id, CommD, CommR, then per challenge
//! its node index and its 14 parents' indices (DRG then expander).
//! [`public_inputs`] computes them from ledger data: the seal's public
//! values and the seed (challenges and parents are derived, the graph is
//! fixed per sector size).

use super::cs::{Circuit, ConstraintSystem, SynthesisError};
use super::gadgets::bits::{Boolean, Num};
use super::gadgets::{merkle, poseidon as pgadget, sha256};
use crate::challenges::{ChallengeError, porep_challenges};
use crate::field::{Fr, fr_from_le_bytes};
use crate::porep::{COLUMNS_PER_CHALLENGE, PartitionProof, PorepPublic};
use crate::poseidon::Arity;
use crate::sdr::StackedGraph;
use crate::sdr::label::HASHED_PARENTS;
use crate::seal;
use crate::sector::{DRG_DEGREE, SealProof};

/// Public inputs per challenge: the node and its 14 parents.
pub const INPUTS_PER_CHALLENGE: usize = COLUMNS_PER_CHALLENGE;

/// Why public inputs could not be computed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PorepInputsError {
    /// The partition does not exist for this sector size.
    #[error("partition {k} does not exist: a {size} sector has {partitions}")]
    Partition {
        /// Asked.
        k: usize,
        /// The proof's name.
        size: &'static str,
        /// How many it has.
        partitions: usize,
    },
    /// CommD or CommR is not a field element.
    #[error("{0} is not a field element")]
    NotInField(&'static str),
    /// Challenge derivation failed.
    #[error(transparent)]
    Challenges(#[from] ChallengeError),
}

/// The public inputs of PoRep partition `k`, from ledger data only.
pub fn public_inputs(public: &PorepPublic, k: usize) -> Result<Vec<Fr>, PorepInputsError> {
    let p = public.proof;
    if k >= p.partitions() {
        return Err(PorepInputsError::Partition {
            k,
            size: p.name(),
            partitions: p.partitions(),
        });
    }
    let replica_id = public.replica_id();
    let field =
        |x: &[u8; 32], what| fr_from_le_bytes(x).map_err(|_| PorepInputsError::NotInField(what));
    let mut out = vec![
        field(replica_id.as_bytes(), "the replica id")?,
        field(&public.comm_d, "CommD")?,
        field(&public.comm_r, "CommR")?,
    ];
    let graph = StackedGraph::for_proof(p);
    let challenges = porep_challenges(
        u64::from(p.nodes()),
        replica_id.as_bytes(),
        &public.seed,
        p.challenges_per_partition(),
        k,
    )?;
    for c in challenges {
        out.push(Fr::from(c));
        // Challenges are below the node count, a u32.
        out.extend(graph.parents(c as u32).iter().map(|&x| Fr::from(x)));
    }
    Ok(out)
}

/// The circuit; without a witness it is the shape for key generation.
#[derive(Debug, Clone)]
pub struct PorepCircuit<'a> {
    /// The seal proof (sector size).
    pub proof: SealProof,
    /// The public inputs ([`public_inputs`]), when proving.
    pub inputs: Option<&'a [Fr]>,
    /// The vanilla partition proof, when proving.
    pub witness: Option<&'a PartitionProof>,
}

impl PorepCircuit<'_> {
    /// The circuit's shape, for key generation and counting.
    pub fn blank(proof: SealProof) -> PorepCircuit<'static> {
        PorepCircuit {
            proof,
            inputs: None,
            witness: None,
        }
    }
}

fn fr(node: &[u8; 32], what: &str) -> Result<Fr, SynthesisError> {
    fr_from_le_bytes(node)
        .map_err(|_| SynthesisError::Malformed(format!("{what} is not a field element")))
}

/// A label (below 2^254) as its 256 SHA message bits.
fn label_bits<CS: ConstraintSystem>(
    cs: &mut CS,
    label: &Num,
) -> Result<Vec<Boolean>, SynthesisError> {
    Ok(sha256::fr_bits_to_sha_order(&label.to_bits_le(cs, 254)?))
}

/// The 64 header bits of node index `c` as a big-endian u64, from its
/// little-endian bits.
fn node_header_bits(c_bits: &[Boolean]) -> Vec<Boolean> {
    (0..64)
        .map(|pos| {
            let k = (7 - pos / 8) * 8 + (7 - pos % 8);
            c_bits.get(k).copied().unwrap_or(Boolean::Const(false))
        })
        .collect()
}

fn const_bits(bytes: &[u8]) -> Vec<Boolean> {
    bytes
        .iter()
        .flat_map(|&b| (0..8).rev().map(move |i| Boolean::Const((b >> i) & 1 == 1)))
        .collect()
}

impl Circuit for PorepCircuit<'_> {
    fn synthesize<CS: ConstraintSystem>(&self, cs: &mut CS) -> Result<(), SynthesisError> {
        let p = self.proof;
        let layers = p.layers() as usize;
        let per = p.challenges_per_partition();
        let bits = p.nodes().trailing_zeros() as usize;
        let r_arities = seal::poseidon_arities(p);
        let column_arity = Arity::try_from(layers)
            .map_err(|_| SynthesisError::Malformed(format!("no Poseidon for {layers} layers")))?;
        let want_inputs = 3 + per * INPUTS_PER_CHALLENGE;
        if let Some(x) = self.inputs
            && x.len() != want_inputs
        {
            return Err(SynthesisError::Malformed(format!(
                "{} public inputs, expected {want_inputs}",
                x.len()
            )));
        }
        if let Some(w) = self.witness
            && w.challenges.len() != per
        {
            return Err(SynthesisError::Malformed(format!(
                "{} challenge proofs, expected {per}",
                w.challenges.len()
            )));
        }
        let input = |i: usize| self.inputs.and_then(|x| x.get(i).copied());

        let replica_id = Num::alloc_input(cs, input(0))?;
        let comm_d = Num::alloc_input(cs, input(1))?;
        let comm_r = Num::alloc_input(cs, input(2))?;
        let comm_c = Num::alloc(
            cs,
            self.witness.map(|w| fr(&w.comm_c, "CommC")).transpose()?,
        )?;
        let comm_r_last = Num::alloc(
            cs,
            self.witness
                .map(|w| fr(&w.comm_r_last, "CommRLast"))
                .transpose()?,
        )?;
        pgadget::hash(cs, Arity::A2, &[comm_c.clone(), comm_r_last.clone()])?
            .enforce_equal(cs, &comm_r);
        let replica_id_bits = label_bits(cs, &replica_id)?;

        for i in 0..per {
            let ch = self.witness.and_then(|w| w.challenges.get(i));
            if let Some(ch) = ch
                && ch.columns.len() != COLUMNS_PER_CHALLENGE
            {
                return Err(SynthesisError::Malformed(format!(
                    "{} columns, expected {COLUMNS_PER_CHALLENGE}",
                    ch.columns.len()
                )));
            }
            let base = 3 + i * INPUTS_PER_CHALLENGE;
            // The node and parent indices, as bits.
            let mut index_bits = Vec::with_capacity(COLUMNS_PER_CHALLENGE);
            for j in 0..COLUMNS_PER_CHALLENGE {
                let x = Num::alloc_input(cs, input(base + j))?;
                index_bits.push(x.to_bits_le(cs, bits)?);
            }
            // Columns: labels, their hash, its inclusion in tree_c.
            let mut columns: Vec<Vec<Num>> = Vec::with_capacity(COLUMNS_PER_CHALLENGE);
            for (j, idx) in index_bits.iter().enumerate() {
                let col = ch.and_then(|c| c.columns.get(j));
                if let Some(col) = col
                    && col.labels.len() != layers
                {
                    return Err(SynthesisError::Malformed(format!(
                        "column {j}: {} labels, expected {layers}",
                        col.labels.len()
                    )));
                }
                let mut labels = Vec::with_capacity(layers);
                for l in 0..layers {
                    let v = col
                        .and_then(|c| c.labels.get(l))
                        .map(|x| fr(x, "a label"))
                        .transpose()?;
                    labels.push(Num::alloc(cs, v)?);
                }
                let leaf = pgadget::hash(cs, column_arity, &labels)?;
                merkle::poseidon_root(cs, &leaf, idx, &r_arities, col.map(|c| &c.path))?
                    .enforce_equal(cs, &comm_c);
                columns.push(labels);
            }
            // Labels, layer by layer.
            let own_bits = index_bits
                .first()
                .cloned()
                .ok_or_else(|| SynthesisError::Malformed("no challenge index".into()))?;
            let node_bits = node_header_bits(&own_bits);
            let (own, parents) = columns.split_at(1);
            let (drg, exp) = parents.split_at(DRG_DEGREE);
            // Each parent label's bits are needed once: DRG parents in
            // every layer, expander parents in all but the last.
            let mut drg_bits: Vec<Vec<Vec<Boolean>>> = Vec::with_capacity(DRG_DEGREE);
            for col in drg {
                drg_bits.push(
                    col.iter()
                        .map(|l| label_bits(cs, l))
                        .collect::<Result<_, _>>()?,
                );
            }
            let mut exp_bits: Vec<Vec<Vec<Boolean>>> = Vec::with_capacity(exp.len());
            for col in exp {
                exp_bits.push(
                    col.iter()
                        .take(layers - 1)
                        .map(|l| label_bits(cs, l))
                        .collect::<Result<_, _>>()?,
                );
            }
            for layer in 1..=layers {
                let li = layer - 1;
                let mut message = replica_id_bits.clone();
                message.extend(const_bits(&(layer as u32).to_be_bytes()));
                message.extend(node_bits.iter().copied());
                message.extend(const_bits(&[0u8; 20]));
                let mut parent_bits: Vec<&Vec<Boolean>> =
                    drg_bits.iter().filter_map(|c| c.get(li)).collect();
                if layer > 1 {
                    parent_bits.extend(exp_bits.iter().filter_map(|c| c.get(li - 1)));
                }
                for k in 0..HASHED_PARENTS {
                    if let Some(b) = parent_bits.get(k % parent_bits.len().max(1)) {
                        message.extend(b.iter().copied());
                    }
                }
                let label = sha256::digest_to_num(&sha256::sha256(cs, &message)?);
                let stored = own
                    .first()
                    .and_then(|c| c.get(li))
                    .ok_or_else(|| SynthesisError::Malformed("own column".into()))?;
                label.enforce_equal(cs, stored);
            }
            // Data under CommD; replica = data + key under CommRLast.
            let data = Num::alloc(
                cs,
                ch.map(|c| fr(&c.data_path.leaf, "the data node"))
                    .transpose()?,
            )?;
            merkle::sha256_root(cs, &data, &own_bits, ch.map(|c| &c.data_path))?
                .enforce_equal(cs, &comm_d);
            let key = own
                .first()
                .and_then(|c| c.last())
                .ok_or_else(|| SynthesisError::Malformed("own column".into()))?;
            let replica = data.add(key);
            merkle::poseidon_root(
                cs,
                &replica,
                &own_bits,
                &r_arities,
                ch.map(|c| &c.replica_path),
            )?
            .enforce_equal(cs, &comm_r_last);
        }
        Ok(())
    }
}

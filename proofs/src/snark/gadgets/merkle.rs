//! Merkle inclusion in R1CS, for the trees of [`crate::tree`]: Poseidon
//! trees of any power-of-two arities (tree_c, tree_r_last) and the binary
//! SHA-256 tree (tree_d).
//!
//! A level's witness is all of its children, with the path's node among
//! them. Rather than inserting the node at a secret position (a network of
//! selections over the siblings), the circuit takes the children as given
//! and checks that the child the position bits select equals the node: a
//! binary tree of selections, `arity - 1` constraints for an arity-`a`
//! level (7 for 8), then the children are hashed. The position bits come
//! from the caller, who derives them from the leaf index (a public input),
//! so a path can only open the challenged leaf.

// Indices here run over fixed shapes (32-bit words, the 64-word schedule,
// a Poseidon width, a level's children) and are bounded by construction;
// no index comes from outside bytes.
#![allow(clippy::indexing_slicing)]

use super::super::cs::{ConstraintSystem, Lc, SynthesisError};
use super::bits::{Boolean, Num};
use super::{poseidon, sha256};
use crate::field::{Fr, fr_from_le_bytes};
use crate::poseidon::Arity;
use crate::tree::MerklePath;

/// `bit ? b : a`, as a new variable (one constraint).
fn select<CS: ConstraintSystem>(
    cs: &mut CS,
    bit: &Boolean,
    a: &Num,
    b: &Num,
) -> Result<Num, SynthesisError> {
    let value = match (bit.value(), a.value(), b.value()) {
        (Some(s), Some(a), Some(b)) => Some(if s { b } else { a }),
        _ => None,
    };
    let out = Num::alloc(cs, value)?;
    // bit · (b - a) = out - a.
    cs.enforce(
        &bit.lc(),
        &b.lc().clone().sub_lc(a.lc()),
        &out.lc().clone().sub_lc(a.lc()),
    );
    Ok(out)
}

/// Enforces that `children[position]` equals `node`, where `position` is
/// spelled by `bits` (least significant first). `children.len()` must be
/// `2^bits.len()`.
fn enforce_selected<CS: ConstraintSystem>(
    cs: &mut CS,
    children: &[Num],
    bits: &[Boolean],
    node: &Num,
) -> Result<(), SynthesisError> {
    if children.len() != 1 << bits.len() {
        return Err(SynthesisError::Malformed(format!(
            "{} children for {} position bits",
            children.len(),
            bits.len()
        )));
    }
    let mut layer: Vec<Num> = children.to_vec();
    for (depth, bit) in bits.iter().enumerate() {
        let last = depth + 1 == bits.len();
        let mut next = Vec::with_capacity(layer.len() / 2);
        for pair in layer.chunks_exact(2) {
            let (a, b) = (&pair[0], &pair[1]);
            if last {
                // The final selection is the node itself: no new variable.
                cs.enforce(
                    &bit.lc(),
                    &b.lc().clone().sub_lc(a.lc()),
                    &node.lc().clone().sub_lc(a.lc()),
                );
            } else {
                next.push(select(cs, bit, a, b)?);
            }
        }
        layer = next;
    }
    if bits.is_empty() {
        return Err(SynthesisError::Malformed("a level of arity 1".into()));
    }
    Ok(())
}

/// The children of one level, node inserted among the siblings, as field
/// values (None without a witness).
fn children_values(
    path: Option<&MerklePath>,
    level: usize,
    arity: usize,
    node: Option<Fr>,
) -> Result<Vec<Option<Fr>>, SynthesisError> {
    let Some(path) = path else {
        return Ok(vec![None; arity]);
    };
    let l = path
        .levels
        .get(level)
        .ok_or_else(|| SynthesisError::Malformed(format!("path has no level {level}")))?;
    if l.siblings.len() + 1 != arity || usize::from(l.index) >= arity {
        return Err(SynthesisError::Malformed(format!(
            "level {level}: {} siblings at position {} for arity {arity}",
            l.siblings.len(),
            l.index
        )));
    }
    let mut out = Vec::with_capacity(arity);
    let mut sib = l.siblings.iter();
    for j in 0..arity {
        if j == usize::from(l.index) {
            out.push(node);
        } else {
            let s = sib
                .next()
                .ok_or_else(|| SynthesisError::Malformed("siblings".into()))?;
            out.push(Some(fr_from_le_bytes(s).map_err(|_| {
                SynthesisError::Malformed(format!("level {level}: a sibling is not in the field"))
            })?));
        }
    }
    Ok(out)
}

fn log2(arity: usize) -> Result<usize, SynthesisError> {
    if arity < 2 || !arity.is_power_of_two() {
        return Err(SynthesisError::Malformed(format!("arity {arity}")));
    }
    Ok(arity.trailing_zeros() as usize)
}

/// The root of a Poseidon tree with per-level `arities` (leaves up) from
/// `leaf`, the position bits of the leaf index (least significant first,
/// `Σ log2(arity)` of them) and the path's witness.
pub fn poseidon_root<CS: ConstraintSystem>(
    cs: &mut CS,
    leaf: &Num,
    index_bits: &[Boolean],
    arities: &[usize],
    path: Option<&MerklePath>,
) -> Result<Num, SynthesisError> {
    let mut node = leaf.clone();
    let mut bits = index_bits;
    for (level, &arity) in arities.iter().enumerate() {
        let k = log2(arity)?;
        let (here, rest) = bits
            .split_at_checked(k)
            .ok_or_else(|| SynthesisError::Malformed("too few index bits".into()))?;
        bits = rest;
        let mut children = Vec::with_capacity(arity);
        for v in children_values(path, level, arity, node.value())? {
            children.push(Num::alloc(cs, v)?);
        }
        enforce_selected(cs, &children, here, &node)?;
        let a = Arity::try_from(arity)
            .map_err(|_| SynthesisError::Malformed(format!("no Poseidon of arity {arity}")))?;
        node = poseidon::hash(cs, a, &children)?;
    }
    if !bits.is_empty() {
        return Err(SynthesisError::Malformed("too many index bits".into()));
    }
    Ok(node)
}

/// A child of the SHA-256 tree as 254 new bits (booleanity each).
fn alloc_node_bits<CS: ConstraintSystem>(
    cs: &mut CS,
    value: Option<Fr>,
) -> Result<Vec<Boolean>, SynthesisError> {
    use ark_ff::{BigInteger, PrimeField};
    let repr = value.map(|v| v.into_bigint());
    if let Some(r) = &repr
        && r.num_bits() > 254
    {
        return Err(SynthesisError::Malformed(
            "a tree_d node above 2^254".into(),
        ));
    }
    (0..254)
        .map(|i| Boolean::alloc(cs, repr.as_ref().map(|r| r.get_bit(i))))
        .collect()
}

/// The root of the binary SHA-256 tree (tree_d) from `leaf`, its index
/// bits (one per level) and the path's witness. Each level: both
/// children as 254 bits (508 constraints), the selection check (1), the
/// two-block hash (~45 k).
pub fn sha256_root<CS: ConstraintSystem>(
    cs: &mut CS,
    leaf: &Num,
    index_bits: &[Boolean],
    path: Option<&MerklePath>,
) -> Result<Num, SynthesisError> {
    let mut node = leaf.clone();
    for (level, bit) in index_bits.iter().enumerate() {
        let vals = children_values(path, level, 2, node.value())?;
        let left = alloc_node_bits(cs, vals[0])?;
        let right = alloc_node_bits(cs, vals[1])?;
        let children = [Num::from_bits_le(&left), Num::from_bits_le(&right)];
        // bit · (right - left) = node - left.
        cs.enforce(
            &bit.lc(),
            &children[1].lc().clone().sub_lc(children[0].lc()),
            &node.lc().clone().sub_lc(children[0].lc()),
        );
        let mut message = sha256::fr_bits_to_sha_order(&left);
        message.extend(sha256::fr_bits_to_sha_order(&right));
        let digest = sha256::sha256(cs, &message)?;
        node = sha256::digest_to_num(&digest);
    }
    Ok(node)
}

/// Allocates `value` as a new variable equal to `num` (one constraint):
/// for a combination used many times.
pub fn materialize<CS: ConstraintSystem>(cs: &mut CS, num: &Num) -> Result<Num, SynthesisError> {
    let out = Num::alloc(cs, num.value())?;
    cs.enforce(num.lc(), &Lc::one(), out.lc());
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::super::super::cs::TestCs;
    use super::*;
    use crate::field::fr_to_le_bytes;
    use crate::tree::{PathLevel, PoseidonHasher, Sha256Hasher};

    fn bits_of_index(cs: &mut TestCs, index: u64, n: usize) -> Vec<Boolean> {
        let x = Num::alloc_input(cs, Some(Fr::from(index))).unwrap();
        x.to_bits_le(cs, n).unwrap()
    }

    fn node(i: u64, salt: u64) -> [u8; 32] {
        fr_to_le_bytes(Fr::from(i * 1_000_003 + salt * 7 + 1))
    }

    /// A path to leaf `index` with made-up siblings.
    fn path(index: u64, arities: &[usize]) -> MerklePath {
        let mut rest = index;
        let levels = arities
            .iter()
            .enumerate()
            .map(|(l, &a)| {
                let pos = rest % a as u64;
                rest /= a as u64;
                PathLevel {
                    siblings: (0..a as u64 - 1).map(|j| node(j, l as u64)).collect(),
                    index: pos as u8,
                }
            })
            .collect();
        MerklePath {
            leaf: node(index, 99),
            levels,
        }
    }

    #[test]
    fn poseidon_paths_verify_and_reject_another_index() {
        let arities = [8, 8, 2];
        for index in [0u64, 9, 127] {
            let p = path(index, &arities);
            let root = p.root(&PoseidonHasher, &arities).unwrap();
            let mut cs = TestCs::new();
            let bits = bits_of_index(&mut cs, index, 7);
            let leaf = Num::alloc(&mut cs, Some(fr_from_le_bytes(&p.leaf).unwrap())).unwrap();
            let got = poseidon_root(&mut cs, &leaf, &bits, &arities, Some(&p)).unwrap();
            assert_eq!(got.value().map(fr_to_le_bytes), Some(root));
            assert!(cs.is_satisfied());
            // The same witness under another index: a selection fails.
            let mut cs = TestCs::new();
            let bits = bits_of_index(&mut cs, index ^ 8, 7);
            let leaf = Num::alloc(&mut cs, Some(fr_from_le_bytes(&p.leaf).unwrap())).unwrap();
            poseidon_root(&mut cs, &leaf, &bits, &arities, Some(&p)).unwrap();
            assert!(!cs.is_satisfied());
        }
    }

    #[test]
    fn sha256_paths_verify() {
        let arities = [2, 2, 2];
        let p = path(5, &arities);
        let root = p.root(&Sha256Hasher, &arities).unwrap();
        let mut cs = TestCs::new();
        let bits = bits_of_index(&mut cs, 5, 3);
        let leaf = Num::alloc(&mut cs, Some(fr_from_le_bytes(&p.leaf).unwrap())).unwrap();
        let got = sha256_root(&mut cs, &leaf, &bits, Some(&p)).unwrap();
        assert_eq!(got.value().map(fr_to_le_bytes), Some(root));
        assert!(cs.is_satisfied());
        let mut cs = TestCs::new();
        let bits = bits_of_index(&mut cs, 4, 3);
        let leaf = Num::alloc(&mut cs, Some(fr_from_le_bytes(&p.leaf).unwrap())).unwrap();
        sha256_root(&mut cs, &leaf, &bits, Some(&p)).unwrap();
        assert!(!cs.is_satisfied());
    }
}

//! Which nodes a proof must open: the interactive PoRep challenges and the
//! WindowPoSt leaf challenges, derived exactly as storage-proofs-porep and
//! storage-proofs-post 19 derive them.
//!
//! - PoRep (interactive, v1.1): for partition `k` and challenge `i`, with
//!   `j = k * per_partition + i`, the node is
//!   `SHA-256(replica_id ‖ seed ‖ j as u32 LE)` read as a little-endian
//!   256-bit integer, mod `nodes − 1`, plus one (node 0 is never challenged:
//!   its label has no parents).
//! - WindowPoSt (fallback PoSt, api 1.2): challenge `n` of a sector is the
//!   first 8 bytes of `SHA-256(randomness ‖ sector_id u64 LE ‖ n u64 LE)` as
//!   a little-endian u64, mod `nodes`. Since api 1.2 `n` does not depend on
//!   the sector's position in the partition.
//!
//! Randomness enters as a canonical BLS12-381 scalar: rust-fil-proofs refuses
//! other bytes, and Lotus clears the top two bits of the chain randomness
//! before passing it ([`PostRandomness::from_chain`]).

use sha2::{Digest, Sha256};

/// The BLS12-381 scalar field modulus r, as little-endian u64 limbs.
const FR_MODULUS: [u64; 4] = [
    0xffff_ffff_0000_0001,
    0x53bd_a402_fffe_5bfe,
    0x3339_d808_09a1_d805,
    0x73ed_a753_299d_7d48,
];

/// Whether 32 little-endian bytes are a canonical scalar (less than r).
pub fn is_canonical_fr(bytes: &[u8; 32]) -> bool {
    let mut limbs = [0u64; 4];
    for (l, c) in limbs.iter_mut().zip(bytes.chunks_exact(8)) {
        let mut b = [0u8; 8];
        b.copy_from_slice(c);
        *l = u64::from_le_bytes(b);
    }
    for (l, m) in limbs.iter().zip(FR_MODULUS.iter()).rev() {
        if l != m {
            return l < m;
        }
    }
    false
}

/// Why challenges could not be derived.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ChallengeError {
    /// Randomness that is not a canonical BLS12-381 scalar.
    #[error("randomness is not a canonical BLS12-381 scalar (top byte {top:#04x})")]
    NonCanonicalRandomness {
        /// Byte 31 of the randomness.
        top: u8,
    },
    /// A sector with fewer than two nodes has nothing to challenge.
    #[error("a sector of {0} nodes cannot be challenged")]
    TooFewNodes(u64),
}

/// WindowPoSt randomness: a canonical BLS12-381 scalar, little-endian.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PostRandomness([u8; 32]);

impl PostRandomness {
    /// Randomness that must already be canonical, as rust-fil-proofs requires.
    pub fn new(bytes: [u8; 32]) -> Result<Self, ChallengeError> {
        if !is_canonical_fr(&bytes) {
            return Err(ChallengeError::NonCanonicalRandomness { top: bytes[31] });
        }
        Ok(Self(bytes))
    }

    /// Chain randomness as Lotus passes it: the top two bits of byte 31
    /// cleared, which makes any 32 bytes canonical.
    pub fn from_chain(mut bytes: [u8; 32]) -> Self {
        bytes[31] &= 0x3f;
        Self(bytes)
    }

    /// The 32 bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

/// `value mod m` for a 256-bit little-endian integer.
fn mod_u64(le: &[u8; 32], m: u64) -> u64 {
    let mut r: u128 = 0;
    for c in le.chunks_exact(8).rev() {
        let mut b = [0u8; 8];
        b.copy_from_slice(c);
        r = ((r << 64) | u128::from(u64::from_le_bytes(b))) % u128::from(m);
    }
    r as u64
}

/// The interactive PoRep challenges of partition `k`: `per_partition` node
/// indices in `1..nodes`.
pub fn porep_challenges(
    nodes: u64,
    replica_id: &[u8; 32],
    seed: &[u8; 32],
    per_partition: usize,
    k: usize,
) -> Result<Vec<u64>, ChallengeError> {
    if nodes < 2 {
        return Err(ChallengeError::TooFewNodes(nodes));
    }
    let base = Sha256::new().chain_update(replica_id).chain_update(seed);
    Ok((0..per_partition)
        .map(|i| {
            let j = (per_partition * k + i) as u32;
            let hash: [u8; 32] = base.clone().chain_update(j.to_le_bytes()).finalize().into();
            mod_u64(&hash, nodes - 1) + 1
        })
        .collect())
}

/// The first `count` WindowPoSt leaf challenges of one sector: node indices
/// in `0..nodes`.
pub fn window_post_challenges(
    randomness: &PostRandomness,
    sector_id: u64,
    nodes: u64,
    count: usize,
) -> Result<Vec<u64>, ChallengeError> {
    if nodes < 2 {
        return Err(ChallengeError::TooFewNodes(nodes));
    }
    let base = Sha256::new()
        .chain_update(randomness.as_bytes())
        .chain_update(sector_id.to_le_bytes());
    Ok((0..count as u64)
        .map(|n| {
            let hash = base.clone().chain_update(n.to_le_bytes()).finalize();
            let mut first = [0u8; 8];
            first.copy_from_slice(hash.get(..8).unwrap_or(&[0; 8]));
            u64::from_le_bytes(first) % nodes
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_boundary() {
        let mut r = [0u8; 32];
        for (c, l) in r.chunks_exact_mut(8).zip(FR_MODULUS) {
            c.copy_from_slice(&l.to_le_bytes());
        }
        assert!(!is_canonical_fr(&r), "r itself");
        let mut below = r;
        below[0] -= 1;
        assert!(is_canonical_fr(&below), "r - 1");
        assert!(is_canonical_fr(&[0; 32]));
        assert!(!is_canonical_fr(&[0xff; 32]));
        assert!(PostRandomness::new([0xff; 32]).is_err());
        assert_eq!(PostRandomness::from_chain([0xff; 32]).as_bytes()[31], 0x3f);
        assert!(is_canonical_fr(
            PostRandomness::from_chain([0xff; 32]).as_bytes()
        ));
    }

    #[test]
    fn mod_matches_small_cases() {
        let mut v = [0u8; 32];
        v[0] = 200;
        assert_eq!(mod_u64(&v, 7), 200 % 7);
        v[8] = 1; // 2^64 + 200
        assert_eq!(
            mod_u64(&v, 1_000_003),
            (((1u128 << 64) + 200) % 1_000_003) as u64
        );
    }

    #[test]
    fn porep_challenges_are_in_range_and_per_partition() {
        for nodes in [2u64, 3, 64, 1 << 30] {
            let c = porep_challenges(nodes, &[5; 32], &[7; 32], 18, 3).unwrap();
            assert_eq!(c.len(), 18);
            assert!(c.iter().all(|&v| v >= 1 && v < nodes), "{nodes}: {c:?}");
        }
        assert_ne!(
            porep_challenges(1 << 30, &[5; 32], &[7; 32], 18, 0).unwrap(),
            porep_challenges(1 << 30, &[5; 32], &[7; 32], 18, 1).unwrap()
        );
    }

    #[test]
    fn porep_never_challenges_node_zero() {
        let c = porep_challenges(2, &[1; 32], &[2; 32], 50, 0).unwrap();
        assert!(c.iter().all(|&n| n == 1));
        assert!(porep_challenges(1, &[1; 32], &[2; 32], 1, 0).is_err());
    }
}

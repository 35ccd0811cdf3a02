//! CommP, the piece commitment, and its piece CIDs.
//!
//! A piece of unpadded bytes is [`fr32`](crate::fr32)-padded, zero-padded to
//! a power of two of at least 128 padded bytes, and committed to by a binary
//! Merkle tree over 32-byte leaves whose nodes are SHA-256 of the two children
//! with the top two bits of the last byte cleared (sha2-256-trunc254). The
//! root is CommP, as rust-fil-proofs' `generate_piece_commitment` computes it.
//!
//! [`CommPHasher`] streams: it holds one 127-byte chunk, one 32 KiB batch of
//! padded leaves and one pending node per tree level (at most 64), and the
//! zero padding costs one hash per level because the roots of all-zero
//! subtrees are computed once, not rehashed leaf by leaf. Aligned batches of
//! 1024 leaves are reduced in place to their subtree root, and every node is
//! exactly two raw SHA-256 compressions (the second block is constant), which
//! is what keeps it near its bound of a quarter of plain SHA-256's speed.
//!
//! Short inputs: Filecoin's smallest piece is 128 padded (127 unpadded)
//! bytes, so any input shorter than 127 bytes is committed as that minimum
//! piece, zero-extended. This is what rust-fil-proofs gives for the
//! zero-extended 127 bytes. (go-fil-commp-hashhash refuses inputs under 65
//! bytes instead; for 65..127 bytes the two agree.) Empty input, likewise,
//! is the all-zero 127-byte piece with 127 bytes of padding, as FRC-0069's
//! test cases require of its v2 piece CID.

use std::io::{self, Write};

use cid::Cid;
use multihash::Multihash;

use crate::fr32::{PADDED_CHUNK, UNPADDED_CHUNK, pad_chunk};

/// Multicodec `fil-commitment-unsealed`, the codec of v1 piece CIDs.
pub const FIL_COMMITMENT_UNSEALED: u64 = 0xf101;
/// Multihash `sha2-256-trunc254-padded`, the hash of v1 piece CIDs.
pub const SHA2_256_TRUNC254_PADDED: u64 = 0x1012;
/// Multicodec `raw`, the codec of v2 piece CIDs (FRC-0069).
pub const RAW: u64 = 0x55;
/// Multihash `fr32-sha256-trunc254-padbintree`, the hash of v2 piece CIDs.
pub const FR32_SHA256_TRUNC254_PADBINTREE: u64 = 0x1011;

/// A 32-byte tree node.
pub type Node = [u8; 32];

/// Why a piece commitment could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CommPError {
    /// More than 2^63 padded bytes.
    #[error("piece of {unpadded} unpadded bytes is too large")]
    TooLarge {
        /// Bytes seen.
        unpadded: u64,
    },
    /// A multihash could not hold the digest (not reachable for valid sizes).
    #[error("multihash: {0}")]
    Multihash(String),
}

/// SHA-256's initial state.
const SHA256_IV: [u32; 8] = [
    0x6a09_e667,
    0xbb67_ae85,
    0x3c6e_f372,
    0xa54f_f53a,
    0x510e_527f,
    0x9b05_688c,
    0x1f83_d9ab,
    0x5be0_cd19,
];

/// The second block of SHA-256 over a 64-byte message: the 0x80 terminator,
/// zeros, and the bit length 512 big-endian. It never changes, so nodes are
/// hashed with two raw compressions and no buffering.
const PAD_64: [u8; 64] = {
    let mut b = [0u8; 64];
    b[0] = 0x80;
    b[62] = 0x02;
    b
};

/// sha2-256-trunc254 of two nodes: the parent node.
#[inline]
pub fn hash_nodes(left: &Node, right: &Node) -> Node {
    let mut block = [0u8; 64];
    block[..32].copy_from_slice(left);
    block[32..].copy_from_slice(right);
    hash_block(&block)
}

/// sha2-256-trunc254 of one 64-byte block holding two adjacent nodes.
#[inline]
fn hash_block(block: &[u8; 64]) -> Node {
    let mut state = SHA256_IV;
    sha2::block_api::compress256(&mut state, &[*block, PAD_64]);
    let mut out = [0u8; 32];
    for (o, w) in out.chunks_exact_mut(4).zip(state) {
        o.copy_from_slice(&w.to_be_bytes());
    }
    out[31] &= 0x3f;
    out
}

/// Reduces `2^k` contiguous leaves in place to their subtree root, which
/// ends up in the first 32 bytes. `buf.len()` is a power of two ≥ 64.
fn reduce_in_place(buf: &mut [u8]) {
    let mut len = buf.len();
    while len > 32 {
        for i in 0..len / 64 {
            let src = i * 64;
            let mut block = [0u8; 64];
            if let Some(b) = buf.get(src..src + 64) {
                block.copy_from_slice(b);
            }
            let node = hash_block(&block);
            if let Some(dst) = buf.get_mut(i * 32..i * 32 + 32) {
                dst.copy_from_slice(&node);
            }
        }
        len /= 2;
    }
}

/// The root of an all-zero subtree with `2^level` leaves, for each level up
/// to and including `max_level`.
fn zero_roots(max_level: usize) -> Vec<Node> {
    let mut roots = Vec::with_capacity(max_level + 1);
    let mut z = [0u8; 32];
    roots.push(z);
    for _ in 0..max_level {
        z = hash_nodes(&z, &z);
        roots.push(z);
    }
    roots
}

/// CommP of an all-zero piece of `padded_size` bytes (a power of two, at
/// least 32), in O(log n) hashes; `None` for other sizes.
pub fn zero_piece_comm(padded_size: u64) -> Option<Node> {
    if padded_size < 32 || !padded_size.is_power_of_two() {
        return None;
    }
    zero_roots((padded_size / 32).trailing_zeros() as usize)
        .last()
        .copied()
}

/// The padded piece size for `unpadded` payload bytes: fr32-expanded, then
/// rounded up to a power of two of at least 128.
pub fn padded_piece_size(unpadded: u64) -> Option<u64> {
    let chunks = unpadded.div_ceil(UNPADDED_CHUNK as u64).max(1);
    chunks
        .checked_mul(PADDED_CHUNK as u64)?
        .checked_next_power_of_two()
}

/// A piece commitment with the sizes that go with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PieceCommitment {
    /// The CommP root node.
    pub comm_p: Node,
    /// Payload bytes committed to, before any padding.
    pub payload_size: u64,
    /// Padded piece size: a power of two, at least 128.
    pub padded_size: u64,
}

impl PieceCommitment {
    /// Unpadded piece size: `padded_size * 127 / 128`.
    pub fn unpadded_size(&self) -> u64 {
        self.padded_size / 128 * 127
    }

    /// Zero bytes added to the payload (in unpadded space) to fill the piece.
    pub fn padding(&self) -> u64 {
        self.unpadded_size() - self.payload_size
    }

    /// Tree height: log2 of the number of 32-byte leaves.
    pub fn height(&self) -> u8 {
        // padded_size is a power of two ≥ 128, so this is 2..=58.
        (self.padded_size.trailing_zeros() - 5) as u8
    }

    /// The v1 piece CID (`baga6ea4sea…`): fil-commitment-unsealed with a
    /// sha2-256-trunc254-padded multihash of CommP.
    pub fn cid_v1(&self) -> Result<Cid, CommPError> {
        let mh = Multihash::<64>::wrap(SHA2_256_TRUNC254_PADDED, &self.comm_p)
            .map_err(|e| CommPError::Multihash(e.to_string()))?;
        Ok(Cid::new_v1(FIL_COMMITMENT_UNSEALED, mh))
    }

    /// The v2 piece CID of FRC-0069 (`bafkzcib…`): raw codec with a
    /// fr32-sha256-trunc254-padbintree multihash whose digest is
    /// `uvarint(padding) || height || CommP`.
    pub fn cid_v2(&self) -> Result<Cid, CommPError> {
        let mut digest = Vec::with_capacity(10 + 1 + 32);
        let mut p = self.padding();
        loop {
            let byte = (p & 0x7f) as u8;
            p >>= 7;
            if p == 0 {
                digest.push(byte);
                break;
            }
            digest.push(byte | 0x80);
        }
        digest.push(self.height());
        digest.extend_from_slice(&self.comm_p);
        let mh = Multihash::<64>::wrap(FR32_SHA256_TRUNC254_PADBINTREE, &digest)
            .map_err(|e| CommPError::Multihash(e.to_string()))?;
        Ok(Cid::new_v1(RAW, mh))
    }
}

/// Streaming CommP: write the unpadded payload, then [`CommPHasher::finish`].
#[derive(Debug, Clone)]
pub struct CommPHasher {
    chunk: [u8; UNPADDED_CHUNK],
    filled: usize,
    payload: u64,
    leaves: u64,
    /// `stack[l]` is a left node at level `l` waiting for its sibling.
    stack: Vec<Option<Node>>,
    /// Padded leaves of one batch (`BATCH_LEAVES` × 32 bytes).
    batch_buf: Box<[u8]>,
}

/// Leaves per batch: 2^BATCH_LEVEL (a 32 KiB padded subtree, L1-resident).
const BATCH_LEVEL: usize = 10;
const BATCH_LEAVES: u64 = 1 << BATCH_LEVEL;
const BATCH_UNPADDED: usize = (BATCH_LEAVES as usize / 4) * UNPADDED_CHUNK;

impl Default for CommPHasher {
    fn default() -> Self {
        Self::new()
    }
}

impl CommPHasher {
    /// A hasher with nothing written.
    pub fn new() -> Self {
        Self {
            chunk: [0; UNPADDED_CHUNK],
            filled: 0,
            payload: 0,
            leaves: 0,
            stack: Vec::with_capacity(64),
            batch_buf: vec![0u8; BATCH_LEAVES as usize * 32].into_boxed_slice(),
        }
    }

    /// Adds payload bytes.
    pub fn update(&mut self, mut data: &[u8]) {
        self.payload += data.len() as u64;
        while !data.is_empty() {
            // Whole aligned batches go through the in-place subtree path:
            // contiguous leaves, no per-node bookkeeping.
            if self.filled == 0
                && self.leaves.is_multiple_of(BATCH_LEAVES)
                && data.len() >= BATCH_UNPADDED
            {
                let (batch, rest) = data.split_at(BATCH_UNPADDED);
                self.batch(batch);
                data = rest;
                continue;
            }
            let n = (UNPADDED_CHUNK - self.filled).min(data.len());
            let (head, rest) = data.split_at(n);
            self.chunk
                .iter_mut()
                .skip(self.filled)
                .zip(head)
                .for_each(|(b, d)| *b = *d);
            self.filled += n;
            data = rest;
            if self.filled == UNPADDED_CHUNK {
                self.flush_chunk();
            }
        }
    }

    /// Pads and reduces one batch of `BATCH_UNPADDED` bytes to a subtree
    /// root and pushes it at its level.
    fn batch(&mut self, data: &[u8]) {
        let buf = &mut self.batch_buf;
        for (src, dst) in data
            .chunks_exact(UNPADDED_CHUNK)
            .zip(buf.chunks_exact_mut(PADDED_CHUNK))
        {
            let mut chunk = [0u8; UNPADDED_CHUNK];
            chunk.copy_from_slice(src);
            dst.copy_from_slice(&pad_chunk(&chunk));
        }
        reduce_in_place(buf);
        let mut root = [0u8; 32];
        root.copy_from_slice(buf.get(..32).unwrap_or(&[0; 32]));
        self.push(root, BATCH_LEVEL);
        self.leaves += BATCH_LEAVES;
    }

    fn flush_chunk(&mut self) {
        let padded = pad_chunk(&self.chunk);
        for leaf in padded.chunks_exact(32) {
            let mut node = [0u8; 32];
            node.copy_from_slice(leaf);
            self.push(node, 0);
            self.leaves += 1;
        }
        self.filled = 0;
    }

    /// Pushes `node` at `level`, hashing up while a left sibling waits.
    fn push(&mut self, mut node: Node, mut level: usize) {
        loop {
            if self.stack.len() <= level {
                self.stack.resize(level + 1, None);
            }
            match self.stack.get_mut(level) {
                Some(slot @ None) => {
                    *slot = Some(node);
                    return;
                }
                Some(slot) => {
                    if let Some(left) = slot.take() {
                        node = hash_nodes(&left, &node);
                    }
                    level += 1;
                }
                None => return, // unreachable: resized above
            }
        }
    }

    /// Zero-pads to the piece size and returns the commitment.
    pub fn finish(mut self) -> Result<PieceCommitment, CommPError> {
        if self.filled > 0 || self.leaves == 0 {
            self.chunk.iter_mut().skip(self.filled).for_each(|b| *b = 0);
            self.flush_chunk();
        }
        let padded_size = padded_piece_size(self.payload).ok_or(CommPError::TooLarge {
            unpadded: self.payload,
        })?;
        let target = padded_size / 32;
        let top = target.trailing_zeros() as usize;
        let zeros = zero_roots(top);
        // `leaves` is a non-zero multiple of 4 and below a power of two
        // `target`, so the zero subtree at its lowest set bit always fits.
        while self.leaves < target {
            let level = self.leaves.trailing_zeros() as usize;
            let z = zeros.get(level).copied().unwrap_or([0; 32]);
            self.push(z, level);
            self.leaves += 1 << level;
        }
        let comm_p = self.stack.get(top).copied().flatten().unwrap_or([0; 32]);
        Ok(PieceCommitment {
            comm_p,
            payload_size: self.payload,
            padded_size,
        })
    }
}

impl Write for CommPHasher {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.update(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// CommP of a whole buffer.
pub fn commp(data: &[u8]) -> Result<PieceCommitment, CommPError> {
    let mut h = CommPHasher::new();
    h.update(data);
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Naive reference: pad everything, hash level by level.
    fn naive(data: &[u8]) -> Node {
        let mut padded = crate::fr32::pad(data);
        let size = padded_piece_size(data.len() as u64).unwrap() as usize;
        padded.resize(size, 0);
        let mut level: Vec<Node> = padded
            .chunks_exact(32)
            .map(|c| c.try_into().unwrap())
            .collect();
        while level.len() > 1 {
            level = level
                .chunks_exact(2)
                .map(|p| hash_nodes(&p[0], &p[1]))
                .collect();
        }
        level[0]
    }

    #[test]
    fn sizes() {
        // (payload, padded): the boundary each row hits.
        for (u, p) in [
            (1, 128),
            (127, 128),
            (128, 256),
            (254, 256),
            (255, 512),
            (2032, 2048),
            (2033, 4096),
        ] {
            assert_eq!(padded_piece_size(u), Some(p), "payload {u}");
        }
    }

    #[test]
    fn streaming_matches_naive() {
        for len in [
            1usize, 64, 65, 126, 127, 128, 300, 1000, 2032, 5000, 32512, 32513, 65024, 100_000,
            300_001,
        ] {
            let data: Vec<u8> = (0..len).map(|i| (i * 7 + 3) as u8).collect();
            let c = commp(&data).unwrap();
            assert_eq!(c.comm_p, naive(&data), "len {len}");
            let mut h = CommPHasher::new();
            for piece in data.chunks(33) {
                h.write_all(piece).unwrap();
            }
            assert_eq!(h.finish().unwrap(), c);
            // Writes that straddle batch boundaries at odd offsets.
            let mut h = CommPHasher::new();
            let (a, b) = data.split_at(len.min(127 * 3 + 5));
            h.update(a);
            for piece in b.chunks(40_000) {
                h.update(piece);
            }
            assert_eq!(h.finish().unwrap(), c, "len {len}, split writes");
        }
        assert_ne!(
            commp(&[1; 200]).unwrap().comm_p,
            commp(&[2; 200]).unwrap().comm_p
        );
    }

    #[test]
    fn empty_is_the_zero_minimum_piece() {
        let c = commp(&[]).unwrap();
        assert_eq!(c.comm_p, naive(&[0; 127]));
        assert_eq!((c.padded_size, c.payload_size, c.padding()), (128, 0, 127));
    }

    #[test]
    fn zero_piece_comm_matches_streaming() {
        for padded in [128u64, 256, 2048, 1 << 16] {
            let c = commp(&vec![0; (padded / 128 * 127) as usize]).unwrap();
            assert_eq!(zero_piece_comm(padded), Some(c.comm_p), "{padded}");
        }
        assert_eq!(zero_piece_comm(0), None);
        assert_eq!(zero_piece_comm(16), None);
        assert_eq!(zero_piece_comm(96), None);
    }
}

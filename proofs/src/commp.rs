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
//!
//! Piece CIDs: [`PieceCommitment::cid_v1`] and [`PieceCommitment::cid_v2`]
//! make them, and [`PieceCid`] parses one back from text or a [`Cid`],
//! accepting only what those two produce.

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
        cid_v1(&self.comm_p)
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

/// A piece CID, parsed and checked: CommP alone (v1), or CommP with the
/// size of the piece and of its payload (v2).
///
/// Parsing accepts exactly the CIDs that [`PieceCommitment::cid_v1`] and
/// [`PieceCommitment::cid_v2`] can produce, so [`PieceCid::to_cid`] gives
/// back the CID that was parsed: one piece, one CID per version.
///
/// - v1 (`baga6ea4sea…`): CIDv1, codec fil-commitment-unsealed (0xf101),
///   multihash sha2-256-trunc254-padded (0x1012) whose 32-byte digest is
///   CommP. The piece size is not in it; it travels beside the CID.
/// - v2 (FRC-0069, `bafkzcib…`): CIDv1, codec raw (0x55), multihash
///   fr32-sha256-trunc254-padbintree (0x1011) whose digest is
///   `uvarint(padding) || height || CommP`. The varint must be minimal (at
///   most 9 bytes, as multiformats' unsigned-varint allows), the height
///   that of a piece (2 to 58: 128 bytes to 8 EiB padded), and the padding
///   what [`commp`] gives the payload it implies: less than half the tree,
///   except in the smallest tree, which holds any payload of 0 to 127 bytes.
///
/// Both refuse a root with either of its top two bits set, which no
/// sha2-256-trunc254 node has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PieceCid {
    /// A v1 piece CID: CommP only.
    V1 {
        /// The CommP root node.
        comm_p: Node,
    },
    /// A v2 piece CID: CommP, the padded size and the payload size.
    V2 {
        /// What the CID commits to.
        commitment: PieceCommitment,
    },
}

/// Why a string or a CID is not a piece CID.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PieceCidError {
    /// Not a CID at all: bad multibase, varint or multihash.
    #[error("not a CID: {source}")]
    NotACid {
        /// What the `cid` crate found wrong.
        #[source]
        source: cid::Error,
    },
    /// A CIDv0, which is always dag-pb over sha2-256.
    #[error("a piece CID is a CIDv1, this is a CIDv0")]
    CidV0,
    /// Neither a v1 nor a v2 piece CID's codec.
    #[error(
        "codec {codec:#x} is neither fil-commitment-unsealed (0xf101, v1 piece CID) nor raw (0x55, v2 piece CID)"
    )]
    WrongCodec {
        /// The CID's codec.
        codec: u64,
    },
    /// A multihash that does not go with the codec.
    #[error("a {version} piece CID has multihash {expected:#x}, this one has {found:#x}")]
    WrongMultihash {
        /// `v1` or `v2`, from the codec.
        version: &'static str,
        /// The multihash code that version requires.
        expected: u64,
        /// The multihash code found.
        found: u64,
    },
    /// A digest of the wrong length for its version (and, in v2, for the
    /// length of its padding varint).
    #[error("{version} piece CID digest is {found} bytes, expected {expected}")]
    DigestLength {
        /// `v1` or `v2`.
        version: &'static str,
        /// Length required.
        expected: usize,
        /// Length found.
        found: usize,
    },
    /// The v2 padding varint runs past the digest or past 9 bytes.
    #[error("v2 piece CID padding varint is truncated or longer than 9 bytes")]
    BadVarint,
    /// The v2 padding varint has redundant high zero groups.
    #[error("v2 piece CID padding varint is not minimally encoded")]
    NonCanonicalVarint,
    /// A tree height no piece has.
    #[error("tree height {height} is not a piece's: 2 (128 bytes) to 58 (8 EiB)")]
    Height {
        /// The height found.
        height: u8,
    },
    /// More padding than the tree allows: the payload it implies would fit
    /// in a smaller tree, or is negative.
    #[error("padding of {padding} bytes does not fit a height-{height} tree: at most {max}")]
    PaddingTooLarge {
        /// Padding found.
        padding: u64,
        /// Tree height.
        height: u8,
        /// Largest padding for that height.
        max: u64,
    },
    /// A root with either of its top two bits set.
    #[error("root's last byte is {last_byte:#04x}: top two bits set, not a sha2-256-trunc254 node")]
    RootNotTruncated {
        /// The root's last byte.
        last_byte: u8,
    },
}

/// Smallest and largest piece tree heights: 128 bytes and 2^63 bytes padded.
const MIN_HEIGHT: u8 = 2;
const MAX_HEIGHT: u8 = 58;
/// multiformats' unsigned-varint allows at most 9 bytes (63 bits).
const MAX_VARINT_BYTES: usize = 9;

/// Reads a minimal unsigned varint of at most 9 bytes from the front of
/// `bytes`: the value and the bytes it took.
fn read_uvarint(bytes: &[u8]) -> Result<(u64, usize), PieceCidError> {
    let mut value = 0u64;
    for (i, &b) in bytes.iter().take(MAX_VARINT_BYTES).enumerate() {
        value |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            // A last byte of 0 after another byte adds nothing: not minimal.
            if b == 0 && i > 0 {
                return Err(PieceCidError::NonCanonicalVarint);
            }
            return Ok((value, i + 1));
        }
    }
    Err(PieceCidError::BadVarint)
}

/// The largest padding a tree of `height` allows (`height` in 2..=58):
/// the payload must need this tree, so for heights above 2 it is more than
/// half of it; the height-2 tree takes any payload up to 127 bytes.
fn max_padding(height: u8) -> u64 {
    let unpadded = (32u64 << height) / 128 * 127;
    if height == MIN_HEIGHT {
        unpadded
    } else {
        unpadded / 2 - 1
    }
}

fn check_root(comm_p: &Node) -> Result<(), PieceCidError> {
    let last_byte = comm_p.last().copied().unwrap_or(0);
    if last_byte & 0xc0 != 0 {
        return Err(PieceCidError::RootNotTruncated { last_byte });
    }
    Ok(())
}

impl PieceCid {
    /// Checks that `cid` is a v1 or v2 piece CID and reads it.
    pub fn from_cid(cid: &Cid) -> Result<Self, PieceCidError> {
        if cid.version() == cid::Version::V0 {
            return Err(PieceCidError::CidV0);
        }
        let (version, expected) = match cid.codec() {
            FIL_COMMITMENT_UNSEALED => ("v1", SHA2_256_TRUNC254_PADDED),
            RAW => ("v2", FR32_SHA256_TRUNC254_PADBINTREE),
            codec => return Err(PieceCidError::WrongCodec { codec }),
        };
        let mh = cid.hash();
        if mh.code() != expected {
            return Err(PieceCidError::WrongMultihash {
                version,
                expected,
                found: mh.code(),
            });
        }
        let digest = mh.digest();
        if expected == SHA2_256_TRUNC254_PADDED {
            let comm_p: Node = digest.try_into().map_err(|_| PieceCidError::DigestLength {
                version,
                expected: 32,
                found: digest.len(),
            })?;
            check_root(&comm_p)?;
            return Ok(Self::V1 { comm_p });
        }
        // uvarint(padding) || height || root: at least 1 + 1 + 32 bytes.
        if digest.len() < 34 {
            return Err(PieceCidError::DigestLength {
                version,
                expected: 34,
                found: digest.len(),
            });
        }
        let (padding, used) = read_uvarint(digest)?;
        let rest = digest.get(used..).unwrap_or_default();
        let Some((&height, root)) = rest.split_first() else {
            return Err(PieceCidError::DigestLength {
                version,
                expected: used + 33,
                found: digest.len(),
            });
        };
        let comm_p: Node = root.try_into().map_err(|_| PieceCidError::DigestLength {
            version,
            expected: used + 33,
            found: digest.len(),
        })?;
        if !(MIN_HEIGHT..=MAX_HEIGHT).contains(&height) {
            return Err(PieceCidError::Height { height });
        }
        let max = max_padding(height);
        if padding > max {
            return Err(PieceCidError::PaddingTooLarge {
                padding,
                height,
                max,
            });
        }
        check_root(&comm_p)?;
        let padded_size = 32u64 << height;
        Ok(Self::V2 {
            commitment: PieceCommitment {
                comm_p,
                payload_size: padded_size / 128 * 127 - padding,
                padded_size,
            },
        })
    }

    /// The CommP root node.
    pub fn comm_p(&self) -> Node {
        match self {
            Self::V1 { comm_p } => *comm_p,
            Self::V2 { commitment } => commitment.comm_p,
        }
    }

    /// The sizes with the root: v2 only.
    pub fn commitment(&self) -> Option<&PieceCommitment> {
        match self {
            Self::V1 { .. } => None,
            Self::V2 { commitment } => Some(commitment),
        }
    }

    /// The CID this was parsed from.
    pub fn to_cid(&self) -> Result<Cid, CommPError> {
        match self {
            Self::V1 { comm_p } => cid_v1(comm_p),
            Self::V2 { commitment } => commitment.cid_v2(),
        }
    }
}

impl TryFrom<&Cid> for PieceCid {
    type Error = PieceCidError;

    fn try_from(cid: &Cid) -> Result<Self, PieceCidError> {
        Self::from_cid(cid)
    }
}

impl std::str::FromStr for PieceCid {
    type Err = PieceCidError;

    /// Parses a CID string in any multibase the `cid` crate reads.
    fn from_str(s: &str) -> Result<Self, PieceCidError> {
        let cid = Cid::try_from(s).map_err(|source| PieceCidError::NotACid { source })?;
        Self::from_cid(&cid)
    }
}

impl std::fmt::Display for PieceCid {
    /// The CID in its canonical text form (base32).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let cid = self.to_cid().map_err(|_| std::fmt::Error)?;
        write!(f, "{cid}")
    }
}

/// The v1 piece CID of a CommP root.
fn cid_v1(comm_p: &Node) -> Result<Cid, CommPError> {
    let mh = Multihash::<64>::wrap(SHA2_256_TRUNC254_PADDED, comm_p)
        .map_err(|e| CommPError::Multihash(e.to_string()))?;
    Ok(Cid::new_v1(FIL_COMMITMENT_UNSEALED, mh))
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

    fn mh_cid(codec: u64, code: u64, digest: &[u8]) -> Cid {
        Cid::new_v1(codec, Multihash::<64>::wrap(code, digest).unwrap())
    }

    /// A v2 digest: `varint || height || root`.
    fn v2_digest(varint: &[u8], height: u8, root: &Node) -> Vec<u8> {
        let mut d = varint.to_vec();
        d.push(height);
        d.extend_from_slice(root);
        d
    }

    #[test]
    fn piece_cids_round_trip() {
        let mut pieces: Vec<PieceCommitment> = [
            0usize, 1, 64, 126, 127, 128, 200, 254, 255, 508, 509, 1000, 2032, 2033, 5000,
        ]
        .iter()
        .map(|&len| commp(&vec![0x5a; len]).unwrap())
        .collect();
        // Every height, at its padding bounds (the roots need not be real).
        for height in MIN_HEIGHT..=MAX_HEIGHT {
            let padded_size = 32u64 << height;
            let unpadded = padded_size / 128 * 127;
            for padding in [0, 1, max_padding(height)] {
                pieces.push(PieceCommitment {
                    comm_p: [height; 32],
                    payload_size: unpadded - padding,
                    padded_size,
                });
            }
        }
        for c in pieces {
            let v1 = c.cid_v1().unwrap();
            let v2 = c.cid_v2().unwrap();
            assert_eq!(
                PieceCid::from_cid(&v1).unwrap(),
                PieceCid::V1 { comm_p: c.comm_p }
            );
            let parsed: PieceCid = v2.to_string().parse().unwrap();
            assert_eq!(parsed, PieceCid::V2 { commitment: c }, "{v2}");
            assert_eq!(padded_piece_size(c.payload_size), Some(c.padded_size));
            for (cid, p) in [(v1, PieceCid::from_cid(&v1).unwrap()), (v2, parsed)] {
                assert_eq!(p.to_cid().unwrap(), cid);
                assert_eq!(p.to_string(), cid.to_string());
                assert_eq!(p.comm_p(), c.comm_p);
            }
            assert_eq!(parsed.commitment(), Some(&c));
            assert_eq!(PieceCid::from_cid(&v1).unwrap().commitment(), None);
        }
    }

    /// Whether an error is the one a table row expects.
    type Hits = fn(&PieceCidError) -> bool;

    #[test]
    fn piece_cid_refusals() {
        use PieceCidError as E;
        let root = [7u8; 32];
        let mut high = root;
        high[31] = 0x40;
        let mut top = root;
        top[31] = 0x80;
        let v1 = |d: &[u8]| mh_cid(FIL_COMMITMENT_UNSEALED, SHA2_256_TRUNC254_PADDED, d);
        let v2 = |d: &[u8]| mh_cid(RAW, FR32_SHA256_TRUNC254_PADBINTREE, d);
        let sha256 = Multihash::<64>::wrap(0x12, &[1; 32]).unwrap();
        // (case, CID, whether the error is the one that case hits)
        let rows: Vec<(&str, Cid, Hits)> = vec![
            ("CIDv0", Cid::new_v0(sha256).unwrap(), |e| {
                matches!(e, E::CidV0)
            }),
            (
                "dag-pb codec",
                mh_cid(0x70, FR32_SHA256_TRUNC254_PADBINTREE, &root),
                |e| matches!(e, E::WrongCodec { codec: 0x70 }),
            ),
            (
                "v1 codec, v2 hash",
                mh_cid(
                    FIL_COMMITMENT_UNSEALED,
                    FR32_SHA256_TRUNC254_PADBINTREE,
                    &root,
                ),
                |e| {
                    matches!(
                        e,
                        E::WrongMultihash {
                            version: "v1",
                            found: 0x1011,
                            ..
                        }
                    )
                },
            ),
            ("raw codec, sha2-256", mh_cid(RAW, 0x12, &root), |e| {
                matches!(
                    e,
                    E::WrongMultihash {
                        version: "v2",
                        expected: 0x1011,
                        found: 0x12
                    }
                )
            }),
            (
                "raw codec, v1 hash",
                mh_cid(RAW, SHA2_256_TRUNC254_PADDED, &root),
                |e| matches!(e, E::WrongMultihash { version: "v2", .. }),
            ),
            ("v1 digest 31 bytes", v1(&[0; 31]), |e| {
                matches!(
                    e,
                    E::DigestLength {
                        version: "v1",
                        expected: 32,
                        found: 31
                    }
                )
            }),
            ("v1 digest 33 bytes", v1(&[0; 33]), |e| {
                matches!(e, E::DigestLength { found: 33, .. })
            }),
            ("v1 root bit 254 set", v1(&high), |e| {
                matches!(e, E::RootNotTruncated { last_byte: 0x40 })
            }),
            ("v1 root bit 255 set", v1(&top), |e| {
                matches!(e, E::RootNotTruncated { last_byte: 0x80 })
            }),
            (
                "v2 digest without varint",
                v2(&v2_digest(&[], 2, &root)),
                |e| {
                    matches!(
                        e,
                        E::DigestLength {
                            version: "v2",
                            expected: 34,
                            found: 33
                        }
                    )
                },
            ),
            (
                "v2 digest one byte too long",
                v2(&v2_digest(&[0, 0], 2, &root)),
                |e| {
                    matches!(
                        e,
                        E::DigestLength {
                            expected: 34,
                            found: 35,
                            ..
                        }
                    )
                },
            ),
            (
                "v2 varint 0 in two bytes",
                v2(&v2_digest(&[0x80, 0x00], 2, &root)),
                |e| matches!(e, E::NonCanonicalVarint),
            ),
            (
                "v2 varint 1 in two bytes",
                v2(&v2_digest(&[0x81, 0x00], 3, &root)),
                |e| matches!(e, E::NonCanonicalVarint),
            ),
            (
                "v2 varint of 10 bytes",
                v2(&v2_digest(
                    &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
                    3,
                    &root,
                )),
                |e| matches!(e, E::BadVarint),
            ),
            (
                "v2 varint of 9 bytes, 2^63-1",
                v2(&v2_digest(
                    &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f],
                    58,
                    &root,
                )),
                |e| {
                    matches!(
                        e,
                        E::PaddingTooLarge {
                            padding: 0x7fff_ffff_ffff_ffff,
                            height: 58,
                            ..
                        }
                    )
                },
            ),
            ("v2 varint runs into the root", v2(&[0xff; 40]), |e| {
                matches!(e, E::BadVarint)
            }),
            ("v2 height 0", v2(&v2_digest(&[0], 0, &root)), |e| {
                matches!(e, E::Height { height: 0 })
            }),
            ("v2 height 1", v2(&v2_digest(&[0], 1, &root)), |e| {
                matches!(e, E::Height { height: 1 })
            }),
            ("v2 height 59", v2(&v2_digest(&[0], 59, &root)), |e| {
                matches!(e, E::Height { height: 59 })
            }),
            ("v2 height 255", v2(&v2_digest(&[0], 255, &root)), |e| {
                matches!(e, E::Height { height: 255 })
            }),
            (
                "v2 height 2, padding 128",
                v2(&v2_digest(&[0x80, 0x01], 2, &root)),
                |e| {
                    matches!(
                        e,
                        E::PaddingTooLarge {
                            padding: 128,
                            height: 2,
                            max: 127
                        }
                    )
                },
            ),
            (
                "v2 height 3, padding 127: fits height 2",
                v2(&v2_digest(&[127], 3, &root)),
                |e| {
                    matches!(
                        e,
                        E::PaddingTooLarge {
                            padding: 127,
                            height: 3,
                            max: 126
                        }
                    )
                },
            ),
            (
                "v2 height 4, padding 254 (half)",
                v2(&v2_digest(&[0xfe, 0x01], 4, &root)),
                |e| {
                    matches!(
                        e,
                        E::PaddingTooLarge {
                            padding: 254,
                            max: 253,
                            ..
                        }
                    )
                },
            ),
            ("v2 root bit 255 set", v2(&v2_digest(&[0], 2, &top)), |e| {
                matches!(e, E::RootNotTruncated { last_byte: 0x80 })
            }),
        ];
        for (case, cid, hit) in rows {
            let e = PieceCid::from_cid(&cid).unwrap_err();
            assert!(hit(&e), "{case}: {e}");
            // The same through text, and the message names it.
            let e2 = cid.to_string().parse::<PieceCid>().unwrap_err();
            assert!(hit(&e2), "{case} (text): {e2}");
            assert!(!e.to_string().is_empty());
        }
        // Just inside each bound.
        for (digest, height, padding) in [
            (v2_digest(&[127], 2, &root), 2, 127),
            (v2_digest(&[126], 3, &root), 3, 126),
            (v2_digest(&[0xfd, 0x01], 4, &root), 4, 253),
        ] {
            let p = PieceCid::from_cid(&v2(&digest)).unwrap();
            let c = p.commitment().copied().unwrap();
            assert_eq!((c.height(), c.padding()), (height, padding));
        }
        for text in ["", "bafy", "not a cid", "zzzz", "baga6ea4seaq"] {
            assert!(
                matches!(text.parse::<PieceCid>(), Err(E::NotACid { .. })),
                "{text:?}"
            );
        }
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

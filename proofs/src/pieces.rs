//! Pieces in a sector: where each piece goes, the staged sector file, and
//! CommD.
//!
//! A sector holds pieces in order. Each piece occupies a whole subtree of the
//! sector's data tree (tree_d), so a piece of padded size `2^k` must start at
//! a multiple of `2^k`; the gap before it is filled with zeros ("alignment
//! padding"), exactly as rust-fil-proofs' `get_piece_alignment` and
//! `add_piece` do. Because each piece is a subtree, CommD follows from the
//! pieces' CommPs alone, without the data: [`comm_d`].
//!
//! One deliberate difference: for a piece list that does not fill the
//! sector, rust-fil-proofs' `compute_comm_d` returns the root of the smallest
//! tree holding the pieces, which is not the CommD of any sealed sector (its
//! own `seal_pre_commit_phase1` would then refuse the pieces). Lotus fills the
//! rest with zero pieces before asking. [`comm_d`] does that filling itself,
//! so it always returns the CommD the sealed sector will have; for piece
//! lists that fill the sector (the only ones Filecoin seals) the two agree.

use std::io::{self, Read, Write};

use crate::commp::{CommPHasher, Node, hash_nodes, padded_piece_size, zero_piece_comm};
use crate::fr32::{PADDED_CHUNK, UNPADDED_CHUNK, pad_chunk};

/// The smallest piece: 128 padded bytes (four leaves), 127 unpadded.
pub const MIN_PIECE_PADDED: u64 = 128;

/// Why pieces could not be placed or committed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PieceError {
    /// A padded piece size that is not a power of two of at least 128.
    #[error("piece size {padded} is not a power of two of at least 128 padded bytes")]
    BadPieceSize {
        /// The padded size given.
        padded: u64,
    },
    /// An unpadded piece length that is not 127 × 2^k (k ≥ 0).
    #[error("unpadded piece length {unpadded} is not 127 x 2^k")]
    BadUnpaddedLength {
        /// The unpadded length given.
        unpadded: u64,
    },
    /// A sector size that is not a power of two of at least 128.
    #[error("sector size {0} is not a power of two of at least 128 bytes")]
    BadSectorSize(u64),
    /// The pieces, with their alignment, do not fit the sector.
    #[error("pieces need {needed} padded bytes with alignment, the sector holds {sector}")]
    DoesNotFit {
        /// Padded bytes the pieces need, alignment included.
        needed: u64,
        /// Sector size.
        sector: u64,
    },
    /// The source ended before the declared payload length.
    #[error("piece source ended after {got} of {expected} bytes")]
    Truncated {
        /// Declared payload bytes.
        expected: u64,
        /// Bytes read before end of input.
        got: u64,
    },
    /// Reading the source or writing the staged file failed.
    #[error("staging piece: {0}")]
    Io(#[from] io::Error),
}

/// A piece as the sector sees it: its commitment and padded size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PieceInfo {
    /// CommP.
    pub comm_p: Node,
    /// Padded size: a power of two, at least 128.
    pub padded_size: u64,
}

impl PieceInfo {
    /// A piece, with its size checked.
    pub fn new(comm_p: Node, padded_size: u64) -> Result<Self, PieceError> {
        check_padded(padded_size)?;
        Ok(Self {
            comm_p,
            padded_size,
        })
    }

    /// Unpadded size: `padded_size / 128 * 127`.
    pub fn unpadded_size(&self) -> u64 {
        self.padded_size / 128 * 127
    }
}

fn check_padded(padded: u64) -> Result<(), PieceError> {
    if padded < MIN_PIECE_PADDED || !padded.is_power_of_two() {
        return Err(PieceError::BadPieceSize { padded });
    }
    Ok(())
}

fn unpadded_to_padded(unpadded: u64) -> Result<u64, PieceError> {
    let bad = PieceError::BadUnpaddedLength { unpadded };
    if unpadded == 0 || !unpadded.is_multiple_of(127) || !(unpadded / 127).is_power_of_two() {
        return Err(bad);
    }
    (unpadded / 127).checked_mul(128).ok_or(bad)
}

/// Zero bytes around a piece, in unpadded bytes, as rust-fil-proofs'
/// `PieceAlignment` has them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PieceAlignment {
    /// Zeros before the piece, so it starts on a multiple of its size.
    pub left: u64,
    /// Zeros after the payload, to the end of the piece.
    pub right: u64,
}

/// Where a piece of `piece_unpadded` payload bytes goes after
/// `written_unpadded` bytes already in the staged sector (rust-fil-proofs'
/// `get_piece_alignment`): the piece is rounded up to 127 × 2^k bytes and
/// starts on a multiple of that.
pub fn piece_alignment(written_unpadded: u64, piece_unpadded: u64) -> PieceAlignment {
    let mut needed = 127u64;
    while needed < piece_unpadded {
        needed = needed.saturating_mul(2);
    }
    let encroaching = written_unpadded % needed;
    let left = if encroaching > 0 {
        needed - encroaching
    } else {
        0
    };
    PieceAlignment {
        left,
        right: needed - piece_unpadded,
    }
}

/// Unpadded bytes the staged sector holds after `pieces` (unpadded lengths,
/// in order), alignment included (rust-fil-proofs'
/// `sum_piece_bytes_with_alignment`).
pub fn staged_len_unpadded(pieces: &[u64]) -> u64 {
    pieces.iter().fold(0u64, |acc, &p| {
        let a = piece_alignment(acc, p);
        acc + a.left + p + a.right
    })
}

/// A binary tree under construction from the left, one pending node per
/// level: subtrees are pushed at their level and at aligned offsets.
struct Accumulator {
    stack: Vec<Option<Node>>,
    /// Leaves covered so far.
    leaves: u64,
}

impl Accumulator {
    fn new() -> Self {
        Self {
            stack: Vec::new(),
            leaves: 0,
        }
    }

    fn push(&mut self, mut node: Node, mut level: usize) {
        self.leaves += 1u64 << level;
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
                None => return,
            }
        }
    }

    /// Zero subtrees until `leaves` is a multiple of `2^level`.
    fn align(&mut self, level: usize) {
        while !self.leaves.is_multiple_of(1u64 << level) {
            let l = self.leaves.trailing_zeros() as usize;
            self.push(zero_piece_comm(32u64 << l).unwrap_or([0; 32]), l);
        }
    }
}

/// CommD of a sector of `sector_size` padded bytes holding `pieces` in
/// order, with Filecoin's alignment padding between them and zeros after the
/// last (see the module docs). No pieces: the CommD of an all-zero sector.
pub fn comm_d(sector_size: u64, pieces: &[PieceInfo]) -> Result<Node, PieceError> {
    if sector_size < MIN_PIECE_PADDED || !sector_size.is_power_of_two() {
        return Err(PieceError::BadSectorSize(sector_size));
    }
    let sector_leaves = sector_size / 32;
    let mut acc = Accumulator::new();
    for p in pieces {
        check_padded(p.padded_size)?;
        let level = (p.padded_size / 32).trailing_zeros() as usize;
        acc.align(level);
        if acc.leaves + p.padded_size / 32 > sector_leaves {
            let needed = pieces.iter().fold(0u64, |off, q| {
                off.next_multiple_of(q.padded_size) + q.padded_size
            });
            return Err(PieceError::DoesNotFit {
                needed,
                sector: sector_size,
            });
        }
        acc.push(p.comm_p, level);
    }
    let top = sector_leaves.trailing_zeros() as usize;
    acc.align(top);
    Ok(acc
        .stack
        .get(top)
        .copied()
        .flatten()
        .or_else(|| zero_piece_comm(sector_size))
        .unwrap_or([0; 32]))
}

/// What [`add_piece`] wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddedPiece {
    /// The piece's commitment and padded size.
    pub info: PieceInfo,
    /// Payload bytes read from the source.
    pub payload: u64,
    /// Unpadded bytes appended to the staged sector: left alignment, the
    /// piece, and its zero fill.
    pub written_unpadded: u64,
}

/// Appends a piece to a staged (fr32-padded) sector file, as rust-fil-proofs'
/// `add_piece` does: left alignment zeros, then the fr32-padded piece.
///
/// `existing` lists the unpadded lengths of the pieces already staged, in
/// order (each 127 × 2^k, as returned in [`PieceInfo::unpadded_size`]);
/// `payload_len` bytes are read from `source` and zero-filled to the piece
/// size 127 × 2^k, so the CommP equals [`commp`](crate::commp::commp) of the
/// payload. Nothing is written if the piece would not fit `sector_size`.
/// Memory: one 64 KiB buffer.
pub fn add_piece(
    mut source: impl Read,
    mut staged: impl Write,
    sector_size: u64,
    existing: &[u64],
    payload_len: u64,
) -> Result<AddedPiece, PieceError> {
    if sector_size < MIN_PIECE_PADDED || !sector_size.is_power_of_two() {
        return Err(PieceError::BadSectorSize(sector_size));
    }
    for &e in existing {
        unpadded_to_padded(e)?;
    }
    let piece_padded = padded_piece_size(payload_len).ok_or(PieceError::DoesNotFit {
        needed: u64::MAX,
        sector: sector_size,
    })?;
    let piece_unpadded = piece_padded / 128 * 127;
    let written = staged_len_unpadded(existing);
    let align = piece_alignment(written, piece_unpadded);
    let end_unpadded = written + align.left + piece_unpadded;
    let sector_unpadded = sector_size / 128 * 127;
    if end_unpadded > sector_unpadded {
        return Err(PieceError::DoesNotFit {
            needed: end_unpadded / 127 * 128,
            sector: sector_size,
        });
    }

    // Left alignment: zeros pad to zeros, 128 padded per 127 unpadded.
    write_zeros(&mut staged, align.left / 127 * 128)?;

    const CHUNKS: usize = 512;
    let mut inbuf = vec![0u8; UNPADDED_CHUNK * CHUNKS];
    let mut outbuf = vec![0u8; PADDED_CHUNK * CHUNKS];
    let mut hasher = CommPHasher::new();
    let mut got = 0u64;
    let mut remaining_piece = piece_unpadded;
    while remaining_piece > 0 {
        let want = (inbuf.len() as u64).min(remaining_piece) as usize;
        let buf = inbuf.get_mut(..want).unwrap_or_default();
        // Fill from the source up to the payload length, zeros after it.
        let from_source = (payload_len - got).min(want as u64) as usize;
        let mut filled = 0;
        while filled < from_source {
            let dst = buf.get_mut(filled..from_source).unwrap_or_default();
            match source.read(dst) {
                Ok(0) => {
                    return Err(PieceError::Truncated {
                        expected: payload_len,
                        got: got + filled as u64,
                    });
                }
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e.into()),
            }
        }
        buf.iter_mut().skip(from_source).for_each(|b| *b = 0);
        got += from_source as u64;
        hasher.update(buf.get(..from_source).unwrap_or_default());
        // `want` is a multiple of 127: pieces are 127 × 2^k, buffers 127 × 512.
        let out = outbuf
            .get_mut(..want / UNPADDED_CHUNK * PADDED_CHUNK)
            .unwrap_or_default();
        for (src, dst) in buf
            .chunks_exact(UNPADDED_CHUNK)
            .zip(out.chunks_exact_mut(PADDED_CHUNK))
        {
            let mut chunk = [0u8; UNPADDED_CHUNK];
            chunk.copy_from_slice(src);
            dst.copy_from_slice(&pad_chunk(&chunk));
        }
        staged.write_all(out)?;
        remaining_piece -= want as u64;
    }
    staged.flush()?;
    let c = hasher.finish().map_err(|_| PieceError::BadUnpaddedLength {
        unpadded: payload_len,
    })?;
    Ok(AddedPiece {
        info: PieceInfo {
            comm_p: c.comm_p,
            padded_size: c.padded_size,
        },
        payload: payload_len,
        written_unpadded: align.left + piece_unpadded,
    })
}

/// Zero-fills a staged sector from `written_unpadded` bytes (as
/// [`staged_len_unpadded`] counts them) to its full size, so that it can be
/// sealed; returns the padded bytes written.
pub fn fill_staged_sector(
    mut staged: impl Write,
    sector_size: u64,
    written_unpadded: u64,
) -> Result<u64, PieceError> {
    if sector_size < MIN_PIECE_PADDED || !sector_size.is_power_of_two() {
        return Err(PieceError::BadSectorSize(sector_size));
    }
    if !written_unpadded.is_multiple_of(127) || written_unpadded / 127 * 128 > sector_size {
        return Err(PieceError::DoesNotFit {
            needed: written_unpadded.div_ceil(127) * 128,
            sector: sector_size,
        });
    }
    let n = sector_size - written_unpadded / 127 * 128;
    write_zeros(&mut staged, n)?;
    staged.flush()?;
    Ok(n)
}

fn write_zeros(w: &mut impl Write, mut n: u64) -> io::Result<()> {
    let zeros = [0u8; 8192];
    while n > 0 {
        let k = n.min(zeros.len() as u64) as usize;
        w.write_all(zeros.get(..k).unwrap_or_default())?;
        n -= k as u64;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commp::commp;

    /// CommD the slow way: the tree over the staged bytes.
    fn tree_root(staged: &[u8]) -> Node {
        let mut level: Vec<Node> = staged
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

    fn data(len: usize, salt: u8) -> Vec<u8> {
        (0..len)
            .map(|i| (i as u8).wrapping_mul(31) ^ salt)
            .collect()
    }

    #[test]
    fn alignment_matches_filecoin_rules() {
        // (written, piece) -> (left, right): the case each row hits.
        for (w, p, l, r) in [
            (0, 127, 0, 0),      // first minimum piece
            (0, 100, 0, 27),     // short piece rounded up to 127
            (127, 254, 127, 0),  // 254 must start on a multiple of 254
            (254, 254, 0, 0),    // already aligned
            (127, 127, 0, 0),    // minimum pieces pack tightly
            (381, 1016, 635, 0), // 1016-aligned start is 1016
            (0, 1017, 0, 1015),  // just over 1016 → 2032
        ] {
            assert_eq!(
                piece_alignment(w, p),
                PieceAlignment { left: l, right: r },
                "written {w}, piece {p}"
            );
        }
        assert_eq!(staged_len_unpadded(&[127, 254]), 508);
        assert_eq!(staged_len_unpadded(&[254, 127, 508]), 1016);
    }

    #[test]
    fn staged_sector_and_comm_d_agree_with_the_tree() {
        // Pieces that need alignment padding between them, then zeros.
        let sector = 4096u64;
        let payloads = [data(100, 1), data(300, 2), data(127, 3)];
        let mut staged = Vec::new();
        let mut lens = Vec::new();
        let mut infos = Vec::new();
        for p in &payloads {
            let added = add_piece(&p[..], &mut staged, sector, &lens, p.len() as u64).unwrap();
            assert_eq!(added.info.comm_p, commp(p).unwrap().comm_p);
            lens.push(added.info.unpadded_size());
            infos.push(added.info);
        }
        assert_eq!(staged.len() as u64, staged_len_unpadded(&lens) / 127 * 128);
        fill_staged_sector(&mut staged, sector, staged_len_unpadded(&lens)).unwrap();
        assert_eq!(staged.len() as u64, sector);
        // The second piece (512 padded) was pushed from 128 to 512.
        assert!(staged[128..512].iter().all(|&b| b == 0));
        assert_eq!(comm_d(sector, &infos).unwrap(), tree_root(&staged));
        // Reordering the pieces changes CommD.
        let swapped = [infos[1], infos[0], infos[2]];
        assert_ne!(comm_d(sector, &swapped).unwrap(), tree_root(&staged));
    }

    #[test]
    fn comm_d_of_nothing_is_the_zero_sector() {
        assert_eq!(comm_d(2048, &[]).unwrap(), zero_piece_comm(2048).unwrap());
        assert_eq!(comm_d(2048, &[]).unwrap(), tree_root(&[0; 2048]));
    }

    #[test]
    fn a_full_sector_piece_is_its_own_comm_d() {
        let p = data(2032, 9);
        let c = commp(&p).unwrap();
        let info = PieceInfo::new(c.comm_p, c.padded_size).unwrap();
        assert_eq!(comm_d(2048, &[info]).unwrap(), c.comm_p);
    }

    #[test]
    fn refusals_name_the_problem() {
        let p = PieceInfo {
            comm_p: [0; 32],
            padded_size: 1024,
        };
        assert!(matches!(
            comm_d(2048, &[p, p, p]),
            Err(PieceError::DoesNotFit { sector: 2048, .. })
        ));
        // 128 then 1024 needs 2048 with alignment; 128+1024+1024 does not fit.
        let small = PieceInfo {
            padded_size: 128,
            ..p
        };
        assert!(comm_d(2048, &[small, p]).is_ok());
        assert!(matches!(
            comm_d(2048, &[small, p, p]),
            Err(PieceError::DoesNotFit { needed: 3072, .. })
        ));
        assert!(matches!(
            comm_d(
                2048,
                &[PieceInfo {
                    padded_size: 96,
                    ..p
                }]
            ),
            Err(PieceError::BadPieceSize { padded: 96 })
        ));
        assert!(matches!(
            comm_d(3000, &[]),
            Err(PieceError::BadSectorSize(3000))
        ));

        let mut staged = Vec::new();
        let e = add_piece(&[1u8; 10][..], &mut staged, 2048, &[], 20).unwrap_err();
        assert!(matches!(
            e,
            PieceError::Truncated {
                expected: 20,
                got: 10
            }
        ));
        let e = add_piece(&[1u8; 10][..], &mut Vec::new(), 2048, &[1016, 1016], 10).unwrap_err();
        assert!(matches!(e, PieceError::DoesNotFit { .. }), "{e}");
        let e = add_piece(&[1u8; 10][..], &mut Vec::new(), 2048, &[100], 10).unwrap_err();
        assert!(matches!(e, PieceError::BadUnpaddedLength { unpadded: 100 }));
    }
}

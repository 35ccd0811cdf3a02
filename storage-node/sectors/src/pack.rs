//! Packing pieces into sectors.
//!
//! A sector of `S` padded bytes holds pieces whose padded sizes are powers
//! of two; each piece must start at a multiple of its own size (it is a
//! subtree of the sector's data tree), and the rest is zeros. Laid out in
//! decreasing size, powers of two need no alignment gap at all: every
//! piece's offset is a sum of larger powers of two, hence a multiple of its
//! size. So the packer only counts bytes, and a sector's pieces are handed
//! out largest first, which is the order the staged sector file must use.
//!
//! Pieces arrive as deals are published. Each goes to the open sector it
//! fills best (the least free space that still fits it), else to a new
//! one. A sector is closed for sealing when it is full, when its first
//! piece has waited `max_wait` epochs, or when the earliest start epoch of
//! its deals is within `lead` epochs (the time sealing needs before the
//! ledger's deadline for activating the deal). A piece whose deal starts
//! too soon to be sealed at all is refused with that reason, so the
//! operator sees it instead of a deal cancelled later.

use std::collections::BTreeMap;

/// A piece of a published deal, waiting for a sector.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Piece {
    /// The ledger's deal id.
    pub deal: u64,
    /// The piece commitment.
    pub comm_p: [u8; 32],
    /// Padded size: a power of two of at least 128 bytes.
    pub padded: u64,
    /// The epoch by which the sector holding it must be proven.
    pub start_epoch: u64,
    /// The deal's end: the sector must live until then.
    pub end_epoch: u64,
}

/// Packing settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Sector size in padded bytes (a power of two).
    pub sector_size: u64,
    /// Epochs a partly filled sector waits for more pieces.
    pub max_wait: u64,
    /// Epochs sealing and proving a sector takes, with a margin: a sector
    /// is closed when a deal in it starts within this many epochs.
    pub lead: u64,
}

/// Why a sector was closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseReason {
    /// No free space left.
    Full,
    /// Its first piece waited `max_wait` epochs.
    Waited,
    /// A deal in it starts within `lead` epochs.
    DealStart,
}

/// A sector ready to seal: its pieces, largest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Closed {
    /// The sector's number (assigned in opening order from `first_sector`).
    pub sector: u64,
    /// Its pieces in the order they are staged.
    pub pieces: Vec<Piece>,
    /// Padded bytes of pieces (the rest is zeros).
    pub used: u64,
    /// Why now.
    pub reason: CloseReason,
}

/// Why a piece was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PackError {
    /// Its size is not a power of two of at least 128, or exceeds the sector.
    #[error(
        "deal {deal}: a piece of {padded} padded bytes does not fit {sector_size}-byte sectors"
    )]
    BadSize {
        /// The deal.
        deal: u64,
        /// Its padded size.
        padded: u64,
        /// The sector size.
        sector_size: u64,
    },
    /// Its deal starts before a sector could be sealed and proven.
    #[error(
        "deal {deal} starts at epoch {start_epoch}; sealing takes {lead} epochs from epoch {now}, so it cannot be proven in time"
    )]
    TooLate {
        /// The deal.
        deal: u64,
        /// Its start.
        start_epoch: u64,
        /// The current epoch.
        now: u64,
        /// The sealing lead time.
        lead: u64,
    },
    /// The same deal was offered twice.
    #[error("deal {0} is already packed")]
    Duplicate(u64),
}

#[derive(Debug, Clone)]
struct Open {
    pieces: Vec<Piece>,
    used: u64,
    opened: u64,
}

/// Open sectors and the pieces in them.
#[derive(Debug, Clone)]
pub struct Packer {
    policy: Policy,
    next_sector: u64,
    open: BTreeMap<u64, Open>,
}

impl Packer {
    /// A packer whose first new sector is numbered `first_sector`.
    pub fn new(policy: Policy, first_sector: u64) -> Self {
        Self {
            policy,
            next_sector: first_sector,
            open: BTreeMap::new(),
        }
    }

    /// Puts back an open sector from the journal after a restart: its
    /// pieces and the epoch it opened. Later new sectors are numbered
    /// after it.
    pub fn reopen(&mut self, number: u64, pieces: Vec<Piece>, opened: u64) {
        let used = pieces.iter().map(|p| p.padded).sum();
        self.next_sector = self.next_sector.max(number + 1);
        self.open.insert(
            number,
            Open {
                pieces,
                used,
                opened,
            },
        );
    }

    /// Whether `deal` sits in an open sector.
    pub fn holds(&self, deal: u64) -> bool {
        self.open
            .values()
            .any(|o| o.pieces.iter().any(|p| p.deal == deal))
    }

    /// The epoch an open sector started taking pieces.
    pub fn opened(&self, number: u64) -> Option<u64> {
        self.open.get(&number).map(|o| o.opened)
    }

    /// The open sectors: number, padded bytes used, pieces.
    pub fn open_sectors(&self) -> impl Iterator<Item = (u64, u64, &[Piece])> {
        self.open
            .iter()
            .map(|(n, o)| (*n, o.used, o.pieces.as_slice()))
    }

    /// Adds `piece` at epoch `now`; returns the sector it went to and, if
    /// that filled it, the closed sector.
    pub fn add(&mut self, piece: Piece, now: u64) -> Result<(u64, Option<Closed>), PackError> {
        let s = self.policy.sector_size;
        if piece.padded < 128 || !piece.padded.is_power_of_two() || piece.padded > s {
            return Err(PackError::BadSize {
                deal: piece.deal,
                padded: piece.padded,
                sector_size: s,
            });
        }
        if piece.start_epoch < now.saturating_add(self.policy.lead) {
            return Err(PackError::TooLate {
                deal: piece.deal,
                start_epoch: piece.start_epoch,
                now,
                lead: self.policy.lead,
            });
        }
        if self.holds(piece.deal) {
            return Err(PackError::Duplicate(piece.deal));
        }
        // Best fit: the open sector with the least free space that holds it.
        let target = self
            .open
            .iter()
            .filter(|(_, o)| s - o.used >= piece.padded)
            .min_by_key(|(n, o)| (s - o.used, **n))
            .map(|(n, _)| *n);
        let number = match target {
            Some(n) => n,
            None => {
                let n = self.next_sector;
                self.next_sector += 1;
                self.open.insert(
                    n,
                    Open {
                        pieces: Vec::new(),
                        used: 0,
                        opened: now,
                    },
                );
                n
            }
        };
        let full = match self.open.get_mut(&number) {
            Some(o) => {
                o.used += piece.padded;
                o.pieces.push(piece);
                o.used == s
            }
            None => false,
        };
        let closed = if full {
            self.close(number, CloseReason::Full)
        } else {
            None
        };
        Ok((number, closed))
    }

    /// Closes the sectors that waited long enough or hold a deal starting
    /// soon, as of epoch `now`.
    pub fn tick(&mut self, now: u64) -> Vec<Closed> {
        let due: Vec<(u64, CloseReason)> = self
            .open
            .iter()
            .filter_map(|(n, o)| {
                let earliest = o.pieces.iter().map(|p| p.start_epoch).min()?;
                if earliest <= now.saturating_add(self.policy.lead) {
                    Some((*n, CloseReason::DealStart))
                } else if now >= o.opened.saturating_add(self.policy.max_wait) {
                    Some((*n, CloseReason::Waited))
                } else {
                    None
                }
            })
            .collect();
        due.into_iter()
            .filter_map(|(n, why)| self.close(n, why))
            .collect()
    }

    fn close(&mut self, number: u64, reason: CloseReason) -> Option<Closed> {
        let mut o = self.open.remove(&number)?;
        // Largest first: no alignment gaps (see the module docs).
        o.pieces
            .sort_by(|a, b| b.padded.cmp(&a.padded).then(a.deal.cmp(&b.deal)));
        Some(Closed {
            sector: number,
            pieces: o.pieces,
            used: o.used,
            reason,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const KIB: u64 = 1024;

    fn policy() -> Policy {
        Policy {
            sector_size: 8 * KIB,
            max_wait: 100,
            lead: 50,
        }
    }

    fn piece(deal: u64, padded: u64) -> Piece {
        Piece {
            deal,
            comm_p: [deal as u8; 32],
            padded,
            start_epoch: 1_000,
            end_epoch: 5_000,
        }
    }

    #[test]
    fn fills_best_fit_and_closes_full_sectors_largest_first() {
        let mut p = Packer::new(policy(), 7);
        assert_eq!(p.add(piece(1, 2 * KIB), 0).unwrap(), (7, None));
        assert_eq!(p.add(piece(2, 4 * KIB), 0).unwrap(), (7, None));
        // 2 KiB free in sector 7; a 4 KiB piece opens sector 8.
        assert_eq!(p.add(piece(3, 4 * KIB), 0).unwrap(), (8, None));
        // 1 KiB goes where it fits tightest: sector 7 (2 KiB free), not 8 (4 KiB free).
        assert_eq!(p.add(piece(4, KIB), 0).unwrap(), (7, None));
        let (n, closed) = p.add(piece(5, KIB), 0).unwrap();
        assert_eq!(n, 7);
        let Some(closed) = closed else {
            panic!("sector 7 is full")
        };
        assert_eq!(closed.reason, CloseReason::Full);
        assert_eq!(closed.used, 8 * KIB);
        let order: Vec<u64> = closed.pieces.iter().map(|x| x.deal).collect();
        assert_eq!(order, vec![2, 1, 4, 5], "largest first, then by deal");
        assert_eq!(p.open_sectors().count(), 1);
    }

    #[test]
    fn partly_filled_sectors_close_after_the_wait_or_before_a_deal_starts() {
        let mut p = Packer::new(policy(), 0);
        p.add(piece(1, KIB), 10).unwrap();
        assert!(p.tick(109).is_empty());
        let closed = p.tick(110);
        assert_eq!(closed.len(), 1);
        assert_eq!(closed[0].reason, CloseReason::Waited);

        let mut soon = piece(2, KIB);
        soon.start_epoch = 200;
        p.add(soon, 120).unwrap();
        assert!(p.tick(149).is_empty());
        let closed = p.tick(150);
        assert_eq!(closed[0].reason, CloseReason::DealStart);
    }

    #[test]
    fn refuses_what_cannot_be_sealed_and_says_why() {
        let mut p = Packer::new(policy(), 0);
        for bad in [0, 100, 3 * KIB, 16 * KIB] {
            assert!(matches!(
                p.add(piece(1, bad), 0),
                Err(PackError::BadSize { .. })
            ));
        }
        let mut late = piece(2, KIB);
        late.start_epoch = 40;
        let e = p.add(late, 0).unwrap_err();
        assert!(e.to_string().contains("cannot be proven in time"), "{e}");
        p.add(piece(3, KIB), 0).unwrap();
        assert_eq!(p.add(piece(3, KIB), 0), Err(PackError::Duplicate(3)));
        assert_eq!(p.open_sectors().count(), 1, "nothing half-added");
    }

    proptest! {
        /// Whatever arrives, every piece lands in exactly one sector, no
        /// sector overflows, and each closed sector's pieces, laid out in
        /// the order given, start at multiples of their own size.
        #[test]
        fn every_piece_once_aligned_never_overflowing(
            sizes in proptest::collection::vec(7u32..=13, 1..60),
        ) {
            let mut p = Packer::new(policy(), 0);
            let mut closed = Vec::new();
            for (i, k) in sizes.iter().enumerate() {
                let (_, c) = p.add(piece(i as u64, 1u64 << k), 0).unwrap();
                closed.extend(c);
            }
            closed.extend(p.tick(10_000));
            let mut seen: Vec<u64> = closed.iter().flat_map(|c| c.pieces.iter().map(|x| x.deal)).collect();
            seen.sort_unstable();
            prop_assert_eq!(seen, (0..sizes.len() as u64).collect::<Vec<_>>());
            for c in &closed {
                let mut offset = 0;
                for x in &c.pieces {
                    prop_assert_eq!(offset % x.padded, 0);
                    offset += x.padded;
                }
                prop_assert_eq!(offset, c.used);
                prop_assert!(c.used <= 8 * KIB);
            }
        }
    }

    #[test]
    fn a_reopened_sector_keeps_filling_and_numbering_goes_on_after_it() {
        let mut p = Packer::new(policy(), 1);
        p.reopen(4, vec![piece(1, 4 * KIB)], 10);
        assert!(p.holds(1));
        assert_eq!(p.opened(4), Some(10));
        assert_eq!(p.add(piece(1, KIB), 12), Err(PackError::Duplicate(1)));
        assert_eq!(p.add(piece(2, 2 * KIB), 12).unwrap(), (4, None));
        // 2 KiB left in sector 4: a 4 KiB piece opens sector 5, not 1.
        assert_eq!(p.add(piece(3, 4 * KIB), 12).unwrap(), (5, None));
    }
}

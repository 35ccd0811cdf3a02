//! The epoch tick: what happens when epoch `e` begins, in this order.
//!
//! 1. The randomness beacon value for `e` is recorded (given by the
//!    caller: the consensus shell takes it from a threshold signature no
//!    proposer can choose; see docs/ledger.md).
//! 2. The block reward for epoch `e - 1` is split by proven power.
//! 3. If a deadline window closed at `e`, each due sector not proven in it
//!    is marked faulty, charged the fault fee, and its deals' stretch is
//!    returned to the client unpaid; a sector faulty
//!    `max_consecutive_faults` windows in a row is terminated. Sectors
//!    whose expiration passed expire.
//! 4. Published deals whose start epoch is `e` or earlier and that were
//!    not activated are cancelled (provider collateral burnt).
//! 5. Pre-commits not proven within `max_prove_commit_wait` expire
//!    (deposit burnt).
//! 6. Randomness too old for any pending use is pruned.

use crate::event::Event;
use crate::ids::{Amount, DealId, Epoch, ProviderId, SectorNumber};
use crate::state::{DealState, SectorStatus, State};

/// Why a tick was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TickError {
    /// Ticks must come one epoch at a time.
    #[error("tick for epoch {got}, expected {expected}")]
    NotNext {
        /// The next epoch.
        expected: Epoch,
        /// Given.
        got: Epoch,
    },
}

impl State {
    /// Begins `epoch` (which must be the current epoch + 1) with the
    /// beacon's `randomness`.
    pub fn tick(&mut self, epoch: Epoch, randomness: [u8; 32]) -> Result<Vec<Event>, TickError> {
        let expected = self.epoch.plus(1);
        if epoch != expected {
            return Err(TickError::NotNext {
                expected,
                got: epoch,
            });
        }
        let mut events = Vec::new();
        self.epoch = epoch;
        self.randomness.insert(epoch, randomness);
        self.pay_rewards(Epoch(epoch.0 - 1), &mut events);
        if epoch.0.is_multiple_of(self.params.deadline_window.max(1))
            && epoch.0 >= self.params.deadline_window
        {
            self.close_window(Epoch(epoch.0 - self.params.deadline_window), &mut events);
        }
        self.cancel_unstarted(epoch, &mut events);
        self.expire_precommits(epoch, &mut events);
        let keep = self
            .params
            .max_ticket_age
            .saturating_add(self.params.max_prove_commit_wait)
            .saturating_add(self.params.period())
            .saturating_add(1);
        let oldest = Epoch(epoch.0.saturating_sub(keep));
        self.randomness = self.randomness.split_off(&oldest);
        Ok(events)
    }

    /// Proven power per provider: the sector size of each active sector.
    pub fn power(&self) -> Vec<(ProviderId, u128)> {
        let mut out: Vec<(ProviderId, u128)> = Vec::new();
        for ((p, _), s) in &self.sectors {
            if s.status != SectorStatus::Active {
                continue;
            }
            let size = self
                .providers
                .get(p)
                .map_or(0, |x| u128::from(x.seal_proof.sector_size()));
            match out.last_mut() {
                Some((q, w)) if q == p => *w = w.saturating_add(size),
                _ => out.push((*p, size)),
            }
        }
        out
    }

    fn pay_rewards(&mut self, epoch: Epoch, events: &mut Vec<Event>) {
        let reward = self.params.reward_per_epoch.min(self.reward_pool);
        let power = self.power();
        let total: u128 = power.iter().map(|(_, w)| *w).sum();
        if reward == 0 || total == 0 {
            return;
        }
        for (p, w) in power {
            // reward × w / total without overflow: reward and w are both
            // far below 2^64 in any sane genesis; checked anyway.
            let share = reward
                .checked_mul(w)
                .map_or(0, |x| x / total)
                .min(self.reward_pool);
            let Some(owner) = self.providers.get(&p).map(|x| x.owner) else {
                continue;
            };
            if share == 0 {
                continue;
            }
            self.reward_pool -= share;
            self.credit(owner, share);
            events.push(Event::Reward {
                provider: p,
                epoch,
                amount: share,
            });
        }
    }

    fn close_window(&mut self, open: Epoch, events: &mut Vec<Event>) {
        let (deadline, _) = self.deadline_at(open);
        let close = open.plus(self.params.deadline_window);
        let due: Vec<(ProviderId, SectorNumber)> = self
            .sectors
            .iter()
            .filter(|(_, s)| s.deadline == deadline && s.due(open, &self.params))
            .map(|(k, _)| *k)
            .collect();
        for key @ (provider, sector) in due {
            let Some(s) = self.sectors.get(&key) else {
                continue;
            };
            let deals = s.deals.clone();
            if s.last_proven != Some(open) {
                let collateral = self.providers.get(&provider).map_or(0, |p| p.collateral);
                let fee: Amount = self.params.fault_fee.min(collateral);
                if let Some(p) = self.providers.get_mut(&provider) {
                    p.collateral -= fee;
                }
                self.burnt = self.burnt.saturating_add(fee);
                let mut faults = 0;
                if let Some(s) = self.sectors.get_mut(&key) {
                    s.status = SectorStatus::Faulty;
                    s.faults = s.faults.saturating_add(1);
                    faults = s.faults;
                }
                events.push(Event::SectorFaulty {
                    provider,
                    sector,
                    fee,
                    faults,
                });
                for &d in &deals {
                    self.settle(d, close, false, events);
                }
                if faults >= self.params.max_consecutive_faults {
                    if let Some(s) = self.sectors.get_mut(&key) {
                        s.status = SectorStatus::Terminated;
                    }
                    events.push(Event::SectorTerminated { provider, sector });
                    for &d in &deals {
                        self.end_deal(d, DealState::Terminated, events);
                    }
                    continue;
                }
            }
            // The first window to close at or after expiration is the
            // last: every deal (deal ends never pass the sector's
            // expiration) has settled to its end.
            if self
                .sectors
                .get(&key)
                .is_some_and(|s| s.expiration <= close)
            {
                self.expire_sector(key, events);
            }
        }
        // A live sector that can never be due again (activated after its
        // last window) expires too; its deals' unproven tail is returned.
        let period = self.params.period();
        let stale: Vec<(ProviderId, SectorNumber)> = self
            .sectors
            .iter()
            .filter(|(_, s)| s.is_live() && s.expiration.plus(period) <= close)
            .map(|(k, _)| *k)
            .collect();
        for key in stale {
            self.expire_sector(key, events);
        }
    }

    fn expire_sector(&mut self, key: (ProviderId, SectorNumber), events: &mut Vec<Event>) {
        let (provider, sector) = key;
        let Some(s) = self.sectors.get_mut(&key) else {
            return;
        };
        s.status = SectorStatus::Expired;
        let deals = s.deals.clone();
        for d in deals {
            let end = self.deals.get(&d).map_or(Epoch(0), |x| x.proposal.end);
            self.settle(d, end, false, events);
        }
        events.push(Event::SectorExpired { provider, sector });
    }

    fn cancel_unstarted(&mut self, epoch: Epoch, events: &mut Vec<Event>) {
        let due: Vec<(Epoch, DealId)> = self
            .pending_starts
            .range(..=(epoch, DealId(u64::MAX)))
            .copied()
            .collect();
        for key @ (_, d) in due {
            self.pending_starts.remove(&key);
            if self
                .deals
                .get(&d)
                .is_some_and(|x| x.state == DealState::Published)
            {
                self.end_deal(d, DealState::Cancelled, events);
            }
        }
    }

    fn expire_precommits(&mut self, epoch: Epoch, events: &mut Vec<Event>) {
        let wait = self.params.max_prove_commit_wait;
        let expired: Vec<(ProviderId, SectorNumber)> = self
            .precommits
            .iter()
            .filter(|(_, pc)| pc.epoch.plus(wait) < epoch)
            .map(|(k, _)| *k)
            .collect();
        for key @ (provider, sector) in expired {
            let Some(pc) = self.precommits.remove(&key) else {
                continue;
            };
            if let Some(p) = self.providers.get_mut(&provider) {
                p.deposits = p.deposits.saturating_sub(pc.deposit);
            }
            self.burnt = self.burnt.saturating_add(pc.deposit);
            for d in &pc.deals {
                if let Some(deal) = self.deals.get_mut(d)
                    && deal.sector == Some(sector)
                    && deal.state == DealState::Published
                {
                    deal.sector = None;
                }
            }
            events.push(Event::PreCommitExpired {
                provider,
                sector,
                burnt: pc.deposit,
            });
        }
    }
}

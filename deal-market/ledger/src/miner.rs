//! Sectors: PreCommit, the interactive seed, ProveCommit, WindowPoSt and
//! declared recoveries (Filecoin's miner actor, simplified), and the deal
//! settlement they drive.
//!
//! Message flow for one sector: `PreCommitSector` (CommR, deals, ticket
//! epoch, deposit) → wait [`crate::genesis::Params::seed_wait`] epochs; the
//! seed is the ledger randomness of epoch `precommit + seed_wait` →
//! `ProveCommitSector` (the ledger recomputes CommD from the deals' pieces
//! and verifies the PoRep) → the sector is assigned a deadline and proven
//! by `SubmitWindowPost` in that deadline's window every proving period.
//!
//! A verified WindowPoSt pays each proven sector's deals for every epoch
//! up to the window's close. Nothing else pays a deal.

use std::collections::BTreeSet;

use cairn_proofs::challenges::PostRandomness;
use cairn_proofs::pieces::{self, PieceInfo};
use cairn_proofs::porep::PorepPublic;
use cairn_proofs::post::PublicSector;
use cairn_proofs::sdr::{ProverId, SectorId, Ticket};

use crate::event::{Event, Refusal};
use crate::ids::{Amount, CommR, DealId, Epoch, ProviderId, PublicKey, SectorNumber};
use crate::state::{DealState, PreCommit, Sector, SectorStatus, State};
use crate::tx::{MAX_DEALS_PER_SECTOR, MAX_SECTORS_PER_TX};
use crate::verifier::ProofVerifier;

impl State {
    /// CommD of `deals` in order in a sector of `sector_size`, or `None`
    /// if they do not fit.
    fn comm_d_of(&self, sector_size: u64, deals: &[DealId]) -> Option<[u8; 32]> {
        let mut infos = Vec::with_capacity(deals.len());
        for d in deals {
            let p = &self.deals.get(d)?.proposal;
            infos.push(PieceInfo::new(p.piece.0, p.piece_size).ok()?);
        }
        pieces::comm_d(sector_size, &infos).ok()
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) fn handle_precommit(
        &mut self,
        signer: &PublicKey,
        provider: ProviderId,
        sector: SectorNumber,
        deals: &[DealId],
        comm_r: CommR,
        ticket_epoch: Epoch,
        expiration: Epoch,
        deposit: Amount,
    ) -> Result<Vec<Event>, Refusal> {
        let now = self.epoch;
        let prov = self.worked_provider(signer, provider)?;
        if self.sectors.contains_key(&(provider, sector))
            || self.precommits.contains_key(&(provider, sector))
        {
            return Err(Refusal::SectorExists { sector });
        }
        if deals.len() > MAX_DEALS_PER_SECTOR {
            return Err(Refusal::Count {
                what: "sector deals",
                got: deals.len(),
                max: MAX_DEALS_PER_SECTOR,
            });
        }
        if !comm_r.is_valid() {
            return Err(Refusal::SectorState {
                sector,
                why: "CommR is not a field element",
            });
        }
        let min_ticket = Epoch(now.0.saturating_sub(self.params.max_ticket_age));
        if ticket_epoch >= now || ticket_epoch < min_ticket {
            return Err(Refusal::EpochOutOfRange {
                what: "ticket epoch",
                got: ticket_epoch,
                min: min_ticket,
                max: Epoch(now.0.saturating_sub(1)),
            });
        }
        if !self.randomness.contains_key(&ticket_epoch) {
            return Err(Refusal::NoRandomness {
                epoch: ticket_epoch,
            });
        }
        let mut seen = BTreeSet::new();
        let mut last_end = now;
        for &d in deals {
            let deal = self.deals.get(&d).ok_or(Refusal::UnknownDeal { deal: d })?;
            let why = if !seen.insert(d) {
                Some("listed twice")
            } else if deal.proposal.provider != provider {
                Some("belongs to another provider")
            } else if deal.state != DealState::Published {
                Some("is not waiting for a sector")
            } else if deal.sector.is_some() {
                Some("is already in a sector")
            } else if deal.proposal.start <= now {
                Some("has already started")
            } else {
                None
            };
            if let Some(why) = why {
                return Err(Refusal::DealUnavailable { deal: d, why });
            }
            last_end = last_end.max(deal.proposal.end);
        }
        let sector_size = prov.seal_proof.sector_size();
        if self.comm_d_of(sector_size, deals).is_none() {
            return Err(Refusal::PiecesDoNotFit { sector_size });
        }
        let max_exp = now.plus(
            self.params
                .max_deal_duration
                .saturating_add(self.params.max_deal_start_delay)
                .saturating_add(self.params.max_prove_commit_wait),
        );
        if expiration < last_end || expiration <= now || expiration > max_exp {
            return Err(Refusal::EpochOutOfRange {
                what: "expiration",
                got: expiration,
                min: last_end.max(now.plus(1)),
                max: max_exp,
            });
        }
        if deposit < self.params.min_precommit_deposit {
            return Err(Refusal::BadAmount { amount: deposit });
        }
        if prov.collateral < deposit {
            return Err(Refusal::InsufficientCollateral {
                provider,
                need: deposit,
                have: prov.collateral,
            });
        }

        if let Some(p) = self.providers.get_mut(&provider) {
            p.collateral -= deposit;
            p.deposits = p.deposits.saturating_add(deposit);
        }
        for d in deals {
            if let Some(deal) = self.deals.get_mut(d) {
                deal.sector = Some(sector);
            }
        }
        self.precommits.insert(
            (provider, sector),
            PreCommit {
                comm_r,
                deals: deals.to_vec(),
                ticket_epoch,
                expiration,
                deposit,
                epoch: now,
            },
        );
        Ok(vec![Event::SectorPreCommitted {
            provider,
            sector,
            seed_epoch: now.plus(self.params.seed_wait),
        }])
    }

    pub(crate) fn handle_prove_commit(
        &mut self,
        signer: &PublicKey,
        provider: ProviderId,
        sector: SectorNumber,
        proof: &[u8],
        verifier: &dyn ProofVerifier,
    ) -> Result<Vec<Event>, Refusal> {
        let now = self.epoch;
        let prov = self.worked_provider(signer, provider)?;
        let pc = self
            .precommits
            .get(&(provider, sector))
            .ok_or(Refusal::UnknownSector { sector })?;
        let seed_epoch = pc.epoch.plus(self.params.seed_wait);
        let last = pc.epoch.plus(self.params.max_prove_commit_wait);
        if now < seed_epoch || now > last {
            return Err(Refusal::EpochOutOfRange {
                what: "prove-commit",
                got: now,
                min: seed_epoch,
                max: last,
            });
        }
        for &d in &pc.deals {
            let ok = self
                .deals
                .get(&d)
                .is_some_and(|x| x.state == DealState::Published && x.proposal.start > now);
            if !ok {
                return Err(Refusal::DealUnavailable {
                    deal: d,
                    why: "was cancelled or has started",
                });
            }
        }
        let sector_size = prov.seal_proof.sector_size();
        let comm_d = self
            .comm_d_of(sector_size, &pc.deals)
            .ok_or(Refusal::PiecesDoNotFit { sector_size })?;
        let ticket = self
            .randomness(pc.ticket_epoch)
            .ok_or(Refusal::NoRandomness {
                epoch: pc.ticket_epoch,
            })?;
        let seed = self
            .randomness(seed_epoch)
            .ok_or(Refusal::NoRandomness { epoch: seed_epoch })?;
        let public = PorepPublic {
            proof: prov.seal_proof,
            prover_id: ProverId(provider.prover_id()),
            sector_id: SectorId(sector.0),
            ticket: Ticket(ticket),
            seed,
            comm_d,
            comm_r: pc.comm_r.0,
        };
        verifier
            .verify_porep(prov.seal_proof, &public, proof)
            .map_err(|e| Refusal::PorepInvalid {
                reason: e.to_string(),
            })?;

        let deadlines = self.params.deadlines_per_period.max(1);
        let Some(pc) = self.precommits.remove(&(provider, sector)) else {
            return Err(Refusal::UnknownSector { sector });
        };
        let mut deadline = 0;
        if let Some(p) = self.providers.get_mut(&provider) {
            p.deposits = p.deposits.saturating_sub(pc.deposit);
            p.collateral = p.collateral.saturating_add(pc.deposit);
            deadline = p.next_deadline % deadlines;
            p.next_deadline = (deadline + 1) % deadlines;
        }
        let mut events = vec![Event::SectorActivated {
            provider,
            sector,
            deadline,
        }];
        for d in &pc.deals {
            if let Some(deal) = self.deals.get_mut(d) {
                deal.state = DealState::Active;
                self.pending_starts.remove(&(deal.proposal.start, *d));
                events.push(Event::DealActivated { deal: *d });
            }
        }
        self.sectors.insert(
            (provider, sector),
            Sector {
                comm_r: pc.comm_r,
                deals: pc.deals,
                activation: now,
                expiration: pc.expiration,
                deadline,
                status: SectorStatus::Active,
                faults: 0,
                last_proven: None,
            },
        );
        Ok(events)
    }

    /// The sectors (in number order, with their CommR) that a WindowPoSt
    /// for `deadline`'s window opening at `open` must prove: due, and not
    /// faulty unless declared recovering.
    pub fn sectors_to_prove(
        &self,
        provider: ProviderId,
        deadline: u64,
        open: Epoch,
    ) -> Vec<(SectorNumber, CommR)> {
        self.sectors
            .range((provider, SectorNumber(0))..=(provider, SectorNumber(u64::MAX)))
            .filter(|(_, s)| {
                s.deadline == deadline
                    && s.due(open, &self.params)
                    && matches!(s.status, SectorStatus::Active | SectorStatus::Recovering)
            })
            .map(|((_, n), s)| (*n, s.comm_r))
            .collect()
    }

    pub(crate) fn handle_window_post(
        &mut self,
        signer: &PublicKey,
        provider: ProviderId,
        deadline: u64,
        proof: &[u8],
        verifier: &dyn ProofVerifier,
    ) -> Result<Vec<Event>, Refusal> {
        let prov = self.worked_provider(signer, provider)?;
        let (open_index, open) = self.deadline_at(self.epoch);
        if deadline != open_index {
            return Err(Refusal::DeadlineNotOpen {
                deadline,
                open: open_index,
            });
        }
        if prov.proven.get(&deadline) == Some(&open) {
            return Err(Refusal::AlreadyProven { deadline });
        }
        let sectors = self.sectors_to_prove(provider, deadline, open);
        if sectors.is_empty() {
            return Err(Refusal::NothingToProve { deadline });
        }
        let randomness = self
            .randomness(open)
            .ok_or(Refusal::NoRandomness { epoch: open })?;
        let public: Vec<PublicSector> = sectors
            .iter()
            .map(|(n, c)| PublicSector {
                sector_id: SectorId(n.0),
                comm_r: c.0,
            })
            .collect();
        verifier
            .verify_window_post(
                prov.seal_proof.window_post(),
                &PostRandomness::from_chain(randomness),
                &public,
                proof,
            )
            .map_err(|e| Refusal::PostInvalid {
                reason: e.to_string(),
            })?;

        let close = open.plus(self.params.deadline_window);
        if let Some(p) = self.providers.get_mut(&provider) {
            p.proven.insert(deadline, open);
        }
        let mut events = vec![Event::WindowPostAccepted {
            provider,
            deadline,
            sectors: sectors.len() as u64,
        }];
        for (n, _) in &sectors {
            let mut deals = Vec::new();
            if let Some(s) = self.sectors.get_mut(&(provider, *n)) {
                s.status = SectorStatus::Active;
                s.faults = 0;
                s.last_proven = Some(open);
                deals = s.deals.clone();
            }
            for d in deals {
                self.settle(d, close, true, &mut events);
            }
        }
        Ok(events)
    }

    pub(crate) fn handle_faults(
        &mut self,
        signer: &PublicKey,
        provider: ProviderId,
        sectors: &[SectorNumber],
    ) -> Result<Vec<Event>, Refusal> {
        self.restatus(
            signer,
            provider,
            sectors,
            |s| matches!(s, SectorStatus::Active | SectorStatus::Recovering),
            "is not active or recovering (or is listed twice)",
            SectorStatus::Faulty,
            |provider, sector| Event::SectorFaultDeclared { provider, sector },
        )
    }

    pub(crate) fn handle_recovery(
        &mut self,
        signer: &PublicKey,
        provider: ProviderId,
        sectors: &[SectorNumber],
    ) -> Result<Vec<Event>, Refusal> {
        self.restatus(
            signer,
            provider,
            sectors,
            |s| s == SectorStatus::Faulty,
            "is not faulty (or is listed twice)",
            SectorStatus::Recovering,
            |provider, sector| Event::SectorRecovering { provider, sector },
        )
    }

    /// The worker's declarations about its sectors (faults, recoveries):
    /// every listed sector must exist, be listed once and be in a status
    /// `from` accepts, or nothing changes; then each moves `to`.
    #[allow(clippy::too_many_arguments)]
    fn restatus(
        &mut self,
        signer: &PublicKey,
        provider: ProviderId,
        sectors: &[SectorNumber],
        from: impl Fn(SectorStatus) -> bool,
        why: &'static str,
        to: SectorStatus,
        event: impl Fn(ProviderId, SectorNumber) -> Event,
    ) -> Result<Vec<Event>, Refusal> {
        self.worked_provider(signer, provider)?;
        if sectors.is_empty() || sectors.len() > MAX_SECTORS_PER_TX {
            return Err(Refusal::Count {
                what: "sectors",
                got: sectors.len(),
                max: MAX_SECTORS_PER_TX,
            });
        }
        let mut seen = BTreeSet::new();
        for &n in sectors {
            let s = self
                .sectors
                .get(&(provider, n))
                .ok_or(Refusal::UnknownSector { sector: n })?;
            if !from(s.status) || !seen.insert(n) {
                return Err(Refusal::SectorState { sector: n, why });
            }
        }
        let mut events = Vec::with_capacity(sectors.len());
        for &n in sectors {
            if let Some(s) = self.sectors.get_mut(&(provider, n)) {
                s.status = to;
                events.push(event(provider, n));
            }
        }
        Ok(events)
    }

    /// Settles a live deal up to `until` (clipped to its end): its client's
    /// locked payment for the stretch goes to the provider owner's escrow
    /// if `pay`, back to the client's free escrow if not. A deal settled to
    /// its end expires: both collaterals unlock.
    pub(crate) fn settle(&mut self, id: DealId, until: Epoch, pay: bool, events: &mut Vec<Event>) {
        let Some(deal) = self.deals.get(&id) else {
            return;
        };
        if deal.state != DealState::Active {
            return;
        }
        let p = deal.proposal.clone();
        let from = deal.settled.max(p.start);
        let to = until.min(p.end);
        let Some(owner) = self.providers.get(&p.provider).map(|x| x.owner) else {
            return;
        };
        if to > from {
            let amount = p
                .price_per_epoch
                .saturating_mul(Amount::from(to.0 - from.0));
            let c = self.escrow_mut(p.client);
            c.locked = c.locked.saturating_sub(amount);
            if pay {
                let o = self.escrow_mut(owner);
                o.free = o.free.saturating_add(amount);
                events.push(Event::DealPaid {
                    deal: id,
                    amount,
                    until: to,
                });
            } else {
                c.free = c.free.saturating_add(amount);
                events.push(Event::DealSkipped {
                    deal: id,
                    returned: amount,
                    until: to,
                });
            }
            if let Some(deal) = self.deals.get_mut(&id) {
                deal.settled = to;
                if pay {
                    deal.paid = deal.paid.saturating_add(amount);
                }
            }
        }
        if to >= p.end {
            let c = self.escrow_mut(p.client);
            c.locked = c.locked.saturating_sub(p.client_collateral);
            c.free = c.free.saturating_add(p.client_collateral);
            let o = self.escrow_mut(owner);
            o.locked = o.locked.saturating_sub(p.provider_collateral);
            o.free = o.free.saturating_add(p.provider_collateral);
            if let Some(deal) = self.deals.get_mut(&id) {
                deal.state = DealState::Expired;
                deal.settled = p.end;
            }
            events.push(Event::DealExpired { deal: id });
        }
    }

    /// Ends a live deal early. `Terminated`: the client gets its unsettled
    /// payment, its collateral and the provider's collateral.
    /// `Cancelled`: the client gets its payment and collateral back; the
    /// provider's collateral is burnt.
    pub(crate) fn end_deal(&mut self, id: DealId, outcome: DealState, events: &mut Vec<Event>) {
        let Some(deal) = self.deals.get(&id) else {
            return;
        };
        if !deal.is_live() {
            return;
        }
        let p = deal.proposal.clone();
        let left = p.end.0.saturating_sub(deal.settled.max(p.start).0);
        let refund = p
            .price_per_epoch
            .saturating_mul(Amount::from(left))
            .saturating_add(p.client_collateral);
        let Some(owner) = self.providers.get(&p.provider).map(|x| x.owner) else {
            return;
        };
        let o = self.escrow_mut(owner);
        o.locked = o.locked.saturating_sub(p.provider_collateral);
        let to_client = if outcome == DealState::Terminated {
            events.push(Event::DealTerminated {
                deal: id,
                compensation: p.provider_collateral,
            });
            refund.saturating_add(p.provider_collateral)
        } else {
            self.burnt = self.burnt.saturating_add(p.provider_collateral);
            events.push(Event::DealCancelled {
                deal: id,
                slashed: p.provider_collateral,
            });
            refund
        };
        let c = self.escrow_mut(p.client);
        c.locked = c.locked.saturating_sub(refund);
        c.free = c.free.saturating_add(to_client);
        self.pending_starts.remove(&(p.start, id));
        if let Some(deal) = self.deals.get_mut(&id) {
            deal.state = outcome;
        }
    }
}

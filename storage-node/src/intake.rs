//! Deal intake: the provider's side of `/cairn/deal/1`.
//!
//! Synchronous: the host hands it one decoded request at a time (from a
//! blocking worker) with the node's current view of the ledger, and gets
//! the answer to send. It checks proposals against the node's terms,
//! writes pushed bytes through the [`PieceStore`], keeps each transfer's
//! running CommP, and countersigns only a piece whose bytes commit to the
//! proposal's CommP at the proposal's size.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use cairn_ledger::codec::Encode as _;
use cairn_ledger::tx::PROVIDER_DEAL_DOMAIN;
use cairn_ledger::{Amount, CommP, Epoch, ProviderId};
use cairn_proofs::commp::{CommPHasher, hash_nodes, zero_piece_comm};
use cairn_types::keys::Keypair;
use cairn_types::{Ask, ClientDeal, DealRefusal, DealRequest, DealResponse, ProposalId};

use crate::store::{PieceStore, ProposalRecord, ProposalState, StoreError};

/// Transfers record their durable length at least this often.
const SYNC_EVERY: u64 = 16 << 20;

/// What the provider sells, from its config.
#[derive(Debug, Clone)]
pub struct Terms {
    /// Lowest price per padded byte per epoch.
    pub price_per_byte_epoch: Amount,
    /// Its sector size: the largest piece.
    pub sector_size: u64,
    /// Padded bytes of deals it takes in all.
    pub capacity: u64,
    /// Epochs between a proposal and its start (the sealing allowance).
    pub start_delay: u64,
    /// The furthest ahead a deal may start (the ledger's own limit is a
    /// genesis parameter; a proposal beyond it could never be published).
    pub max_start_delay: u64,
    /// Shortest deal, in epochs.
    pub min_duration: u64,
    /// Longest deal, in epochs.
    pub max_duration: u64,
    /// Transfers in flight at once.
    pub max_transfers: usize,
}

/// What the node knows of the ledger right now.
#[derive(Debug, Clone, Copy, Default)]
pub struct LedgerView {
    /// Its provider id, once registered.
    pub provider: Option<ProviderId>,
    /// The ledger's current epoch.
    pub epoch: u64,
    /// The owner's unlocked market escrow: deals' provider collateral is
    /// locked from it at publication.
    pub free_collateral: Amount,
}

struct Transfer {
    hasher: CommPHasher,
    received: u64,
    durable: u64,
    /// When it last received bytes (idle transfers give up their slot).
    touched: Instant,
}

/// The intake state.
pub struct Intake {
    store: Arc<PieceStore>,
    worker: Keypair,
    terms: Terms,
    transfers: HashMap<ProposalId, Transfer>,
}

impl std::fmt::Debug for Intake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Intake")
            .field("terms", &self.terms)
            .field("transfers", &self.transfers.len())
            .finish_non_exhaustive()
    }
}

/// The CommP of a payload committed by `hasher`, zero-padded to `size`
/// padded bytes (a power of two), or `None` if the payload does not fit.
pub fn commp_at_size(hasher: CommPHasher, size: u64) -> Option<CommP> {
    let c = hasher.finish().ok()?;
    let mut node = c.comm_p;
    let mut padded = c.padded_size;
    if padded > size {
        return None;
    }
    while padded < size {
        node = hash_nodes(&node, &zero_piece_comm(padded)?);
        padded = padded.checked_mul(2)?;
    }
    Some(CommP(node))
}

impl Intake {
    /// Intake over `store`, countersigning with `worker`.
    pub fn new(store: Arc<PieceStore>, worker: Keypair, terms: Terms) -> Self {
        Self {
            store,
            worker,
            terms,
            transfers: HashMap::new(),
        }
    }

    /// The store (for retrieval and the ledger follower).
    pub fn store(&self) -> &PieceStore {
        &self.store
    }

    /// The terms.
    pub fn terms(&self) -> &Terms {
        &self.terms
    }

    /// Padded bytes reserved by live proposals, and provider collateral
    /// promised in proposals the ledger has not published yet.
    fn commitments(&self) -> Result<(u64, Amount), StoreError> {
        let mut space = 0u64;
        let mut collateral: Amount = 0;
        for (_, r) in self.store.records()? {
            if r.state.holds_space() {
                space = space.saturating_add(r.deal.proposal.piece_size);
            }
            if matches!(r.state, ProposalState::Transferring | ProposalState::Signed) {
                collateral = collateral.saturating_add(r.deal.proposal.provider_collateral);
            }
        }
        Ok((space, collateral))
    }

    /// Answers one request.
    pub fn handle(&mut self, req: DealRequest, view: &LedgerView) -> DealResponse {
        let r = match req {
            DealRequest::Ask => self.ask(view),
            DealRequest::Propose(d) => self.propose(d, view),
            DealRequest::Push { deal, offset, data } => self.push(deal, offset, &data),
            DealRequest::Status { deal } => self.status(deal),
            DealRequest::Finish { deal } => self.finish(deal),
            _ => Ok(Err(DealRefusal::Internal("unknown request".into()))),
        };
        match r {
            Ok(Ok(resp)) => resp,
            Ok(Err(refusal)) => DealResponse::Refused(refusal),
            Err(e) => {
                tracing::error!("deal intake: {e}");
                DealResponse::Refused(DealRefusal::Internal(e.to_string()))
            }
        }
    }

    fn ask(&self, view: &LedgerView) -> Result<Result<DealResponse, DealRefusal>, StoreError> {
        let Some(provider) = view.provider else {
            return Ok(Err(DealRefusal::Internal(
                "not registered on the ledger yet".into(),
            )));
        };
        let (space, _) = self.commitments()?;
        Ok(Ok(DealResponse::Ask(Ask {
            provider,
            price_per_byte_epoch: self.terms.price_per_byte_epoch,
            sector_size: self.terms.sector_size,
            free_bytes: self.terms.capacity.saturating_sub(space),
            epoch: Epoch(view.epoch),
            start_delay: self.terms.start_delay,
        })))
    }

    /// The first rule `d` breaks, if any.
    fn check(&self, d: &ClientDeal, view: &LedgerView) -> Result<Option<DealRefusal>, StoreError> {
        let p = &d.proposal;
        let t = &self.terms;
        let Some(ours) = view.provider else {
            return Ok(Some(DealRefusal::Internal(
                "not registered on the ledger yet".into(),
            )));
        };
        if p.provider != ours {
            return Ok(Some(DealRefusal::WrongProvider {
                ours,
                named: p.provider,
            }));
        }
        if !d.client_signature_valid() {
            return Ok(Some(DealRefusal::BadSignature));
        }
        if !p.piece_size.is_power_of_two() || p.piece_size < 128 || p.piece_size > t.sector_size {
            return Ok(Some(DealRefusal::BadPieceSize {
                size: p.piece_size,
                sector_size: t.sector_size,
            }));
        }
        let ask = t
            .price_per_byte_epoch
            .saturating_mul(Amount::from(p.piece_size));
        if p.price_per_epoch < ask {
            return Ok(Some(DealRefusal::PriceBelowAsk {
                ask,
                offered: p.price_per_epoch,
            }));
        }
        let duration = p.duration();
        if p.end <= p.start || duration < t.min_duration || duration > t.max_duration {
            return Ok(Some(DealRefusal::BadDuration {
                duration,
                min: t.min_duration,
                max: t.max_duration,
            }));
        }
        // The ledger publishes only deals that start after the current epoch.
        let earliest = Epoch(view.epoch.saturating_add(t.start_delay.max(1)));
        if p.start < earliest {
            return Ok(Some(DealRefusal::StartTooSoon {
                earliest,
                start: p.start,
            }));
        }
        let latest = Epoch(view.epoch.saturating_add(t.max_start_delay));
        if p.start > latest {
            return Ok(Some(DealRefusal::StartTooLate {
                latest,
                start: p.start,
            }));
        }
        let (space, promised) = self.commitments()?;
        let free = t.capacity.saturating_sub(space);
        if p.piece_size > free {
            return Ok(Some(DealRefusal::NoCapacity {
                free,
                needed: p.piece_size,
            }));
        }
        let free_collateral = view.free_collateral.saturating_sub(promised);
        if p.provider_collateral > free_collateral {
            return Ok(Some(DealRefusal::CollateralUnavailable {
                free: free_collateral,
                needed: p.provider_collateral,
            }));
        }
        if self.transfers.len() >= t.max_transfers {
            return Ok(Some(DealRefusal::Busy));
        }
        Ok(None)
    }

    /// Forgets proposals the ledger can no longer publish (their start
    /// epoch has come without a publication): their bytes, space and
    /// promised collateral are released. Transfers idle for `idle` give up
    /// their slot (their bytes stay; a new push resumes them). Returns how
    /// many proposals lapsed.
    pub fn expire(
        &mut self,
        epoch: u64,
        now: Instant,
        idle: Duration,
    ) -> Result<usize, StoreError> {
        self.transfers
            .retain(|_, t| now.saturating_duration_since(t.touched) < idle);
        let mut lapsed = 0;
        for (id, mut rec) in self.store.records()? {
            let open = matches!(
                rec.state,
                ProposalState::Transferring | ProposalState::Signed
            );
            if !open || rec.deal.proposal.start.0 > epoch {
                continue;
            }
            lapsed += 1;
            self.transfers.remove(&id);
            if rec.state == ProposalState::Transferring {
                self.store.drop_transfer(&id)?;
            } else {
                rec.state = ProposalState::Lapsed;
                self.store.put_record(&rec)?;
                self.store.release_piece(&rec.deal.proposal.piece)?;
            }
            tracing::info!(proposal = %id, start = rec.deal.proposal.start.0, "proposal lapsed: not published before its start");
        }
        Ok(lapsed)
    }

    fn propose(
        &mut self,
        d: ClientDeal,
        view: &LedgerView,
    ) -> Result<Result<DealResponse, DealRefusal>, StoreError> {
        let id = d.id();
        if let Some(rec) = self.store.record(&id)? {
            // The same signed proposal again: resume, or refuse a replay.
            return Ok(match rec.state {
                ProposalState::Transferring => Ok(DealResponse::Accepted {
                    deal: id,
                    received: self.received(&id, &rec)?,
                }),
                _ => Err(DealRefusal::Replayed(id)),
            });
        }
        if let Some(refusal) = self.check(&d, view)? {
            return Ok(Err(refusal));
        }
        let rec = ProposalRecord {
            deal: d,
            state: ProposalState::Transferring,
            received: 0,
            provider_sig: None,
        };
        self.store.create_incoming(&id)?;
        self.store.put_record(&rec)?;
        self.transfers.insert(
            id,
            Transfer {
                hasher: CommPHasher::new(),
                received: 0,
                durable: 0,
                touched: Instant::now(),
            },
        );
        Ok(Ok(DealResponse::Accepted {
            deal: id,
            received: 0,
        }))
    }

    /// Bytes held for a transfer, loading it after a restart (its CommP
    /// rebuilt from the durable prefix).
    fn received(&mut self, id: &ProposalId, rec: &ProposalRecord) -> Result<u64, StoreError> {
        if let Some(t) = self.transfers.get(id) {
            return Ok(t.received);
        }
        let mut hasher = CommPHasher::new();
        let n = self.store.read_incoming(id, |b| hasher.update(b))?;
        debug_assert_eq!(n, rec.received);
        self.transfers.insert(
            *id,
            Transfer {
                hasher,
                received: n,
                durable: n,
                touched: Instant::now(),
            },
        );
        Ok(n)
    }

    fn transferring(
        &mut self,
        id: ProposalId,
    ) -> Result<Result<ProposalRecord, DealRefusal>, StoreError> {
        Ok(match self.store.record(&id)? {
            None => Err(DealRefusal::UnknownDeal(id)),
            Some(rec) if rec.state != ProposalState::Transferring => Err(DealRefusal::Replayed(id)),
            Some(rec) => {
                self.received(&id, &rec)?;
                Ok(rec)
            }
        })
    }

    fn push(
        &mut self,
        id: ProposalId,
        offset: u64,
        data: &[u8],
    ) -> Result<Result<DealResponse, DealRefusal>, StoreError> {
        let mut rec = match self.transferring(id)? {
            Ok(r) => r,
            Err(e) => return Ok(Err(e)),
        };
        let capacity = rec.deal.proposal.piece_size / 128 * 127;
        let Some(t) = self.transfers.get_mut(&id) else {
            return Ok(Err(DealRefusal::UnknownDeal(id)));
        };
        if offset != t.received {
            return Ok(Err(DealRefusal::WrongOffset {
                expected: t.received,
                got: offset,
            }));
        }
        let end = offset.saturating_add(data.len() as u64);
        if end > capacity {
            return Ok(Err(DealRefusal::TooMuchData { capacity, got: end }));
        }
        self.store.append(&id, offset, data)?;
        t.hasher.update(data);
        t.received = end;
        t.touched = Instant::now();
        if t.received - t.durable >= SYNC_EVERY {
            self.store.sync_incoming(&id)?;
            t.durable = t.received;
            rec.received = t.received;
            self.store.put_record(&rec)?;
        }
        Ok(Ok(DealResponse::Received {
            deal: id,
            received: end,
        }))
    }

    fn status(&mut self, id: ProposalId) -> Result<Result<DealResponse, DealRefusal>, StoreError> {
        match self.store.record(&id)? {
            None => Ok(Err(DealRefusal::UnknownDeal(id))),
            Some(ProposalRecord {
                provider_sig: Some(sig),
                ..
            }) => Ok(Ok(DealResponse::Signed {
                deal: id,
                provider_sig: sig,
            })),
            Some(rec) => Ok(Ok(DealResponse::Received {
                deal: id,
                received: self.received(&id, &rec)?,
            })),
        }
    }

    fn finish(&mut self, id: ProposalId) -> Result<Result<DealResponse, DealRefusal>, StoreError> {
        if let Some(ProposalRecord {
            provider_sig: Some(sig),
            ..
        }) = self.store.record(&id)?
        {
            // Asked again (the answer was lost): the same signature.
            return Ok(Ok(DealResponse::Signed {
                deal: id,
                provider_sig: sig,
            }));
        }
        let mut rec = match self.transferring(id)? {
            Ok(r) => r,
            Err(e) => return Ok(Err(e)),
        };
        let Some(t) = self.transfers.remove(&id) else {
            return Ok(Err(DealRefusal::UnknownDeal(id)));
        };
        let p = &rec.deal.proposal;
        let actual = commp_at_size(t.hasher, p.piece_size);
        if actual != Some(p.piece) {
            // The bytes are not the piece: forget them; the client may
            // propose again and resend.
            self.store.drop_transfer(&id)?;
            return Ok(Err(DealRefusal::PieceMismatch {
                expected: p.piece,
                actual: actual.unwrap_or(CommP([0; 32])),
            }));
        }
        let sig = self.worker.sign(PROVIDER_DEAL_DOMAIN, &p.to_bytes());
        rec.received = t.received;
        rec.state = ProposalState::Signed;
        rec.provider_sig = Some(sig);
        self.store.commit_piece(&rec)?;
        tracing::info!(
            proposal = %id,
            piece = %rec.deal.proposal.piece,
            bytes = rec.received,
            "piece received and countersigned"
        );
        Ok(Ok(DealResponse::Signed {
            deal: id,
            provider_sig: sig,
        }))
    }
}

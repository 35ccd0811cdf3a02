//! PublishStorageDeals: Filecoin's market actor rules for a deal, one page
//! of them.
//!
//! A deal is published only with both signatures (the client's key, which
//! must hash to the client address, and the provider's worker key), and
//! only if the client's unlocked escrow covers `price_per_epoch ×
//! duration + client_collateral` and the provider owner's covers
//! `provider_collateral`; those amounts are locked at once. A proposal can
//! be published once: its hash is remembered forever, so a signed deal
//! cannot be replayed to lock the client's funds a second time.

use std::collections::{BTreeMap, BTreeSet};

use sha2::{Digest, Sha256};

use crate::codec::Encode;
use crate::event::{Event, Refusal, Side};
use crate::ids::{Address, Amount, CommP, DealId, ManifestId};
use crate::state::{Deal, DealState, State};
use crate::tx::{
    CLIENT_DEAL_DOMAIN, MAX_DEALS_PER_TX, MAX_LABEL, Manifest, PROVIDER_DEAL_DOMAIN, SignedDeal,
};

/// The hash under which a proposal is remembered.
pub fn proposal_hash(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

impl State {
    pub(crate) fn handle_publish(
        &mut self,
        deals: &[SignedDeal],
        manifest: Option<&Manifest>,
    ) -> Result<Vec<Event>, Refusal> {
        if deals.is_empty() || deals.len() > MAX_DEALS_PER_TX {
            return Err(Refusal::Count {
                what: "deals",
                got: deals.len(),
                max: MAX_DEALS_PER_TX,
            });
        }
        let now = self.epoch;
        let mut need: BTreeMap<Address, Amount> = BTreeMap::new();
        let mut hashes = BTreeSet::new();
        let mut owners = Vec::with_capacity(deals.len());
        for (index, sd) in deals.iter().enumerate() {
            let p = &sd.proposal;
            let terms = |rule| Refusal::DealTerms { index, rule };
            let provider = self
                .providers
                .get(&p.provider)
                .ok_or(Refusal::UnknownProvider {
                    provider: p.provider,
                })?;
            let bytes = p.to_bytes();
            if sd.client_key.address() != p.client
                || !sd
                    .client_key
                    .verify(CLIENT_DEAL_DOMAIN, &bytes, &sd.client_sig)
            {
                return Err(Refusal::DealSignature {
                    index,
                    side: Side::Client,
                });
            }
            if !provider
                .worker
                .verify(PROVIDER_DEAL_DOMAIN, &bytes, &sd.provider_sig)
            {
                return Err(Refusal::DealSignature {
                    index,
                    side: Side::Provider,
                });
            }
            let h = proposal_hash(&bytes);
            if self.by_proposal.contains_key(&h) || !hashes.insert(h) {
                return Err(terms("this proposal was already published"));
            }
            if !p.piece.is_valid() {
                return Err(terms("the piece commitment is not a field element"));
            }
            if p.piece_size < 128 || !p.piece_size.is_power_of_two() {
                return Err(terms("the padded piece size is not a power of two ≥ 128"));
            }
            if p.piece_size > provider.seal_proof.sector_size() {
                return Err(terms("the piece is larger than the provider's sectors"));
            }
            if p.label.len() > MAX_LABEL {
                return Err(terms("the label is longer than 256 bytes"));
            }
            if p.start <= now {
                return Err(terms("the start epoch is not in the future"));
            }
            if p.start.0 - now.0 > self.params.max_deal_start_delay {
                return Err(terms("the start epoch is too far in the future"));
            }
            if p.end <= p.start
                || p.duration() < self.params.min_deal_duration
                || p.duration() > self.params.max_deal_duration
            {
                return Err(terms("the duration is out of bounds"));
            }
            let ask = provider
                .price_per_byte_epoch
                .checked_mul(Amount::from(p.piece_size))
                .ok_or(terms("the price overflows"))?;
            if p.price_per_epoch < ask {
                return Err(terms("the price is below the provider's ask"));
            }
            let client_need = p
                .total_price()
                .and_then(|t| t.checked_add(p.client_collateral))
                .ok_or(terms("the client's total overflows"))?;
            for (who, amount) in [
                (p.client, client_need),
                (provider.owner, p.provider_collateral),
            ] {
                let e = need.entry(who).or_default();
                *e = e.checked_add(amount).ok_or(terms("the totals overflow"))?;
            }
            owners.push(provider.owner);
        }
        for (who, amount) in &need {
            let have = self.free_escrow_of(who);
            if have < *amount {
                return Err(Refusal::InsufficientEscrow {
                    who: *who,
                    need: *amount,
                    have,
                });
            }
        }
        if let Some(m) = manifest {
            check_manifest(m, deals)?;
        }

        // All checks passed: lock and record.
        for (who, amount) in need {
            let e = self.escrow_mut(who);
            e.free = e.free.saturating_sub(amount);
            e.locked = e.locked.saturating_add(amount);
        }
        let mut events = Vec::with_capacity(deals.len() + 1);
        for sd in deals {
            let p = &sd.proposal;
            let id = DealId(self.next_deal);
            self.next_deal = self.next_deal.saturating_add(1);
            self.by_proposal.insert(proposal_hash(&p.to_bytes()), id);
            self.by_label.entry(p.label.clone()).or_default().insert(id);
            self.by_client.entry(p.client).or_default().insert(id);
            self.by_provider.entry(p.provider).or_default().insert(id);
            self.pending_starts.insert((p.start, id));
            self.deals.insert(
                id,
                Deal {
                    proposal: p.clone(),
                    state: DealState::Published,
                    sector: None,
                    settled: p.start,
                    paid: 0,
                },
            );
            events.push(Event::DealPublished {
                deal: id,
                client: p.client,
                provider: p.provider,
            });
        }
        if let Some(m) = manifest {
            let id = ManifestId(self.next_manifest);
            self.next_manifest = self.next_manifest.saturating_add(1);
            self.by_root.entry(m.root.clone()).or_default().insert(id);
            self.manifests.insert(id, m.clone());
            events.push(Event::ManifestPublished { manifest: id });
        }
        Ok(events)
    }
}

fn check_manifest(m: &Manifest, deals: &[SignedDeal]) -> Result<(), Refusal> {
    let bad = |rule| Err(Refusal::BadManifest { rule });
    if m.root.is_empty() {
        return bad("empty root CID");
    }
    if m.k == 0 {
        return bad("k is 0");
    }
    if m.shards.len() != usize::from(m.k) + usize::from(m.m) {
        return bad("not k + m shards");
    }
    if m.segment_size == 0 {
        return bad("segment size is 0");
    }
    let pieces: BTreeSet<CommP> = deals.iter().map(|d| d.proposal.piece).collect();
    if m.shards.iter().flatten().any(|p| !pieces.contains(p)) {
        return bad("a shard piece is not one of the transaction's deals");
    }
    if m.shards.iter().any(|s| s.is_empty()) {
        return bad("a shard has no piece");
    }
    Ok(())
}

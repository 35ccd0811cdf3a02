//! The ledger's state: every map is a `BTreeMap`, so iteration order, and
//! with it every payment loop and the state root, is the same on every
//! validator.
//!
//! The state root is SHA-256 over the canonical encoding of the primary
//! maps in key order. The indexes (deals by label, client and provider;
//! manifests by root CID; pending deal starts) are functions of the
//! primary maps, so they are left out of the root.

use std::collections::{BTreeMap, BTreeSet};

use cairn_proofs::sector::SealProof;
use sha2::{Digest, Sha256};

use crate::codec::Writer;
use crate::genesis::{Genesis, GenesisError, Params, PinnedKeys};
use crate::ids::{
    Address, Amount, CommR, DealId, Epoch, ManifestId, ProviderId, PublicKey, SectorNumber,
};
use crate::tx::{DealProposal, Manifest, seal_proof_tag};

/// An account's spendable tokens and next nonce.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Account {
    /// Spendable.
    pub balance: Amount,
    /// The nonce its next transaction must carry.
    pub nonce: u64,
}

/// Market escrow: `free` can be withdrawn or locked; `locked` backs deals.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Escrow {
    /// Unlocked.
    pub free: Amount,
    /// Backing published and active deals.
    pub locked: Amount,
}

/// A registered storage provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provider {
    /// Receives rewards and deal payments; moves collateral.
    pub owner: Address,
    /// Signs deals and sector messages.
    pub worker: PublicKey,
    /// libp2p peer id.
    pub peer_id: Vec<u8>,
    /// Where to dial it.
    pub multiaddrs: Vec<String>,
    /// Its sector size.
    pub seal_proof: SealProof,
    /// Lowest price per padded byte per epoch.
    pub price_per_byte_epoch: Amount,
    /// Padded bytes of deals it offers to hold (advertised).
    pub capacity: u64,
    /// Free collateral: pays fault fees and pre-commit deposits.
    pub collateral: Amount,
    /// Pre-commit deposits held.
    pub deposits: Amount,
    /// The deadline the next activated sector is assigned to.
    pub next_deadline: u64,
    /// Per deadline index, the opening epoch of the last window proven.
    pub proven: BTreeMap<u64, Epoch>,
}

/// Where a deal is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DealState {
    /// Funds locked, waiting for its sector's PoRep.
    Published,
    /// In a proven sector; paid at each proven deadline.
    Active,
    /// Ran to its end.
    Expired,
    /// Its sector was terminated; the client was compensated.
    Terminated,
    /// Not activated by its start; the provider's collateral burnt.
    Cancelled,
}

/// A published deal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deal {
    /// The agreed terms.
    pub proposal: DealProposal,
    /// Its state.
    pub state: DealState,
    /// The sector it is pre-committed or active in.
    pub sector: Option<SectorNumber>,
    /// Epochs before this are settled (paid or skipped).
    pub settled: Epoch,
    /// Total paid to the provider.
    pub paid: Amount,
}

impl Deal {
    /// Whether its funds are still locked.
    pub fn is_live(&self) -> bool {
        matches!(self.state, DealState::Published | DealState::Active)
    }
}

/// A sector committed but not yet proven.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreCommit {
    /// The sealed replica's commitment.
    pub comm_r: CommR,
    /// Its deals, in piece order.
    pub deals: Vec<DealId>,
    /// The ticket's epoch.
    pub ticket_epoch: Epoch,
    /// When it stops being proven.
    pub expiration: Epoch,
    /// Held until ProveCommit.
    pub deposit: Amount,
    /// When it was pre-committed.
    pub epoch: Epoch,
}

/// A sector's health.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SectorStatus {
    /// Proven at its last deadline (or not yet due).
    Active,
    /// Missed its last deadline.
    Faulty,
    /// Faulty, declared to be proven at its next deadline.
    Recovering,
    /// Faulty too long; never pays again.
    Terminated,
    /// Reached its expiration.
    Expired,
}

/// A proven sector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sector {
    /// The replica commitment.
    pub comm_r: CommR,
    /// Its deals.
    pub deals: Vec<DealId>,
    /// When its PoRep verified.
    pub activation: Epoch,
    /// When it stops being proven.
    pub expiration: Epoch,
    /// Its deadline index.
    pub deadline: u64,
    /// Health.
    pub status: SectorStatus,
    /// Consecutive deadlines missed.
    pub faults: u64,
    /// Opening epoch of the last window in which it was proven.
    pub last_proven: Option<Epoch>,
}

impl Sector {
    /// Whether it is live (not terminated or expired).
    pub fn is_live(&self) -> bool {
        matches!(
            self.status,
            SectorStatus::Active | SectorStatus::Faulty | SectorStatus::Recovering
        )
    }

    /// Whether it must be proven in its deadline's window opening at
    /// `open`: it was active before the window opened, and the previous
    /// window of its deadline closed before its expiration (so the last
    /// window it proves is the first to close at or after expiration, and
    /// every epoch of its deals is covered by some window).
    pub fn due(&self, open: Epoch, params: &Params) -> bool {
        self.is_live()
            && self.activation < open
            && open.0.saturating_add(params.deadline_window)
                < self.expiration.0.saturating_add(params.period())
    }
}

/// The whole ledger state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct State {
    pub(crate) genesis_digest: [u8; 32],
    pub(crate) chain_id: u64,
    pub(crate) params: Params,
    pub(crate) sector_sizes: BTreeMap<SealProof, PinnedKeys>,
    pub(crate) supply: Amount,
    pub(crate) epoch: Epoch,
    pub(crate) randomness: BTreeMap<Epoch, [u8; 32]>,
    pub(crate) accounts: BTreeMap<Address, Account>,
    pub(crate) escrow: BTreeMap<Address, Escrow>,
    pub(crate) providers: BTreeMap<ProviderId, Provider>,
    pub(crate) deals: BTreeMap<DealId, Deal>,
    pub(crate) manifests: BTreeMap<ManifestId, Manifest>,
    pub(crate) precommits: BTreeMap<(ProviderId, SectorNumber), PreCommit>,
    pub(crate) sectors: BTreeMap<(ProviderId, SectorNumber), Sector>,
    pub(crate) reward_pool: Amount,
    pub(crate) burnt: Amount,
    pub(crate) next_provider: u64,
    pub(crate) next_deal: u64,
    pub(crate) next_manifest: u64,
    // Indexes, derived from the maps above.
    pub(crate) by_label: BTreeMap<Vec<u8>, BTreeSet<DealId>>,
    pub(crate) by_client: BTreeMap<Address, BTreeSet<DealId>>,
    pub(crate) by_provider: BTreeMap<ProviderId, BTreeSet<DealId>>,
    pub(crate) by_root: BTreeMap<Vec<u8>, BTreeSet<ManifestId>>,
    pub(crate) pending_starts: BTreeSet<(Epoch, DealId)>,
    pub(crate) by_proposal: BTreeMap<[u8; 32], DealId>,
}

impl State {
    /// The state at epoch 0.
    pub fn from_genesis(g: &Genesis) -> Result<Self, GenesisError> {
        g.validate()?;
        let supply = g.supply().ok_or(GenesisError::SupplyOverflow)?;
        Ok(Self {
            genesis_digest: g.digest(),
            chain_id: g.chain_id,
            params: g.params.clone(),
            sector_sizes: g.sector_sizes.clone(),
            supply,
            epoch: Epoch(0),
            randomness: BTreeMap::from([(Epoch(0), g.randomness)]),
            accounts: g
                .accounts
                .iter()
                .map(|(a, b)| {
                    (
                        *a,
                        Account {
                            balance: *b,
                            nonce: 0,
                        },
                    )
                })
                .collect(),
            escrow: BTreeMap::new(),
            providers: BTreeMap::new(),
            deals: BTreeMap::new(),
            manifests: BTreeMap::new(),
            precommits: BTreeMap::new(),
            sectors: BTreeMap::new(),
            reward_pool: g.reward_pool,
            burnt: 0,
            next_provider: 1,
            next_deal: 1,
            next_manifest: 1,
            by_label: BTreeMap::new(),
            by_client: BTreeMap::new(),
            by_provider: BTreeMap::new(),
            by_root: BTreeMap::new(),
            pending_starts: BTreeSet::new(),
            by_proposal: BTreeMap::new(),
        })
    }

    /// The current epoch.
    pub fn epoch(&self) -> Epoch {
        self.epoch
    }

    /// The rules.
    pub fn params(&self) -> &Params {
        &self.params
    }

    /// The chain id.
    pub fn chain_id(&self) -> u64 {
        self.chain_id
    }

    /// The genesis supply.
    pub fn supply(&self) -> Amount {
        self.supply
    }

    /// An account (a default one if never seen).
    pub fn account(&self, a: &Address) -> Account {
        self.accounts.get(a).cloned().unwrap_or_default()
    }

    /// An escrow (empty if never used).
    pub fn escrow(&self, a: &Address) -> Escrow {
        self.escrow.get(a).cloned().unwrap_or_default()
    }

    /// A provider.
    pub fn provider(&self, p: ProviderId) -> Option<&Provider> {
        self.providers.get(&p)
    }

    /// A deal.
    pub fn deal(&self, d: DealId) -> Option<&Deal> {
        self.deals.get(&d)
    }

    /// Every provider, by id.
    pub fn providers(&self) -> impl Iterator<Item = (ProviderId, &Provider)> {
        self.providers.iter().map(|(id, p)| (*id, p))
    }

    /// A provider's proven sectors, by number.
    pub fn sectors_of(&self, p: ProviderId) -> impl Iterator<Item = (SectorNumber, &Sector)> {
        self.sectors
            .range((p, SectorNumber(0))..=(p, SectorNumber(u64::MAX)))
            .map(|((_, n), s)| (*n, s))
    }

    /// A provider's pending pre-commits, by sector number.
    pub fn precommits_of(&self, p: ProviderId) -> impl Iterator<Item = (SectorNumber, &PreCommit)> {
        self.precommits
            .range((p, SectorNumber(0))..=(p, SectorNumber(u64::MAX)))
            .map(|((_, n), s)| (*n, s))
    }

    /// A sector.
    pub fn sector(&self, p: ProviderId, s: SectorNumber) -> Option<&Sector> {
        self.sectors.get(&(p, s))
    }

    /// A pre-commit.
    pub fn precommit(&self, p: ProviderId, s: SectorNumber) -> Option<&PreCommit> {
        self.precommits.get(&(p, s))
    }

    /// A manifest.
    pub fn manifest(&self, m: ManifestId) -> Option<&Manifest> {
        self.manifests.get(&m)
    }

    /// Deals whose label is `label`.
    pub fn deals_by_label(&self, label: &[u8]) -> Vec<DealId> {
        self.by_label
            .get(label)
            .map(|s| s.iter().copied().collect())
            .unwrap_or_default()
    }

    /// Deals of a client.
    pub fn deals_by_client(&self, a: &Address) -> Vec<DealId> {
        self.by_client
            .get(a)
            .map(|s| s.iter().copied().collect())
            .unwrap_or_default()
    }

    /// Deals of a provider.
    pub fn deals_by_provider(&self, p: ProviderId) -> Vec<DealId> {
        self.by_provider
            .get(&p)
            .map(|s| s.iter().copied().collect())
            .unwrap_or_default()
    }

    /// Manifests of an upload's root CID.
    pub fn manifests_by_root(&self, root: &[u8]) -> Vec<ManifestId> {
        self.by_root
            .get(root)
            .map(|s| s.iter().copied().collect())
            .unwrap_or_default()
    }

    /// The randomness of `epoch`, if held.
    pub fn randomness(&self, epoch: Epoch) -> Option<[u8; 32]> {
        self.randomness.get(&epoch).copied()
    }

    /// Tokens in the reward pool.
    pub fn reward_pool(&self) -> Amount {
        self.reward_pool
    }

    /// Tokens burnt.
    pub fn burnt(&self) -> Amount {
        self.burnt
    }

    /// The index of the deadline whose window contains `epoch`, and that
    /// window's opening epoch.
    pub fn deadline_at(&self, epoch: Epoch) -> (u64, Epoch) {
        let w = self.params.deadline_window.max(1);
        let period = self.params.period().max(1);
        let index = (epoch.0 % period) / w;
        (index, Epoch(epoch.0 - epoch.0 % w))
    }

    /// Every token, wherever it is: balances + escrow (free and locked) +
    /// provider collateral and deposits + reward pool + burnt. Always
    /// equals [`State::supply`]; `None` only on overflow, which that
    /// equality rules out.
    pub fn total_tokens(&self) -> Option<Amount> {
        let mut t = self.reward_pool.checked_add(self.burnt)?;
        for a in self.accounts.values() {
            t = t.checked_add(a.balance)?;
        }
        for e in self.escrow.values() {
            t = t.checked_add(e.free)?.checked_add(e.locked)?;
        }
        for p in self.providers.values() {
            t = t.checked_add(p.collateral)?.checked_add(p.deposits)?;
        }
        Some(t)
    }

    /// What the live deals should hold locked per address: the client's
    /// unsettled payment and collateral, the provider owner's collateral.
    /// Equals each escrow's `locked`.
    pub fn expected_locks(&self) -> BTreeMap<Address, Amount> {
        let mut out: BTreeMap<Address, Amount> = BTreeMap::new();
        for d in self.deals.values().filter(|d| d.is_live()) {
            let p = &d.proposal;
            let left = p.end.0.saturating_sub(d.settled.0.max(p.start.0));
            let client = p
                .price_per_epoch
                .saturating_mul(Amount::from(left))
                .saturating_add(p.client_collateral);
            let e = out.entry(p.client).or_default();
            *e = e.saturating_add(client);
            if let Some(prov) = self.providers.get(&p.provider) {
                let e = out.entry(prov.owner).or_default();
                *e = e.saturating_add(p.provider_collateral);
            }
        }
        out
    }

    /// SHA-256 over the canonical encoding of the primary state.
    pub fn root(&self) -> [u8; 32] {
        Sha256::digest(self.encode_primary()).into()
    }

    pub(crate) fn encode_primary(&self) -> Vec<u8> {
        let mut w = Writer::new();
        w.array(b"cairn-state/v1");
        w.array(&self.genesis_digest);
        w.put(&self.epoch);
        w.u128(self.reward_pool);
        w.u128(self.burnt);
        w.u64(self.next_provider);
        w.u64(self.next_deal);
        w.u64(self.next_manifest);
        w.len(self.randomness.len());
        for (e, r) in &self.randomness {
            w.put(e);
            w.array(r);
        }
        w.len(self.accounts.len());
        for (a, acc) in &self.accounts {
            w.put(a);
            w.u128(acc.balance);
            w.u64(acc.nonce);
        }
        w.len(self.escrow.len());
        for (a, e) in &self.escrow {
            w.put(a);
            w.u128(e.free);
            w.u128(e.locked);
        }
        w.len(self.providers.len());
        for (id, p) in &self.providers {
            w.put(id);
            w.put(&p.owner);
            w.put(&p.worker);
            w.bytes(&p.peer_id);
            w.len(p.multiaddrs.len());
            for m in &p.multiaddrs {
                w.str(m);
            }
            w.u8(seal_proof_tag(p.seal_proof));
            w.u128(p.price_per_byte_epoch);
            w.u64(p.capacity);
            w.u128(p.collateral);
            w.u128(p.deposits);
            w.u64(p.next_deadline);
            w.len(p.proven.len());
            for (d, e) in &p.proven {
                w.u64(*d);
                w.put(e);
            }
        }
        w.len(self.deals.len());
        for (id, d) in &self.deals {
            w.put(id);
            w.put(&d.proposal);
            w.u8(d.state as u8);
            w.option(d.sector.as_ref());
            w.put(&d.settled);
            w.u128(d.paid);
        }
        w.len(self.manifests.len());
        for (id, m) in &self.manifests {
            w.put(id);
            w.put(m);
        }
        w.len(self.precommits.len());
        for ((p, s), pc) in &self.precommits {
            w.put(p);
            w.put(s);
            w.put(&pc.comm_r);
            w.list(&pc.deals);
            w.put(&pc.ticket_epoch);
            w.put(&pc.expiration);
            w.u128(pc.deposit);
            w.put(&pc.epoch);
        }
        w.len(self.sectors.len());
        for ((p, s), sec) in &self.sectors {
            w.put(p);
            w.put(s);
            w.put(&sec.comm_r);
            w.list(&sec.deals);
            w.put(&sec.activation);
            w.put(&sec.expiration);
            w.u64(sec.deadline);
            w.u8(sec.status as u8);
            w.u64(sec.faults);
            w.option(sec.last_proven.as_ref());
        }
        w.finish()
    }
}

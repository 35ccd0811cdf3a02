//! State snapshots: the whole state as bytes and back, so the consensus
//! shell can persist the post-state of each finalized block and a
//! restarted validator resumes from disk instead of replaying the chain.
//!
//! The snapshot is exactly the bytes [`State::root`] hashes (the primary
//! maps, versioned by their `cairn-state/v1` prefix); the rest of the state
//! comes from the genesis it names (chain id, parameters, pinned keys,
//! supply), and the indexes are rebuilt from the primary maps. So a
//! snapshot cannot carry a root other than the state it decodes to, and a
//! snapshot of another chain is refused.

use std::collections::{BTreeMap, BTreeSet};

use crate::codec::{Decode, DecodeError, Reader};
use crate::genesis::{Genesis, GenesisError};
use crate::ids::{Address, CommR, DealId, Epoch, ManifestId, ProviderId, PublicKey, SectorNumber};
use crate::market::proposal_hash;
use crate::state::{
    Account, Deal, DealState, Escrow, PreCommit, Provider, Sector, SectorStatus, State,
};
use crate::tx::{
    DealProposal, MAX_DEALS_PER_SECTOR, MAX_MULTIADDR, MAX_MULTIADDRS, MAX_PEER_ID, Manifest,
};

const MAGIC: &[u8] = b"cairn-state/v1";

/// Why a snapshot was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SnapshotError {
    /// Not a snapshot in a format this build reads.
    #[error("not a cairn-state/v1 snapshot")]
    Version,
    /// The bytes do not decode.
    #[error("snapshot: {0}")]
    Decode(#[from] DecodeError),
    /// The genesis given is invalid.
    #[error("genesis: {0}")]
    Genesis(#[from] GenesisError),
    /// The snapshot is of another chain's genesis.
    #[error("snapshot of genesis {actual}, expected {expected}")]
    OtherGenesis {
        /// The genesis given, hex.
        expected: String,
        /// The snapshot's, hex.
        actual: String,
    },
}

fn hex(d: &[u8]) -> String {
    d.iter().map(|b| format!("{b:02x}")).collect()
}

fn deal_state(tag: u8) -> Result<DealState, DecodeError> {
    Ok(match tag {
        0 => DealState::Published,
        1 => DealState::Active,
        2 => DealState::Expired,
        3 => DealState::Terminated,
        4 => DealState::Cancelled,
        tag => {
            return Err(DecodeError::BadTag {
                what: "deal state",
                tag,
            });
        }
    })
}

fn sector_status(tag: u8) -> Result<SectorStatus, DecodeError> {
    Ok(match tag {
        0 => SectorStatus::Active,
        1 => SectorStatus::Faulty,
        2 => SectorStatus::Recovering,
        3 => SectorStatus::Terminated,
        4 => SectorStatus::Expired,
        tag => {
            return Err(DecodeError::BadTag {
                what: "sector status",
                tag,
            });
        }
    })
}

impl State {
    /// The state as bytes (what [`State::root`] hashes).
    pub fn snapshot(&self) -> Vec<u8> {
        self.encode_primary()
    }

    /// The state a [`State::snapshot`] of a chain started from `genesis`
    /// holds.
    pub fn from_snapshot(genesis: &Genesis, bytes: &[u8]) -> Result<Self, SnapshotError> {
        let mut s = Self::from_genesis(genesis)?;
        let mut r = Reader::new(bytes);
        if r.take(MAGIC.len(), "snapshot version").ok() != Some(MAGIC) {
            return Err(SnapshotError::Version);
        }
        let digest = r.array::<32>("genesis digest")?;
        if digest != s.genesis_digest {
            return Err(SnapshotError::OtherGenesis {
                expected: hex(&s.genesis_digest),
                actual: hex(&digest),
            });
        }
        s.epoch = Epoch::decode(&mut r)?;
        s.reward_pool = r.u128("reward pool")?;
        s.burnt = r.u128("burnt")?;
        s.next_provider = r.u64("next provider")?;
        s.next_deal = r.u64("next deal")?;
        s.next_manifest = r.u64("next manifest")?;
        s.randomness = BTreeMap::new();
        for _ in 0..r.len(usize::MAX, 40, "randomness")? {
            let e = Epoch::decode(&mut r)?;
            s.randomness.insert(e, r.array::<32>("randomness")?);
        }
        s.accounts = BTreeMap::new();
        for _ in 0..r.len(usize::MAX, 20 + 24, "accounts")? {
            let a = Address::decode(&mut r)?;
            let balance = r.u128("balance")?;
            let nonce = r.u64("nonce")?;
            s.accounts.insert(a, Account { balance, nonce });
        }
        s.escrow = BTreeMap::new();
        for _ in 0..r.len(usize::MAX, 20 + 32, "escrow")? {
            let a = Address::decode(&mut r)?;
            let free = r.u128("escrow free")?;
            let locked = r.u128("escrow locked")?;
            s.escrow.insert(a, Escrow { free, locked });
        }
        s.providers = BTreeMap::new();
        for _ in 0..r.len(usize::MAX, 8, "providers")? {
            let id = ProviderId::decode(&mut r)?;
            let owner = Address::decode(&mut r)?;
            let worker = PublicKey::decode(&mut r)?;
            let peer_id = r.bytes(MAX_PEER_ID, "peer id")?;
            let mut multiaddrs = Vec::new();
            for _ in 0..r.len(MAX_MULTIADDRS, 4, "multiaddrs")? {
                multiaddrs.push(r.string(MAX_MULTIADDR, "multiaddr")?);
            }
            let tag = r.u8("seal proof")?;
            let seal_proof = cairn_proofs::sector::SealProof::from_id(u64::from(tag))
                .map_err(|_| DecodeError::Invalid { what: "seal proof" })?;
            let price_per_byte_epoch = r.u128("ask")?;
            let capacity = r.u64("capacity")?;
            let collateral = r.u128("collateral")?;
            let deposits = r.u128("deposits")?;
            let next_deadline = r.u64("next deadline")?;
            let mut proven = BTreeMap::new();
            for _ in 0..r.len(usize::MAX, 16, "proven")? {
                let d = r.u64("deadline")?;
                proven.insert(d, Epoch::decode(&mut r)?);
            }
            s.providers.insert(
                id,
                Provider {
                    owner,
                    worker,
                    peer_id,
                    multiaddrs,
                    seal_proof,
                    price_per_byte_epoch,
                    capacity,
                    collateral,
                    deposits,
                    next_deadline,
                    proven,
                },
            );
        }
        s.deals = BTreeMap::new();
        for _ in 0..r.len(usize::MAX, 8, "deals")? {
            let id = DealId::decode(&mut r)?;
            let proposal = DealProposal::decode(&mut r)?;
            let state = deal_state(r.u8("deal state")?)?;
            let sector = r.option::<SectorNumber>("deal sector")?;
            let settled = Epoch::decode(&mut r)?;
            let paid = r.u128("paid")?;
            s.deals.insert(
                id,
                Deal {
                    proposal,
                    state,
                    sector,
                    settled,
                    paid,
                },
            );
        }
        s.manifests = BTreeMap::new();
        for _ in 0..r.len(usize::MAX, 8, "manifests")? {
            let id = ManifestId::decode(&mut r)?;
            s.manifests.insert(id, Manifest::decode(&mut r)?);
        }
        s.precommits = BTreeMap::new();
        for _ in 0..r.len(usize::MAX, 16, "precommits")? {
            let p = ProviderId::decode(&mut r)?;
            let n = SectorNumber::decode(&mut r)?;
            let comm_r = CommR::decode(&mut r)?;
            let deals = r.list::<DealId>(MAX_DEALS_PER_SECTOR, "precommit deals")?;
            let ticket_epoch = Epoch::decode(&mut r)?;
            let expiration = Epoch::decode(&mut r)?;
            let deposit = r.u128("deposit")?;
            let epoch = Epoch::decode(&mut r)?;
            s.precommits.insert(
                (p, n),
                PreCommit {
                    comm_r,
                    deals,
                    ticket_epoch,
                    expiration,
                    deposit,
                    epoch,
                },
            );
        }
        s.sectors = BTreeMap::new();
        for _ in 0..r.len(usize::MAX, 16, "sectors")? {
            let p = ProviderId::decode(&mut r)?;
            let n = SectorNumber::decode(&mut r)?;
            let comm_r = CommR::decode(&mut r)?;
            let deals = r.list::<DealId>(MAX_DEALS_PER_SECTOR, "sector deals")?;
            let activation = Epoch::decode(&mut r)?;
            let expiration = Epoch::decode(&mut r)?;
            let deadline = r.u64("sector deadline")?;
            let status = sector_status(r.u8("sector status")?)?;
            let faults = r.u64("faults")?;
            let last_proven = r.option::<Epoch>("last proven")?;
            s.sectors.insert(
                (p, n),
                Sector {
                    comm_r,
                    deals,
                    activation,
                    expiration,
                    deadline,
                    status,
                    faults,
                    last_proven,
                },
            );
        }
        r.finish()?;
        s.rebuild_indexes();
        Ok(s)
    }

    /// Recomputes the indexes from the primary maps, as the handlers that
    /// publish deals and manifests maintain them.
    fn rebuild_indexes(&mut self) {
        self.by_label = BTreeMap::new();
        self.by_client = BTreeMap::new();
        self.by_provider = BTreeMap::new();
        self.by_root = BTreeMap::new();
        self.pending_starts = BTreeSet::new();
        self.by_proposal = BTreeMap::new();
        for (&id, d) in &self.deals {
            let p = &d.proposal;
            self.by_proposal
                .insert(proposal_hash(&crate::codec::Encode::to_bytes(p)), id);
            self.by_label.entry(p.label.clone()).or_default().insert(id);
            self.by_client.entry(p.client).or_default().insert(id);
            self.by_provider.entry(p.provider).or_default().insert(id);
            if d.state == DealState::Published {
                self.pending_starts.insert((p.start, id));
            }
        }
        for (&id, m) in &self.manifests {
            self.by_root.entry(m.root.clone()).or_default().insert(id);
        }
    }
}

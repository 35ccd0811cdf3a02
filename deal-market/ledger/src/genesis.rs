//! Genesis: the chain id, the economic parameters, the funded accounts, the
//! reward pool, the first randomness, and the verifying-key digests of the
//! proofs each allowed sector size uses.
//!
//! Every number a provider needs to check its bill is here; docs/ledger.md
//! explains each. The total supply is fixed at genesis: the sum of the
//! accounts and the pool, never minted again.

use std::collections::BTreeMap;

use cairn_proofs::sector::SealProof;

use crate::codec::{Encode, Writer};
use crate::ids::{Address, Amount};

/// SHA-256 of an ark-serialize compressed Groth16 `VerifyingKey`.
pub type VkDigest = [u8; 32];

/// The verifying keys genesis pins for one sector size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PinnedKeys {
    /// Digest of the PoRep (seal) circuit's key.
    pub porep: VkDigest,
    /// Digest of the WindowPoSt circuit's key.
    pub window_post: VkDigest,
}

/// The rules of the market, fixed for the chain's life.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Params {
    /// Blocks per epoch (the shell turns heights into epochs with it).
    pub blocks_per_epoch: u64,
    /// Deadlines per proving period.
    pub deadlines_per_period: u64,
    /// Epochs a deadline's window is open.
    pub deadline_window: u64,
    /// Shortest deal, in epochs.
    pub min_deal_duration: u64,
    /// Longest deal, in epochs.
    pub max_deal_duration: u64,
    /// Longest a deal may wait between publication and its start epoch.
    pub max_deal_start_delay: u64,
    /// Epochs between PreCommit and the interactive seed.
    pub seed_wait: u64,
    /// Epochs after PreCommit by which ProveCommit must land, or the
    /// pre-commit expires and its deposit is burnt.
    pub max_prove_commit_wait: u64,
    /// How far back the sealing ticket's epoch may be at PreCommit.
    pub max_ticket_age: u64,
    /// The smallest PreCommit deposit per sector.
    pub min_precommit_deposit: Amount,
    /// The smallest collateral a provider registers with.
    pub min_provider_collateral: Amount,
    /// Fee burnt per faulty sector per deadline it misses.
    pub fault_fee: Amount,
    /// A sector that misses this many deadlines in a row is terminated.
    pub max_consecutive_faults: u64,
    /// Block reward per epoch, from the pool, split by proven power.
    pub reward_per_epoch: Amount,
}

impl Params {
    /// Epochs per proving period.
    pub fn period(&self) -> u64 {
        self.deadlines_per_period
            .saturating_mul(self.deadline_window)
    }

    /// Parameters for development networks and tests: 4 deadlines of 10
    /// epochs.
    pub fn devnet() -> Self {
        Self {
            blocks_per_epoch: 1,
            deadlines_per_period: 4,
            deadline_window: 10,
            min_deal_duration: 40,
            max_deal_duration: 100_000,
            max_deal_start_delay: 1_000,
            seed_wait: 5,
            max_prove_commit_wait: 40,
            max_ticket_age: 100,
            min_precommit_deposit: 100,
            min_provider_collateral: 1_000,
            fault_fee: 50,
            max_consecutive_faults: 3,
            reward_per_epoch: 1_000,
        }
    }
}

/// Everything the first block starts from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Genesis {
    /// Signed into every transaction, so one chain's transactions never
    /// replay on another.
    pub chain_id: u64,
    /// The rules.
    pub params: Params,
    /// Funded accounts.
    pub accounts: BTreeMap<Address, Amount>,
    /// Tokens set aside for block rewards.
    pub reward_pool: Amount,
    /// The randomness of epoch 0.
    pub randomness: [u8; 32],
    /// The sector sizes providers may register, with their pinned keys.
    pub sector_sizes: BTreeMap<SealProof, PinnedKeys>,
}

impl Genesis {
    /// The fixed total supply, or `None` if it overflows.
    pub fn supply(&self) -> Option<Amount> {
        self.accounts
            .values()
            .try_fold(self.reward_pool, |acc, a| acc.checked_add(*a))
    }

    /// Whether the parameters can run a chain (nonzero windows, a seed
    /// wait shorter than the prove-commit wait, a supply that fits).
    pub fn validate(&self) -> Result<(), GenesisError> {
        let p = &self.params;
        let bad = |what| Err(GenesisError::Param { what });
        if p.blocks_per_epoch == 0 {
            return bad("blocks_per_epoch is 0");
        }
        if p.deadlines_per_period == 0 || p.deadline_window == 0 {
            return bad("a proving period has no deadlines");
        }
        if p.period().checked_mul(2).is_none() {
            return bad("the proving period overflows");
        }
        if p.seed_wait == 0 || p.seed_wait >= p.max_prove_commit_wait {
            return bad("seed_wait must be in 1..max_prove_commit_wait");
        }
        if p.min_deal_duration == 0 || p.min_deal_duration > p.max_deal_duration {
            return bad("deal duration bounds");
        }
        if p.max_consecutive_faults == 0 {
            return bad("max_consecutive_faults is 0");
        }
        if self.supply().is_none() {
            return Err(GenesisError::SupplyOverflow);
        }
        Ok(())
    }

    /// SHA-256 of the genesis' canonical encoding.
    pub fn digest(&self) -> [u8; 32] {
        use sha2::{Digest, Sha256};
        Sha256::digest(self.to_bytes()).into()
    }
}

impl Encode for Genesis {
    fn encode(&self, w: &mut Writer) {
        w.array(b"cairn-genesis/v1");
        w.u64(self.chain_id);
        let p = &self.params;
        for v in [
            p.blocks_per_epoch,
            p.deadlines_per_period,
            p.deadline_window,
            p.min_deal_duration,
            p.max_deal_duration,
            p.max_deal_start_delay,
            p.seed_wait,
            p.max_prove_commit_wait,
            p.max_ticket_age,
            p.max_consecutive_faults,
        ] {
            w.u64(v);
        }
        for v in [
            p.min_precommit_deposit,
            p.min_provider_collateral,
            p.fault_fee,
            p.reward_per_epoch,
        ] {
            w.u128(v);
        }
        w.len(self.accounts.len());
        for (a, v) in &self.accounts {
            w.put(a);
            w.u128(*v);
        }
        w.u128(self.reward_pool);
        w.array(&self.randomness);
        w.len(self.sector_sizes.len());
        for (s, k) in &self.sector_sizes {
            w.u64(s.id());
            w.array(&k.porep);
            w.array(&k.window_post);
        }
    }
}

/// Why a genesis cannot start a chain.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GenesisError {
    /// A parameter out of range.
    #[error("genesis parameter: {what}")]
    Param {
        /// Which, and why.
        what: &'static str,
    },
    /// Accounts and pool sum past `u128::MAX`.
    #[error("the genesis supply overflows")]
    SupplyOverflow,
}

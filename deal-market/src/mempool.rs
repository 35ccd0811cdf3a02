//! The mempool and its pending state: the finalized state with every
//! admitted transaction applied in nonce order.
//!
//! Admission runs the ledger on the pending state, so a transaction the
//! ledger would refuse (an overdraft, a forged proof, a deal signed by one
//! side) is answered with its reason at once instead of waiting for a block
//! that will never take it. A transaction whose nonce is ahead of its
//! sender's pending nonce (its predecessor went to another validator and
//! has not arrived by gossip yet) is *queued*: kept, not yet applied, and
//! promoted once the gap closes. After each finalized block the pending
//! state is rebuilt from the new finalized state and whatever the ledger
//! now refuses leaves the mempool with its reason.
//!
//! Pure: no locks, no I/O; [`crate::chain::Chain`] holds it under its lock.

use std::collections::{HashMap, HashSet, VecDeque};

use cairn_ledger::codec::Encode as _;
use cairn_ledger::{Address, ProofVerifier, Refusal, SignedTx, State};

/// A transaction that left the mempool because the ledger refuses it.
pub type Dropped = ([u8; 32], Refusal);

/// Transactions waiting for a block, with their pending state.
#[derive(Debug)]
pub struct Mempool {
    order: VecDeque<[u8; 32]>,
    txs: HashMap<[u8; 32], SignedTx>,
    /// Ahead of their sender's pending nonce: not applied yet.
    queued: HashSet<[u8; 32]>,
    pending: State,
}

impl Mempool {
    /// An empty mempool over `finalized`.
    pub fn new(finalized: State) -> Self {
        Self {
            order: VecDeque::new(),
            txs: HashMap::new(),
            queued: HashSet::new(),
            pending: finalized,
        }
    }

    /// How many transactions it holds.
    pub fn len(&self) -> usize {
        self.txs.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.txs.is_empty()
    }

    /// Whether it holds `hash`.
    pub fn contains(&self, hash: &[u8; 32]) -> bool {
        self.txs.contains_key(hash)
    }

    /// Block candidates: applied (not queued) transactions in arrival
    /// order, at most `max_txs` and `max_bytes` of them.
    pub fn candidates(&self, max_txs: usize, max_bytes: usize) -> Vec<SignedTx> {
        let mut bytes = 0usize;
        self.order
            .iter()
            .filter(|h| !self.queued.contains(*h))
            .filter_map(|h| self.txs.get(h))
            .take_while(|tx| {
                bytes = bytes.saturating_add(tx.to_bytes().len());
                bytes <= max_bytes
            })
            .take(max_txs)
            .cloned()
            .collect()
    }

    /// Admits a new transaction (the caller checked it is not held yet):
    /// applied to the pending state if its nonce is the sender's next,
    /// queued if it is ahead. `Err` is the ledger's refusal, and nothing
    /// was admitted; `Ok` lists queued transactions of the same sender that
    /// its arrival let the ledger judge and refuse.
    pub fn insert(
        &mut self,
        tx: SignedTx,
        verifier: &dyn ProofVerifier,
    ) -> Result<Vec<Dropped>, Refusal> {
        let hash = tx.hash();
        let sender = tx.tx.sender();
        if tx.tx.nonce > self.pending.account(&sender).nonce {
            self.queued.insert(hash);
        } else {
            self.pending.apply_tx(&tx, verifier).result?;
        }
        self.order.push_back(hash);
        self.txs.insert(hash, tx);
        let dropped = self.promote(sender, verifier);
        self.forget(&dropped);
        Ok(dropped)
    }

    /// Applies `sender`'s queued transactions whose turn has come, in
    /// nonce order; returns those the ledger refused (still held: the
    /// caller forgets them).
    fn promote(&mut self, sender: Address, verifier: &dyn ProofVerifier) -> Vec<Dropped> {
        let mut dropped = Vec::new();
        loop {
            let next = self.pending.account(&sender).nonce;
            let Some(hash) = self
                .queued
                .iter()
                .find(|h| {
                    self.txs
                        .get(*h)
                        .is_some_and(|t| t.tx.sender() == sender && t.tx.nonce == next)
                })
                .copied()
            else {
                return dropped;
            };
            self.queued.remove(&hash);
            let Some(tx) = self.txs.get(&hash) else {
                continue;
            };
            if let Err(refusal) = self.pending.apply_tx(tx, verifier).result {
                dropped.push((hash, refusal));
                // Its successors stay queued behind the gap it leaves.
                return dropped;
            }
        }
    }

    fn forget(&mut self, dropped: &[Dropped]) {
        for (h, _) in dropped {
            self.txs.remove(h);
            self.queued.remove(h);
        }
        if !dropped.is_empty() {
            let txs = &self.txs;
            self.order.retain(|h| txs.contains_key(h));
        }
    }

    /// After a finalized block: removes `included`, drops what the
    /// finalized nonces made stale (returned first, without a refusal to
    /// report: another transaction used their nonce), rebuilds the pending
    /// state from `finalized` and the rest, and returns what the ledger now
    /// refuses.
    pub fn reset(
        &mut self,
        finalized: &State,
        included: &[[u8; 32]],
        verifier: &dyn ProofVerifier,
    ) -> (Vec<[u8; 32]>, Vec<Dropped>) {
        for h in included {
            self.txs.remove(h);
            self.queued.remove(h);
        }
        let mut stale = Vec::new();
        self.txs.retain(|h, tx| {
            let keep = tx.tx.nonce >= finalized.account(&tx.tx.sender()).nonce;
            if !keep {
                stale.push(*h);
            }
            keep
        });
        let txs = &self.txs;
        self.order.retain(|h| txs.contains_key(h));
        self.queued.clear();
        self.pending = finalized.clone();
        let mut dropped = Vec::new();
        let mut behind = HashSet::new();
        for h in &self.order {
            let Some(tx) = self.txs.get(h) else { continue };
            let sender = tx.tx.sender();
            if tx.tx.nonce > self.pending.account(&sender).nonce {
                self.queued.insert(*h);
                behind.insert(sender);
            } else if let Err(refusal) = self.pending.apply_tx(tx, verifier).result {
                dropped.push((*h, refusal));
            }
        }
        for sender in behind {
            dropped.extend(self.promote(sender, verifier));
        }
        self.forget(&dropped);
        (stale, dropped)
    }
}

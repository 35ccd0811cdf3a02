//! The validator's view of the chain: the finalized state (from RocksDB),
//! the post-states of blocks proposed or verified but not yet finalized,
//! the threshold seeds consensus has certified, the mempool, and the
//! waiters for transaction receipts.
//!
//! One rule runs everywhere: [`Chain::execute`] takes a parent's
//! post-state and a block and checks the block against it (height, parent,
//! timestamp, beacon seed), runs [`cairn_ledger::State::execute_block`] and
//! compares the state root. The proposer builds with it, every verifier
//! re-runs it, and the finalizer runs it again for a block it never saw
//! before (caught up through marshal's backfill), so no block whose root is
//! wrong is certified or persisted.
//!
//! # Randomness beacon
//!
//! A block that ends a ledger epoch carries the threshold seed of its
//! parent's view (the view the parent was proposed and certified in): a
//! unique BLS threshold signature over that round, which needs 2f+1
//! validators to exist and which no proposer can choose. Every verifier
//! checks the seed's signature against the genesis polynomial and that its
//! round is the parent's. The ledger's beacon value is SHA-256 of the
//! signature. The lookback is one block: the seed of the parent's view is
//! known to everyone who can build on the parent (its notarization carries
//! it), but it is fixed before the child's proposer acts, so the proposer
//! can only include it or be skipped, and the next proposer on the same
//! parent embeds the same seed. A block whose parent is genesis uses the
//! genesis randomness instead. Never a block hash: proposers grind those.
//!
//! Locks: one `std::sync::Mutex` over the mutable parts, never held across
//! an `.await` or a ledger execution.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use cairn_ledger::codec::Encode as _;
use cairn_ledger::verifier::SizeKeys;
use cairn_ledger::{BlockOutcome, Groth16Verifier, SignedTx, State};
use cairn_proofs::sector::SealProof;
use commonware_codec::Encode as _;
use commonware_consensus::types::{Epoch, Round};
use commonware_cryptography::{Digested, Digestible};
use serde_json::{Value, json};
use tokio::sync::{broadcast, oneshot};

use crate::block::{Block, MAX_BLOCK_TX_BYTES, MAX_BLOCK_TXS, sha256};
use crate::config::ChainSpec;
use crate::json::{event_json, receipt_json};
use crate::mempool::Mempool;
use crate::metrics::{Metrics, TimedVerifier};
use crate::store::{Commit, Store, StoreError, Tip};
use crate::{Digest, Scheme, Seed};

/// Most transactions a mempool holds.
pub const MAX_MEMPOOL: usize = 20_000;
/// How far in the future (ms) a block's timestamp may be.
pub const MAX_FUTURE_MS: u64 = 5_000;
/// Domain of the beacon hash.
const BEACON_DOMAIN: &[u8] = b"cairn/beacon/v1";

/// Why a block is invalid on its parent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidBlock {
    /// Not the next height, or not naming the parent.
    #[error("block {height} does not extend parent {parent_height}")]
    NotChild {
        /// The block's height.
        height: u64,
        /// The parent's.
        parent_height: u64,
    },
    /// Its timestamp is not after the parent's.
    #[error("timestamp {got} not after the parent's {parent}")]
    Timestamp {
        /// The parent's.
        parent: u64,
        /// The block's.
        got: u64,
    },
    /// Beacon present where none belongs, or missing where one does.
    #[error("beacon seed {what}")]
    Beacon {
        /// What is wrong.
        what: &'static str,
    },
    /// The ledger refused the block.
    #[error("ledger: {0}")]
    Ledger(#[from] cairn_ledger::BlockError),
    /// Execution gives another state root.
    #[error("state root {claimed} but execution gives {computed}")]
    Root {
        /// In the block, hex.
        claimed: String,
        /// Computed, hex.
        computed: String,
    },
}

/// A chain failure that stops the validator.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ChainError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The genesis is invalid for the ledger.
    #[error("genesis: {0}")]
    Genesis(#[from] cairn_ledger::GenesisError),
    /// The persisted state does not decode.
    #[error("persisted state: {0}")]
    Snapshot(#[from] cairn_ledger::SnapshotError),
    /// The persisted state's root is not the persisted tip's.
    #[error("persisted state root differs from the tip's")]
    SnapshotRoot,
    /// The persisted tip block does not decode.
    #[error("persisted tip block: {0}")]
    TipBlock(#[source] commonware_codec::Error),
    /// The verifying keys given are not the ones genesis pins.
    #[error("verifying keys do not match genesis, refusing to start")]
    Keys(#[from] cairn_ledger::verifier::KeyError),
    /// The genesis names no validator.
    #[error("genesis names no validator")]
    NoValidators,
    /// Marshal delivered a finalized block that is not the next one.
    #[error("finalized block {height} does not extend the tip at {tip}")]
    OutOfOrder {
        /// The block's height.
        height: u64,
        /// The tip's.
        tip: u64,
    },
    /// A finalized block does not execute: a consensus or determinism bug.
    #[error("finalized block {height} is invalid: {source}")]
    FinalizedInvalid {
        /// Its height.
        height: u64,
        /// Why.
        #[source]
        source: InvalidBlock,
    },
}

/// A block executed on its parent.
#[derive(Debug)]
pub struct Executed {
    /// The block.
    pub block: Digested<Block>,
    /// The state after it.
    pub state: Arc<State>,
    /// Receipts and tick events.
    pub outcome: BlockOutcome,
}

/// A transaction's fate, as a waiter learns it.
#[derive(Debug, Clone)]
pub struct Included {
    /// The block it is in.
    pub height: u64,
    /// Its receipt, JSON.
    pub receipt: Value,
}

#[derive(Debug)]
struct Inner {
    tip: Tip,
    tip_block: Digested<Block>,
    state: Arc<State>,
    executed: HashMap<Digest, Arc<Executed>>,
    seeds: BTreeMap<u64, Seed>,
    mempool: Mempool,
    waiters: HashMap<[u8; 32], Vec<oneshot::Sender<Included>>>,
}

/// Why a transaction was not admitted to the mempool.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Rejected {
    /// Wrong chain id.
    #[error("chain id {got}, this chain is {expected}")]
    WrongChain {
        /// This chain.
        expected: u64,
        /// The transaction's.
        got: u64,
    },
    /// The signature is not the signer's.
    #[error("bad signature")]
    BadSignature,
    /// The nonce is already used in a finalized block.
    #[error("nonce {got} already used (next is {next})")]
    StaleNonce {
        /// The next nonce.
        next: u64,
        /// The transaction's.
        got: u64,
    },
    /// Too big for a block.
    #[error("transaction of {len} bytes exceeds {max}")]
    TooLarge {
        /// Its size.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The mempool is full.
    #[error("mempool full")]
    Full,
    /// The ledger refuses it on the finalized state plus the mempool.
    #[error("refused: {0}")]
    Refused(cairn_ledger::Refusal),
}

/// The chain, shared by the application, the finalizer and the API.
#[derive(Debug)]
pub struct Chain {
    spec: ChainSpec,
    seed_verifier: Scheme,
    verifier: TimedVerifier<Groth16Verifier>,
    genesis: Digested<Block>,
    store: Store,
    metrics: Metrics,
    events: broadcast::Sender<Arc<Value>>,
    gossip: std::sync::OnceLock<tokio::sync::mpsc::UnboundedSender<Vec<u8>>>,
    inner: Mutex<Inner>,
}

/// The receipt of a transaction the ledger refused before any block took
/// it: no height, the reason.
pub fn refusal_json(tx: &[u8; 32], refusal: &cairn_ledger::Refusal) -> Value {
    json!({ "tx": hex::encode(tx), "height": Value::Null, "ok": false, "refusal": refusal.to_string() })
}

/// The beacon value of a seed.
pub fn beacon_of(seed: &Seed) -> [u8; 32] {
    let mut b = BEACON_DOMAIN.to_vec();
    b.extend_from_slice(&seed.signature.encode());
    sha256(&b)
}

fn hex32(b: &[u8; 32]) -> String {
    hex::encode(b)
}

impl Chain {
    /// Opens the chain: the persisted tip and state if any, else genesis.
    pub fn open(
        spec: ChainSpec,
        keys: &BTreeMap<SealProof, SizeKeys>,
        store: Store,
        metrics: Metrics,
        seed_verifier: Scheme,
    ) -> Result<Self, ChainError> {
        let genesis_state = State::from_genesis(&spec.genesis)?;
        let leader = spec
            .participants
            .iter()
            .next()
            .cloned()
            .ok_or(ChainError::NoValidators)?;
        let g = Block::genesis(leader, genesis_state.root());
        let gd = g.digest();
        let genesis = Digested::precomputed(g, gd);
        let groth16 = Groth16Verifier::new(&spec.genesis.sector_sizes, keys)?;
        let verifier = TimedVerifier::new(groth16, metrics.proof_verify.clone());
        let (tip, tip_block, state) = match store.tip()? {
            None => (
                Tip {
                    height: 0,
                    digest: gd.as_ref().try_into().unwrap_or([0; 32]),
                    root: genesis_state.root(),
                },
                genesis.clone(),
                genesis_state,
            ),
            Some(tip) => {
                let snap = store
                    .snapshot()?
                    .ok_or(StoreError::Corrupt { what: "state" })?;
                let state = State::from_snapshot(&spec.genesis, &snap)?;
                if state.root() != tip.root {
                    return Err(ChainError::SnapshotRoot);
                }
                let bytes = store
                    .block(tip.height)?
                    .ok_or(StoreError::Corrupt { what: "tip block" })?;
                let b = <Block as commonware_codec::DecodeExt<()>>::decode(bytes)
                    .map_err(ChainError::TipBlock)?;
                let d = b.digest();
                (tip, Digested::precomputed(b, d), state)
            }
        };
        metrics
            .height
            .set(i64::try_from(tip.height).unwrap_or(i64::MAX));
        metrics
            .epoch
            .set(i64::try_from(state.epoch().0).unwrap_or(i64::MAX));
        let (events, _) = broadcast::channel(256);
        Ok(Self {
            spec,
            seed_verifier,
            verifier,
            genesis,
            store,
            metrics,
            events,
            gossip: std::sync::OnceLock::new(),
            inner: Mutex::new(Inner {
                tip,
                tip_block,
                mempool: Mempool::new(state.clone()),
                state: Arc::new(state),
                executed: HashMap::new(),
                seeds: BTreeMap::new(),
                waiters: HashMap::new(),
            }),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves plain data behind; keep
        // serving it rather than poison every later call.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The genesis block.
    pub fn genesis(&self) -> &Digested<Block> {
        &self.genesis
    }

    /// The chain's genesis and committee.
    pub fn spec(&self) -> &ChainSpec {
        &self.spec
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The metrics.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// The finalized tip and the state after it.
    pub fn finalized(&self) -> (Tip, Arc<State>) {
        let g = self.lock();
        (g.tip, g.state.clone())
    }

    /// A stream of finalized blocks as JSON (for SSE).
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Value>> {
        self.events.subscribe()
    }

    /// Records the seed of a certified view.
    pub fn record_seed(&self, seed: Seed) {
        let view = seed.round.view().get();
        self.lock().seeds.insert(view, seed);
    }

    /// The seed of `view`, if consensus reported a certificate for it.
    pub fn seed(&self, view: u64) -> Option<Seed> {
        self.lock().seeds.get(&view).cloned()
    }

    /// The post-state of `digest`, if known (the finalized tip or an
    /// executed block).
    pub fn state_of(&self, digest: &Digest) -> Option<Arc<State>> {
        let g = self.lock();
        if g.tip_block.digest() == *digest {
            return Some(g.state.clone());
        }
        g.executed.get(digest).map(|e| e.state.clone())
    }

    /// Whether `digest` was already executed (and found valid).
    pub fn executed(&self, digest: &Digest) -> Option<Arc<Executed>> {
        self.lock().executed.get(digest).cloned()
    }

    /// The finalized height.
    pub fn finalized_height(&self) -> u64 {
        self.lock().tip.height
    }

    /// Remembers an executed block.
    pub fn remember(&self, ex: Executed) -> Arc<Executed> {
        let ex = Arc::new(ex);
        self.lock().executed.insert(ex.block.digest(), ex.clone());
        ex
    }

    /// The ledger beacon a block at `block.height` on `parent` needs, checked.
    fn beacon(
        &self,
        parent_state: &State,
        parent: &Block,
        block: &Block,
    ) -> Result<Option<[u8; 32]>, InvalidBlock> {
        let ends = parent_state.ends_epoch(block.height);
        if parent.height == 0 {
            if block.beacon.is_some() {
                return Err(InvalidBlock::Beacon {
                    what: "on the child of genesis",
                });
            }
            let mut b = BEACON_DOMAIN.to_vec();
            b.extend_from_slice(b"genesis");
            b.extend_from_slice(&self.spec.genesis.randomness);
            return Ok(ends.then(|| sha256(&b)));
        }
        match (ends, &block.beacon) {
            (false, None) => Ok(None),
            (false, Some(_)) => Err(InvalidBlock::Beacon {
                what: "on a block that ends no epoch",
            }),
            (true, None) => Err(InvalidBlock::Beacon { what: "missing" }),
            (true, Some(seed)) => {
                if seed.round != parent.context.round || seed.round.epoch() != Epoch::zero() {
                    return Err(InvalidBlock::Beacon {
                        what: "not of the parent's round",
                    });
                }
                if !seed.verify(&self.seed_verifier) {
                    return Err(InvalidBlock::Beacon {
                        what: "signature does not verify",
                    });
                }
                Ok(Some(beacon_of(seed)))
            }
        }
    }

    /// Checks and executes `block` on its parent's post-state.
    pub fn execute(
        &self,
        parent_state: &State,
        parent: &Block,
        block: &Digested<Block>,
    ) -> Result<Executed, InvalidBlock> {
        let b = block.inner();
        if b.height != parent.height.saturating_add(1) || b.parent != parent.digest() {
            return Err(InvalidBlock::NotChild {
                height: b.height,
                parent_height: parent.height,
            });
        }
        if b.timestamp_ms <= parent.timestamp_ms {
            return Err(InvalidBlock::Timestamp {
                parent: parent.timestamp_ms,
                got: b.timestamp_ms,
            });
        }
        let beacon = self.beacon(parent_state, parent, b)?;
        let mut state = parent_state.clone();
        let outcome = state.execute_block(b.height, &b.txs, beacon, &self.verifier)?;
        if outcome.root != b.state_root {
            return Err(InvalidBlock::Root {
                claimed: hex32(&b.state_root),
                computed: hex32(&outcome.root),
            });
        }
        Ok(Executed {
            block: block.clone(),
            state: Arc::new(state),
            outcome,
        })
    }

    /// Builds the block at `parent.height + 1`: takes mempool transactions
    /// that apply on `parent_state` (refused ones stay out of the block),
    /// embeds the beacon seed if the block ends an epoch, executes, and
    /// fills in the root. `None` when the seed it needs is unknown here.
    pub fn build(
        &self,
        context: crate::Context,
        parent: &Digested<Block>,
        parent_state: &State,
        timestamp_ms: u64,
    ) -> Option<Arc<Executed>> {
        let p = parent.inner();
        let height = p.height.saturating_add(1);
        let seed = if parent_state.ends_epoch(height) && p.height > 0 {
            Some(self.seed(p.view().get())?)
        } else {
            None
        };
        let candidates = self
            .lock()
            .mempool
            .candidates(MAX_BLOCK_TXS, MAX_BLOCK_TX_BYTES);
        let beacon = self
            .beacon(
                parent_state,
                p,
                &Block::new(
                    context.clone(),
                    parent.digest(),
                    height,
                    timestamp_ms,
                    seed.clone(),
                    Vec::new(),
                    [0; 32],
                ),
            )
            .ok()?;
        let mut state = parent_state.clone();
        // Refused transactions change nothing, so executing all candidates
        // and keeping the applied ones gives the state of the block that
        // holds only those.
        let mut outcome = state
            .execute_block(height, &candidates, beacon, &self.verifier)
            .ok()?;
        let txs: Vec<SignedTx> = candidates
            .into_iter()
            .zip(&outcome.receipts)
            .filter(|(_, r)| r.is_ok())
            .map(|(tx, _)| tx)
            .collect();
        outcome.receipts.retain(|r| r.is_ok());
        let block = Block::new(
            context,
            parent.digest(),
            height,
            timestamp_ms,
            seed,
            txs,
            outcome.root,
        );
        let d = block.digest();
        Some(self.remember(Executed {
            block: Digested::precomputed(block, d),
            state: Arc::new(state),
            outcome,
        }))
    }

    /// Checks a transaction against the finalized state and adds it to
    /// the mempool (with `waiter`, if any); `Ok(true)` if it was new.
    fn admit(
        &self,
        tx: SignedTx,
        waiter: Option<oneshot::Sender<Included>>,
    ) -> Result<bool, Rejected> {
        let len = tx.to_bytes().len();
        if len > crate::block::MAX_TX_BYTES {
            return Err(Rejected::TooLarge {
                len,
                max: crate::block::MAX_TX_BYTES,
            });
        }
        if !tx.signature_valid() {
            return Err(Rejected::BadSignature);
        }
        let mut g = self.lock();
        if tx.tx.chain_id != g.state.chain_id() {
            return Err(Rejected::WrongChain {
                expected: g.state.chain_id(),
                got: tx.tx.chain_id,
            });
        }
        let next = g.state.account(&tx.tx.sender()).nonce;
        if tx.tx.nonce < next {
            return Err(Rejected::StaleNonce {
                next,
                got: tx.tx.nonce,
            });
        }
        let hash = tx.hash();
        let new = !g.mempool.contains(&hash);
        if new {
            if g.mempool.len() >= MAX_MEMPOOL {
                return Err(Rejected::Full);
            }
            let dropped = g
                .mempool
                .insert(tx, &self.verifier)
                .map_err(Rejected::Refused)?;
            let height = g.tip.height;
            for (h, refusal) in dropped {
                for w in g.waiters.remove(&h).unwrap_or_default() {
                    let _ = w.send(Included {
                        height,
                        receipt: refusal_json(&h, &refusal),
                    });
                }
            }
        }
        if let Some(w) = waiter {
            g.waiters.entry(hash).or_default().push(w);
        }
        self.metrics
            .mempool
            .set(i64::try_from(g.mempool.len()).unwrap_or(i64::MAX));
        Ok(new)
    }

    /// Admits a transaction a client submitted, and gossips it to the
    /// other validators if it is new here; the receiver yields its receipt
    /// once a finalized block includes it.
    pub fn submit(&self, tx: SignedTx) -> Result<oneshot::Receiver<Included>, Rejected> {
        let bytes = tx.to_bytes();
        let (send, recv) = oneshot::channel();
        if self.admit(tx, Some(send))?
            && let Some(g) = self.gossip.get()
        {
            // A stopped gossip task only costs inclusion latency.
            let _ = g.send(bytes);
        }
        Ok(recv)
    }

    /// Admits a transaction another validator gossiped (not re-gossiped).
    pub fn admit_gossiped(&self, tx: SignedTx) -> Result<(), Rejected> {
        self.admit(tx, None).map(|_| ())
    }

    /// Where [`Chain::submit`] sends new transactions' bytes for gossip.
    pub fn set_gossip(&self, out: tokio::sync::mpsc::UnboundedSender<Vec<u8>>) {
        let _ = self.gossip.set(out);
    }

    /// Persists a finalized block and moves the tip to it. Blocks at or
    /// below the tip are redeliveries (marshal delivers at least once) and
    /// change nothing.
    pub fn finalize(&self, block: Digested<Block>) -> Result<(), ChainError> {
        let (tip, tip_block, state, cached) = {
            let g = self.lock();
            (
                g.tip,
                g.tip_block.clone(),
                g.state.clone(),
                g.executed.get(&block.digest()).cloned(),
            )
        };
        let b = block.inner();
        if b.height <= tip.height {
            return Ok(());
        }
        if b.height != tip.height + 1 || b.parent != tip_block.digest() {
            return Err(ChainError::OutOfOrder {
                height: b.height,
                tip: tip.height,
            });
        }
        let ex = match cached {
            Some(ex) if ex.block.inner().parent == tip_block.digest() => ex,
            _ => Arc::new(
                self.execute(&state, tip_block.inner(), &block)
                    .map_err(|source| ChainError::FinalizedInvalid {
                        height: b.height,
                        source,
                    })?,
            ),
        };
        let receipts: Vec<Value> = ex
            .outcome
            .receipts
            .iter()
            .enumerate()
            .map(|(i, r)| receipt_json(r, b.height, i))
            .collect();
        let tick: Vec<Value> = ex.outcome.tick_events.iter().map(event_json).collect();
        let record = json!({
            "height": b.height,
            "digest": hex::encode(block.digest()),
            "parent": hex::encode(b.parent),
            "view": b.view().get(),
            "timestamp_ms": b.timestamp_ms,
            "state_root": hex32(&b.state_root),
            "epoch": ex.state.epoch().0,
            "new_epoch": ex.outcome.new_epoch.map(|e| e.0),
            "beacon_view": b.beacon.as_ref().map(|s| s.round.view().get()),
            "txs": b.txs.iter().map(|t| hex::encode(t.hash())).collect::<Vec<_>>(),
            "receipts": receipts,
            "tick_events": tick,
        });
        // Serializing a `Value` cannot fail (no maps with non-string keys).
        let record_bytes = serde_json::to_vec(&record).unwrap_or_default();
        let tx_hashes: Vec<[u8; 32]> = b.txs.iter().map(SignedTx::hash).collect();
        let digest: [u8; 32] = block.digest().as_ref().try_into().unwrap_or([0; 32]);
        let new_tip = Tip {
            height: b.height,
            digest,
            root: b.state_root,
        };
        self.store.commit(&Commit {
            tip: new_tip,
            block: &block.inner().encode(),
            receipts: &record_bytes,
            txs: &tx_hashes,
            snapshot: &ex.state.snapshot(),
        })?;
        let applied = ex.outcome.applied();
        let refused = ex.outcome.receipts.len() - applied;
        let mut waiters = Vec::new();
        {
            let mut g = self.lock();
            g.tip = new_tip;
            g.tip_block = block.clone();
            g.state = ex.state.clone();
            g.executed.retain(|_, e| e.block.inner().height > b.height);
            let view = b.view().get();
            g.seeds = g.seeds.split_off(&view);
            for (i, h) in tx_hashes.iter().enumerate() {
                if let Some(w) = g.waiters.remove(h) {
                    waiters.push((w, receipts.get(i).cloned().unwrap_or(Value::Null)));
                }
            }
            // The pending state: the new finalized state plus what is left
            // in the mempool. What the ledger refuses now (funds spent
            // meanwhile, a deadline passed) leaves with its reason; what a
            // finalized nonce made stale leaves, and its waiters hear so.
            let st = g.state.clone();
            let (_stale, dropped) = g.mempool.reset(&st, &tx_hashes, &self.verifier);
            for (h, refusal) in dropped {
                if let Some(w) = g.waiters.remove(&h) {
                    waiters.push((w, refusal_json(&h, &refusal)));
                }
            }
            let Inner {
                mempool,
                waiters: ws,
                ..
            } = &mut *g;
            ws.retain(|h, _| mempool.contains(h));
            self.metrics
                .mempool
                .set(i64::try_from(g.mempool.len()).unwrap_or(i64::MAX));
        }
        for (ws, receipt) in waiters {
            for w in ws {
                let _ = w.send(Included {
                    height: b.height,
                    receipt: receipt.clone(),
                });
            }
        }
        self.metrics
            .height
            .set(i64::try_from(b.height).unwrap_or(i64::MAX));
        self.metrics
            .epoch
            .set(i64::try_from(ex.state.epoch().0).unwrap_or(i64::MAX));
        self.metrics.txs_applied.inc_by(applied as u64);
        self.metrics.txs_refused.inc_by(refused as u64);
        // No subscriber is fine.
        let _ = self.events.send(Arc::new(record));
        Ok(())
    }

    /// The round of the tip block (for logs).
    pub fn tip_round(&self) -> Round {
        self.lock().tip_block.inner().context.round
    }
}

#[cfg(test)]
#[path = "chain_tests.rs"]
mod tests;

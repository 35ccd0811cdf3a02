//! The glue between commonware and the chain: the [`App`] that simplex
//! (through `marshal::standard::Deferred`) asks to propose and verify
//! blocks, the [`SeedTap`] reporter that records every certified view's
//! threshold seed before passing consensus activity on to marshal, and the
//! [`Finalizer`] that receives finalized blocks from marshal in height
//! order, persists them, and only then acknowledges them.
//!
//! Flow of one block: the leader's `App::propose` waits out the block time
//! after its parent, builds on the parent's post-state ([`Chain::build`])
//! and hands the block to Deferred, which broadcasts it (marshal's buffer).
//! Every validator's `App::verify` re-executes it on the parent's
//! post-state and compares the root. Once simplex finalizes it, marshal
//! delivers it to the `Finalizer` (after a restart or a gap, from its
//! archive or by backfill from peers), which writes it and its state to
//! RocksDB in one synced batch and acknowledges.

use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use commonware_actor::Feedback;
use commonware_consensus::marshal::Update;
use commonware_consensus::marshal::ancestry::Ancestry;
use commonware_consensus::simplex::scheme::bls12381_threshold::vrf::Seedable as _;
use commonware_consensus::simplex::types::Activity;
use commonware_consensus::{Application, Reporter};
use commonware_cryptography::{Digested, Digestible};
use commonware_runtime::Clock;
use commonware_utils::Acknowledgement as _;
use commonware_utils::acknowledgement::Exact;
use futures::StreamExt as _;
use tokio::sync::mpsc;
use tracing::{debug, warn};

use crate::block::Block;
use crate::chain::{Chain, MAX_FUTURE_MS};
use crate::{Context, Digest, Scheme};

/// Target time between a block and its child.
pub const BLOCK_TIME: Duration = Duration::from_secs(1);

fn now_ms(clock: &impl Clock) -> u64 {
    clock
        .current()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// The application simplex drives.
#[derive(Debug, Clone)]
pub struct App {
    chain: Arc<Chain>,
}

impl App {
    /// An application over `chain`.
    pub fn new(chain: Arc<Chain>) -> Self {
        Self { chain }
    }

    /// The post-state of the first block of `ancestry`, replaying the
    /// blocks between it and the newest state this validator knows (the
    /// finalized tip or an executed block). `None` if the ancestry does not
    /// reach a known state above the finalized height, or a block on the
    /// way does not execute.
    async fn state_on(
        &self,
        mut ancestry: impl Ancestry<Block>,
    ) -> Option<(Digested<Block>, Arc<State>)> {
        let first = ancestry.peek()?.clone();
        let finalized = self.chain.finalized_height();
        let mut pending = Vec::new();
        let (mut prev, mut prev_state) = loop {
            let b = ancestry.next().await?;
            if let Some(st) = self.chain.state_of(&b.digest()) {
                break (b, st);
            }
            if b.inner().height <= finalized {
                // Below the finalized tip and not on it: a fork.
                return None;
            }
            pending.push(b);
        };
        while let Some(b) = pending.pop() {
            match self.chain.execute(&prev_state, prev.inner(), &b) {
                Ok(ex) => {
                    let ex = self.chain.remember(ex);
                    prev_state = ex.state.clone();
                    prev = b;
                }
                Err(e) => {
                    warn!(height = b.inner().height, error = %e, "ancestor does not execute");
                    return None;
                }
            }
        }
        debug_assert_eq!(prev.digest(), first.digest());
        Some((first, prev_state))
    }
}

use cairn_ledger::State;

impl<E> Application<E> for App
where
    E: Clock + Send + Sync + 'static,
{
    type SigningScheme = Scheme;
    type Context = Context;
    type Block = Block;
    type Input = ();

    async fn propose(
        &mut self,
        (clock, context): (E, Context),
        ancestry: impl Ancestry<Block>,
        _input: (),
    ) -> Option<Digested<Block>> {
        let (parent, parent_state) = self.state_on(ancestry).await?;
        let target = parent
            .inner()
            .timestamp_ms
            .saturating_add(u64::try_from(BLOCK_TIME.as_millis()).unwrap_or(1000));
        let now = now_ms(&clock);
        if now < target {
            clock.sleep(Duration::from_millis(target - now)).await;
        }
        let timestamp_ms = now_ms(&clock).max(parent.inner().timestamp_ms.saturating_add(1));
        let Some(ex) = self
            .chain
            .build(context, &parent, &parent_state, timestamp_ms)
        else {
            warn!(
                height = parent.inner().height + 1,
                "cannot build: the parent view's seed is unknown here"
            );
            return None;
        };
        debug!(
            height = ex.block.inner().height,
            txs = ex.block.inner().txs.len(),
            "proposed"
        );
        Some(ex.block.clone())
    }

    async fn verify(
        &mut self,
        (clock, _context): (E, Context),
        mut ancestry: impl Ancestry<Block>,
    ) -> bool {
        let Some(block) = ancestry.next().await else {
            return false;
        };
        if self.chain.executed(&block.digest()).is_some() {
            return true;
        }
        if block.inner().timestamp_ms > now_ms(&clock).saturating_add(MAX_FUTURE_MS) {
            warn!(height = block.inner().height, "block from the future");
            return false;
        }
        let Some((parent, parent_state)) = self.state_on(ancestry).await else {
            return false;
        };
        match self.chain.execute(&parent_state, parent.inner(), &block) {
            Ok(ex) => {
                self.chain.remember(ex);
                true
            }
            Err(e) => {
                warn!(height = block.inner().height, error = %e, "invalid block");
                false
            }
        }
    }
}

/// Records each certified view's seed, then forwards the activity.
#[derive(Debug, Clone)]
pub struct SeedTap<R> {
    chain: Arc<Chain>,
    inner: R,
}

impl<R> SeedTap<R> {
    /// Taps `inner`.
    pub fn new(chain: Arc<Chain>, inner: R) -> Self {
        Self { chain, inner }
    }
}

impl<R> Reporter for SeedTap<R>
where
    R: Reporter<Activity = Activity<Scheme, Digest>>,
{
    type Activity = Activity<Scheme, Digest>;

    fn report(&mut self, activity: Self::Activity) -> Feedback {
        match &activity {
            Activity::Notarization(n) | Activity::Certification(n) => {
                self.chain.record_seed(n.seed());
            }
            Activity::Finalization(f) => self.chain.record_seed(f.seed()),
            _ => {}
        }
        self.inner.report(activity)
    }
}

/// Hands marshal's finalized blocks to the finalizer task.
#[derive(Debug, Clone)]
pub struct Finalizer {
    tx: mpsc::UnboundedSender<(Digested<Block>, Exact)>,
}

impl Finalizer {
    /// The reporter and the receiving end its task drains.
    pub fn new() -> (Self, mpsc::UnboundedReceiver<(Digested<Block>, Exact)>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (Self { tx }, rx)
    }
}

impl Reporter for Finalizer {
    type Activity = Update<Block>;

    fn report(&mut self, activity: Self::Activity) -> Feedback {
        match activity {
            Update::Block(block, ack) => {
                if self.tx.send((block, ack)).is_err() {
                    return Feedback::Closed;
                }
            }
            Update::Tip(..) => {}
        }
        Feedback::Ok
    }
}

/// Drains finalized blocks: persist, then acknowledge. Returns on a store
/// or execution failure (the validator must stop), or when marshal stops.
pub async fn run_finalizer(
    chain: Arc<Chain>,
    mut rx: mpsc::UnboundedReceiver<(Digested<Block>, Exact)>,
) -> Result<(), crate::chain::ChainError> {
    while let Some((block, ack)) = rx.recv().await {
        chain.finalize(block)?;
        ack.acknowledge();
    }
    Ok(())
}

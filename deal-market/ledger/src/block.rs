//! Executing one block: the step that the proposer, every verifier and the
//! finalizer of the consensus shell all run, so a block whose state root is
//! wrong is never certified.
//!
//! A block at height `h` (heights start at 1; genesis is height 0) runs at
//! epoch `(h - 1) / blocks_per_epoch`: its transactions are applied in
//! order with [`State::apply_tx`], then, when `h` is a multiple of
//! `blocks_per_epoch`, the epoch ends and [`State::tick`] begins epoch
//! `h / blocks_per_epoch` with the beacon value the block carries. So after
//! block `h` the state is at epoch `h / blocks_per_epoch`, exactly one tick
//! per boundary, and a block that does not end an epoch carries no beacon.
//!
//! Everything that can refuse a block is checked before the first
//! transaction runs: a refused block leaves the state untouched. A refused
//! *transaction* does not refuse its block: it is receipted with its reason
//! and changes nothing (see `apply`).

use crate::cron::TickError;
use crate::event::{Event, Receipt};
use crate::ids::Epoch;
use crate::state::State;
use crate::tx::SignedTx;
use crate::verifier::ProofVerifier;

/// Why a block cannot be executed on a state.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BlockError {
    /// Height 0 is genesis, never executed.
    #[error("block height 0 is genesis")]
    Genesis,
    /// The state is not the post-state of height `height - 1`: its epoch
    /// is not the block's.
    #[error("block {height} runs at epoch {expected}, but the state is at epoch {state}")]
    WrongEpoch {
        /// The block's height.
        height: u64,
        /// The epoch the block runs at.
        expected: Epoch,
        /// The state's epoch.
        state: Epoch,
    },
    /// The block ends an epoch but carries no beacon value.
    #[error("block {height} ends epoch {ends} but carries no beacon")]
    MissingBeacon {
        /// The block's height.
        height: u64,
        /// The epoch it ends.
        ends: Epoch,
    },
    /// The epoch tick refused (unreachable for a state at the block's
    /// epoch; kept as a value rather than a panic).
    #[error("epoch tick: {0}")]
    Tick(#[source] TickError),
    /// The block does not end an epoch but carries a beacon value.
    #[error("block {height} does not end an epoch but carries a beacon")]
    UnexpectedBeacon {
        /// The block's height.
        height: u64,
    },
}

/// What executing a block produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockOutcome {
    /// One per transaction, in block order (refusals included).
    pub receipts: Vec<Receipt>,
    /// The epoch tick's events, when the block ended an epoch.
    pub tick_events: Vec<Event>,
    /// The epoch the block began, when it ended one.
    pub new_epoch: Option<Epoch>,
    /// [`State::root`] after the block.
    pub root: [u8; 32],
}

impl BlockOutcome {
    /// How many of its transactions were applied (not refused).
    pub fn applied(&self) -> usize {
        self.receipts.iter().filter(|r| r.is_ok()).count()
    }
}

impl State {
    /// The epoch a block at `height` (≥ 1) runs at.
    pub fn block_epoch(&self, height: u64) -> Epoch {
        Epoch(height.saturating_sub(1) / self.params.blocks_per_epoch.max(1))
    }

    /// Whether the block at `height` ends an epoch (and so needs a beacon).
    pub fn ends_epoch(&self, height: u64) -> bool {
        height > 0 && height.is_multiple_of(self.params.blocks_per_epoch.max(1))
    }

    /// Executes the block at `height` on this state, which must be the
    /// post-state of height `height - 1`: `txs` in order, then the epoch
    /// tick with `beacon` if the block ends an epoch.
    pub fn execute_block(
        &mut self,
        height: u64,
        txs: &[SignedTx],
        beacon: Option<[u8; 32]>,
        verifier: &dyn ProofVerifier,
    ) -> Result<BlockOutcome, BlockError> {
        if height == 0 {
            return Err(BlockError::Genesis);
        }
        let expected = self.block_epoch(height);
        if self.epoch != expected {
            return Err(BlockError::WrongEpoch {
                height,
                expected,
                state: self.epoch,
            });
        }
        let ends = self.ends_epoch(height);
        let beacon = match (ends, beacon) {
            (true, Some(b)) => Some(b),
            (true, None) => {
                return Err(BlockError::MissingBeacon {
                    height,
                    ends: expected,
                });
            }
            (false, Some(_)) => return Err(BlockError::UnexpectedBeacon { height }),
            (false, None) => None,
        };
        let receipts = txs.iter().map(|tx| self.apply_tx(tx, verifier)).collect();
        let mut tick_events = Vec::new();
        let mut new_epoch = None;
        if let Some(b) = beacon {
            let next = expected.plus(1);
            // `self.epoch == expected` was checked above and transactions
            // never move the epoch, so this is the next epoch.
            tick_events = self.tick(next, b).map_err(BlockError::Tick)?;
            new_epoch = Some(next);
        }
        Ok(BlockOutcome {
            receipts,
            tick_events,
            new_epoch,
            root: self.root(),
        })
    }
}

//! The worker's transactions (PreCommit, ProveCommit, WindowPoSt,
//! recoveries), one at a time: the sealing and proving tasks share the
//! worker key, so its nonces must not race.

use cairn_ledger::tx::TxBody;
use cairn_types::keys::Keypair;
use cairn_types::ledger::{LedgerClient, Submitted};
use serde_json::Value;
use std::time::Duration;

/// Why a transaction did not take effect.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SubmitError {
    /// The ledger refused it (admission or execution), with its reason.
    #[error("refused: {0}")]
    Refused(String),
    /// Admitted but not final in time; it may still land.
    #[error("admitted, not final yet")]
    Pending,
    /// The ledger could not be reached or answered oddly.
    #[error("ledger: {0}")]
    Ledger(String),
}

/// What a submitted transaction's receipt said.
#[derive(Debug, Clone)]
pub struct Landed {
    /// Its events.
    pub events: Vec<Value>,
    /// The epoch it took effect at (from the receipt's height).
    pub epoch: Option<u64>,
}

/// Signs and submits the worker's transactions in nonce order.
#[derive(Debug)]
pub struct Submitter {
    key: Keypair,
    ledger: LedgerClient,
    lock: tokio::sync::Mutex<()>,
}

impl Submitter {
    /// A submitter for the worker `key`.
    pub fn new(key: Keypair, ledger: LedgerClient) -> Self {
        Self {
            key,
            ledger,
            lock: tokio::sync::Mutex::new(()),
        }
    }

    /// Submits `body` and waits for its receipt. `blocks_per_epoch` turns
    /// the receipt's height into an epoch.
    pub async fn submit(&self, body: TxBody, blocks_per_epoch: u64) -> Result<Landed, SubmitError> {
        let _one = self.lock.lock().await;
        let ledger = |e: cairn_types::ledger::LedgerError| SubmitError::Ledger(e.to_string());
        let status = self.ledger.status().await.map_err(ledger)?;
        let addr = self.key.address();
        let nonce = self.ledger.account(&addr).await.map_err(ledger)?.nonce;
        let tx = self.key.sign_tx(status.chain_id, nonce, body);
        match self.ledger.submit(&tx).await.map_err(ledger)? {
            Submitted::Receipt(r) if r.get("ok").and_then(Value::as_bool) == Some(true) => {
                let events = r
                    .get("events")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                let epoch = r
                    .get("height")
                    .and_then(Value::as_u64)
                    .map(|h| h.saturating_sub(1) / blocks_per_epoch.max(1));
                Ok(Landed { events, epoch })
            }
            s @ (Submitted::Receipt(_) | Submitted::Refused(_)) => Err(SubmitError::Refused(
                s.events().err().unwrap_or_else(|| "refused".into()),
            )),
            Submitted::Pending(_) => {
                // Hold the nonce until the transaction is final (or
                // dropped), so the next one does not reuse it.
                for _ in 0..60 {
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    if let Ok(a) = self.ledger.account(&addr).await
                        && a.nonce > nonce
                    {
                        break;
                    }
                }
                Err(SubmitError::Pending)
            }
        }
    }
}

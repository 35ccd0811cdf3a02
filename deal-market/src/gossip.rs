//! Transaction gossip between validators: a transaction a client submits
//! to one validator's API is sent to every other validator on p2p channel
//! 5, so whichever validator leads the next view can include it (the
//! leader is random; without gossip a transaction waits for the view its
//! own validator leads).
//!
//! Gossiped transactions pass the same admission checks as submitted ones
//! (size, signature, chain id, nonce not yet used) and are not gossiped
//! again: every validator hears from the submitter directly, since the
//! peer set is the whole committee.

use std::sync::Arc;

use cairn_ledger::SignedTx;
use cairn_ledger::codec::Decode as _;
use commonware_p2p::{Receiver, Recipients, Sender};
use tokio::sync::mpsc;
use tracing::debug;

use crate::PublicKey;
use crate::chain::Chain;

/// Sends what `out` yields to all peers and admits what peers send, until
/// either side closes.
pub async fn run(
    chain: Arc<Chain>,
    mut out: mpsc::UnboundedReceiver<Vec<u8>>,
    (mut sender, mut receiver): (
        impl Sender<PublicKey = PublicKey>,
        impl Receiver<PublicKey = PublicKey>,
    ),
) {
    loop {
        // `biased`: tokio's default picks a branch at random, which would
        // make the deterministic simulation depend on the host.
        tokio::select! {
            biased;
            m = out.recv() => {
                let Some(bytes) = m else { return };
                sender.send(Recipients::All, bytes, false);
            }
            r = receiver.recv() => {
                let Ok((peer, buf)) = r else { return };
                match SignedTx::from_bytes(buf.as_ref()) {
                    Ok(tx) => {
                        if let Err(e) = chain.admit_gossiped(tx) {
                            debug!(%peer, error = %e, "gossiped transaction not admitted");
                        }
                    }
                    Err(e) => debug!(%peer, error = %e, "undecodable gossiped transaction"),
                }
            }
        }
    }
}

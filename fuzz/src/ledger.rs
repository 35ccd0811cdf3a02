//! Target `ledger_tx`: a signed ledger transaction from outside bytes
//! (`cairn_ledger::SignedTx::from_bytes`, what every validator decodes
//! from its peers and its API).
//!
//! Oracle:
//! - no panic, whatever the bytes (decoding is bounded and total);
//! - the codec is canonical: a decoded transaction re-encodes to exactly
//!   its input;
//! - checking its signature and hashing it never panic, and the hash is
//!   a function of the bytes.

use cairn_ledger::SignedTx;
use cairn_ledger::codec::{Decode, Encode};

/// The `ledger_tx` target.
pub fn ledger_tx(data: &[u8]) {
    let Ok(tx) = SignedTx::from_bytes(data) else {
        return;
    };
    assert!(
        tx.to_bytes() == data,
        "SignedTx decoded from non-canonical bytes:\n {}",
        hex::encode(data)
    );
    let _ = tx.signature_valid();
    let again = SignedTx::from_bytes(data).map(|t| t.hash());
    assert_eq!(
        again.ok(),
        Some(tx.hash()),
        "a transaction's hash changed between two decodings"
    );
}

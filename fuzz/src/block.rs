//! Target `validator_block`: a deal-market block from outside bytes
//! (`cairn_deal_market::block::Block` through commonware's codec, what every
//! validator decodes from marshal's broadcast and backfill).
//!
//! Oracle:
//! - no panic and bounded allocation, whatever the bytes (the transaction
//!   count and sizes are checked before anything is allocated for them);
//! - the codec is canonical: a decoded block re-encodes to exactly its
//!   input, so one block has one encoding and one digest;
//! - the digest is a function of the block: decoding the same bytes twice
//!   gives the same digest, and every transaction in it is one the ledger's
//!   own decoder accepts on its own.

use cairn_deal_market::block::Block;
use cairn_ledger::SignedTx;
use cairn_ledger::codec::{Decode as _, Encode as _};
use commonware_codec::{DecodeExt as _, Encode as _};
use commonware_cryptography::Digestible as _;

/// The `validator_block` target.
pub fn validator_block(data: &[u8]) {
    let Ok(block) = Block::decode(bytes::Bytes::copy_from_slice(data)) else {
        return;
    };
    let again = block.encode();
    assert!(
        again.as_ref() == data,
        "Block decoded from non-canonical bytes:\n {}",
        hex::encode(data)
    );
    let second = Block::decode(bytes::Bytes::copy_from_slice(data)).map(|b| b.digest());
    assert_eq!(
        second.ok(),
        Some(block.digest()),
        "a block's digest changed between two decodings"
    );
    for tx in &block.txs {
        let bytes = tx.to_bytes();
        assert!(
            SignedTx::from_bytes(&bytes).is_ok(),
            "a block holds a transaction the ledger's decoder refuses"
        );
    }
}

//! `State::execute_block`: determinism, refusals inside a block, and the
//! one-tick-per-epoch-boundary rule.

mod common;

use cairn_ledger::*;
use common::*;

fn params(blocks_per_epoch: u64) -> Params {
    Params {
        blocks_per_epoch,
        ..Params::devnet()
    }
}

struct World {
    kit: Kit,
    alice: ed25519_dalek::SigningKey,
    bob: ed25519_dalek::SigningKey,
}

fn world(blocks_per_epoch: u64) -> World {
    let alice = key(1);
    let bob = key(2);
    let g = genesis(
        &[(addr(&alice), 1_000_000), (addr(&bob), 1_000)],
        1_000_000,
        params(blocks_per_epoch),
    );
    World {
        kit: Kit::new(&g),
        alice,
        bob,
    }
}

fn transfer(kit: &Kit, from: &ed25519_dalek::SigningKey, to: Address, nonce: u64) -> SignedTx {
    let mut tx = kit.signed(from, TxBody::Transfer { to, amount: 10 });
    tx.tx.nonce = nonce;
    let sig = sign_with(from, tx::TX_DOMAIN, &codec::Encode::to_bytes(&tx.tx));
    tx.signature = sig;
    tx
}

#[test]
fn same_inputs_give_the_same_root() {
    let w = world(3);
    let txs: Vec<_> = (0..5)
        .map(|n| transfer(&w.kit, &w.alice, addr(&w.bob), n))
        .collect();
    let mut a = w.kit.state.clone();
    let mut b = w.kit.state.clone();
    let ra = a.execute_block(1, &txs, None, &HashVerifier).unwrap();
    let rb = b.execute_block(1, &txs, None, &HashVerifier).unwrap();
    assert_eq!(ra, rb);
    assert_eq!(ra.root, a.root());
    assert_eq!(a, b);
    assert_eq!(ra.applied(), 5);
    assert_eq!(a.account(&addr(&w.bob)).balance, 1_050);
    // Other order: the nonces refuse all but the first, so another root.
    let mut c = w.kit.state.clone();
    let rev: Vec<_> = txs.iter().rev().cloned().collect();
    let rc = c.execute_block(1, &rev, None, &HashVerifier).unwrap();
    assert_eq!(rc.applied(), 1);
    assert_ne!(rc.root, ra.root);
}

#[test]
fn refused_txs_are_receipted_and_change_nothing() {
    let w = world(3);
    let before = w.kit.state.clone();
    // Nonce 5 is a replay from the future; a bad signature; an overdraft.
    let future = transfer(&w.kit, &w.alice, addr(&w.bob), 5);
    let mut forged = transfer(&w.kit, &w.alice, addr(&w.bob), 0);
    forged.signature.0[0] ^= 1;
    let overdraft = w.kit.signed(
        &w.bob,
        TxBody::Transfer {
            to: addr(&w.alice),
            amount: 1_001,
        },
    );
    let mut s = w.kit.state.clone();
    let out = s
        .execute_block(1, &[future, forged, overdraft], None, &HashVerifier)
        .unwrap();
    assert_eq!(out.receipts.len(), 3);
    assert!(matches!(
        out.receipts[0].result,
        Err(Refusal::BadNonce {
            expected: 0,
            got: 5
        })
    ));
    assert_eq!(out.receipts[1].result, Err(Refusal::BadSignature));
    assert!(out.receipts[2].result.is_err());
    assert_eq!(out.applied(), 0);
    // Nothing moved: the state is the parent's, root included.
    assert_eq!(out.root, before.root());
    assert_eq!(s, before);
}

#[test]
fn each_epoch_boundary_ticks_exactly_once() {
    // (blocks per epoch, height, ends an epoch?, epoch after the block)
    let rows: &[(u64, u64, bool, u64)] = &[
        (1, 1, true, 1),
        (3, 1, false, 0),
        (3, 2, false, 0),
        (3, 3, true, 1),
        (3, 4, false, 1),
        (3, 6, true, 2),
    ];
    for &(bpe, height, ends, epoch_after) in rows {
        let mut s = world(bpe).kit.state;
        for h in 1..height {
            let b = s.ends_epoch(h).then(|| beacon(h));
            s.execute_block(h, &[], b, &HashVerifier).unwrap();
        }
        assert_eq!(s.ends_epoch(height), ends, "row {bpe}/{height}");
        let out = s
            .execute_block(height, &[], ends.then(|| beacon(height)), &HashVerifier)
            .unwrap();
        assert_eq!(s.epoch(), Epoch(epoch_after), "row {bpe}/{height}");
        assert_eq!(out.new_epoch.is_some(), ends, "row {bpe}/{height}");
        if ends {
            assert_eq!(s.randomness(Epoch(epoch_after)), Some(beacon(height)));
        }
    }
}

#[test]
fn the_beacon_must_match_the_boundary_and_the_height_the_state() {
    let w = world(2);
    let mut s = w.kit.state.clone();
    let before = s.clone();
    assert_eq!(
        s.execute_block(2, &[], None, &HashVerifier),
        Err(BlockError::MissingBeacon {
            height: 2,
            ends: Epoch(0)
        })
    );
    assert_eq!(
        s.execute_block(1, &[], Some([7; 32]), &HashVerifier),
        Err(BlockError::UnexpectedBeacon { height: 1 })
    );
    assert_eq!(
        s.execute_block(3, &[], None, &HashVerifier),
        Err(BlockError::WrongEpoch {
            height: 3,
            expected: Epoch(1),
            state: Epoch(0)
        })
    );
    assert_eq!(
        s.execute_block(0, &[], None, &HashVerifier),
        Err(BlockError::Genesis)
    );
    assert_eq!(s, before, "a refused block changes nothing");
    // A tick pays the epoch's reward only once, however the block is made:
    // two blocks at heights 1 and 2 tick once (bpe = 2).
    s.execute_block(1, &[], None, &HashVerifier).unwrap();
    let out = s
        .execute_block(2, &[], Some([9; 32]), &HashVerifier)
        .unwrap();
    assert_eq!(out.new_epoch, Some(Epoch(1)));
    assert_eq!(s.epoch(), Epoch(1));
    assert_eq!(s.total_tokens(), Some(s.supply()));
}

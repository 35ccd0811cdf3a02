//! Snapshots: round trip after real activity, and refusals of foreign or
//! damaged bytes. (The property test in `invariants.rs` round-trips the
//! state after every random sequence.)

mod common;

use cairn_ledger::*;
use common::*;

#[test]
fn round_trip_and_refusals() {
    let (a, b) = (key(1), key(2));
    let g = genesis(&[(addr(&a), 1_000_000)], 1_000_000, Params::devnet());
    let mut kit = Kit::new(&g);
    kit.ok(
        &a,
        TxBody::Transfer {
            to: addr(&b),
            amount: 5,
        },
    );
    kit.ok(&a, TxBody::EscrowAdd { amount: 70 });
    kit.tick_to(3);
    let bytes = kit.state.snapshot();
    let back = State::from_snapshot(&g, &bytes).unwrap();
    assert_eq!(back, kit.state);
    assert_eq!(back.root(), kit.state.root());

    let mut other = g.clone();
    other.chain_id += 1;
    assert!(matches!(
        State::from_snapshot(&other, &bytes),
        Err(SnapshotError::OtherGenesis { .. })
    ));
    assert_eq!(
        State::from_snapshot(&g, b"not a snapshot"),
        Err(SnapshotError::Version)
    );
    assert!(matches!(
        State::from_snapshot(&g, &bytes[..bytes.len() - 1]),
        Err(SnapshotError::Decode(_))
    ));
    let mut long = bytes.clone();
    long.push(0);
    assert!(matches!(
        State::from_snapshot(&g, &long),
        Err(SnapshotError::Decode(_))
    ));
}

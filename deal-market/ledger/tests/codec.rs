//! The transaction codec: round trips, one encoding per value, and total
//! decoding of arbitrary bytes (no panic, only `Ok` or `DecodeError`).

mod common;

use cairn_ledger::codec::{Decode, Encode};
use cairn_ledger::*;
use common::*;
use proptest::prelude::*;

fn sample_txs() -> Vec<SignedTx> {
    let (c, w) = (key(1), key(2));
    let kit = Kit::new(&genesis(&[(addr(&c), 10)], 0, Params::devnet()));
    let mut p = proposal(&c, ProviderId(1), 3, 20, 90);
    p.label = b"bafy".to_vec();
    let bodies = vec![
        TxBody::Transfer {
            to: addr(&w),
            amount: 5,
        },
        TxBody::EscrowAdd { amount: u128::MAX },
        TxBody::EscrowWithdraw { amount: 1 },
        TxBody::RegisterProvider(Registration {
            worker: pubkey(&w),
            peer_id: vec![1, 2],
            multiaddrs: vec!["/ip4/1.2.3.4/tcp/1".into(), "/dns/x/tcp/2".into()],
            seal_proof: P2K,
            price_per_byte_epoch: 3,
            capacity: 1 << 30,
            collateral: 4,
        }),
        TxBody::AddCollateral {
            provider: ProviderId(1),
            amount: 2,
        },
        TxBody::WithdrawCollateral {
            provider: ProviderId(1),
            amount: 2,
        },
        TxBody::PublishDeals {
            deals: vec![deal(&c, &w, p)],
            manifest: Some(Manifest {
                root: b"\x01\x70\x12\x20root".to_vec(),
                car_len: 1000,
                segment_size: 512,
                k: 1,
                m: 1,
                shards: vec![vec![piece(3)], vec![piece(4), piece(5)]],
            }),
        },
        TxBody::PreCommitSector {
            provider: ProviderId(1),
            sector: SectorNumber(2),
            deals: vec![DealId(1), DealId(2)],
            comm_r: CommR([3; 32]),
            ticket_epoch: Epoch(4),
            expiration: Epoch(5),
            deposit: 6,
        },
        TxBody::ProveCommitSector {
            provider: ProviderId(1),
            sector: SectorNumber(2),
            proof: vec![7; 192],
        },
        TxBody::SubmitWindowPost {
            provider: ProviderId(1),
            deadline: 3,
            proof: vec![8; 384],
        },
        TxBody::DeclareRecovery {
            provider: ProviderId(1),
            sectors: vec![SectorNumber(9)],
        },
        TxBody::DeclareFaults {
            provider: ProviderId(1),
            sectors: vec![SectorNumber(9), SectorNumber(11)],
        },
        TxBody::UpdateProvider {
            provider: ProviderId(1),
            peer_id: vec![0, 36, 8, 1],
            multiaddrs: vec!["/ip4/127.0.0.1/udp/4001/quic-v1".into()],
            price_per_byte_epoch: 5,
            capacity: 1 << 34,
        },
    ];
    bodies.into_iter().map(|b| kit.signed(&c, b)).collect()
}

#[test]
fn every_kind_round_trips_and_signs() {
    for tx in sample_txs() {
        let bytes = tx.to_bytes();
        let back = SignedTx::from_bytes(&bytes).unwrap();
        assert_eq!(back, tx);
        assert_eq!(back.to_bytes(), bytes);
        assert!(back.signature_valid());
        // Every strict prefix is refused, and so is a trailing byte.
        for n in 0..bytes.len() {
            assert!(SignedTx::from_bytes(&bytes[..n]).is_err(), "prefix {n}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(SignedTx::from_bytes(&longer).is_err());
    }
}

proptest! {
    /// Arbitrary bytes decode or are refused; whatever decodes re-encodes
    /// to exactly the same bytes (one encoding per value).
    #[test]
    fn decoding_is_total_and_canonical(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        if let Ok(tx) = SignedTx::from_bytes(&bytes) {
            prop_assert_eq!(tx.to_bytes(), bytes);
        }
    }

    /// Mutating one byte of a valid transaction never panics the decoder,
    /// and a mutant that decodes re-encodes to itself.
    #[test]
    fn mutants_decode_canonically(i in any::<prop::sample::Index>(), pick in 0usize..11, x in 1u8..=255) {
        let txs = sample_txs();
        let mut bytes = txs[pick % txs.len()].to_bytes();
        let at = i.index(bytes.len());
        bytes[at] ^= x;
        if let Ok(tx) = SignedTx::from_bytes(&bytes) {
            prop_assert_eq!(tx.to_bytes(), bytes);
        }
    }
}

/// Writes the `ledger_tx` fuzz target's seed corpus: every kind of
/// transaction, signed. Run by hand after a format change:
/// `cargo test -p cairn-ledger --test codec -- --ignored write_fuzz_seeds`.
#[test]
#[ignore = "writes fuzz/corpus/ledger_tx"]
fn write_fuzz_seeds() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/ledger_tx");
    std::fs::create_dir_all(&dir).unwrap();
    for (i, tx) in sample_txs().iter().enumerate() {
        std::fs::write(dir.join(format!("kind-{i:02}")), tx.to_bytes()).unwrap();
    }
}

//! Every protocol message round-trips through its frame; malformed,
//! truncated and oversized frames are refused with the reason.

use cairn_ledger::codec::{Decode, DecodeError, Encode};
use cairn_ledger::tx::CLIENT_DEAL_DOMAIN;
use cairn_ledger::{CommP, DealProposal, Epoch, ProviderId, Signature};
use cairn_types::frame::{self, FrameError};
use cairn_types::keys::Keypair;
use cairn_types::{
    Ask, ClientDeal, DealRefusal, DealRequest, DealResponse, MAX_CHUNK, MAX_MESSAGE, ProposalId,
    RetrieveRefusal, RetrieveRequest, RetrieveResponse,
};

fn client_deal(k: &Keypair) -> ClientDeal {
    let proposal = DealProposal {
        piece: CommP([7; 32]),
        piece_size: 2048,
        client: k.address(),
        provider: ProviderId(3),
        label: b"bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi".to_vec(),
        start: Epoch(100),
        end: Epoch(1100),
        price_per_epoch: 2048,
        provider_collateral: 10,
        client_collateral: 0,
    };
    let client_sig = k.sign(CLIENT_DEAL_DOMAIN, &proposal.to_bytes());
    ClientDeal {
        proposal,
        client_key: k.public_key(),
        client_sig,
    }
}

fn requests() -> Vec<DealRequest> {
    let k = Keypair::from_secret([1; 32]);
    let id = ProposalId([9; 32]);
    vec![
        DealRequest::Ask,
        DealRequest::Propose(client_deal(&k)),
        DealRequest::Push {
            deal: id,
            offset: 1 << 20,
            data: vec![0xab; MAX_CHUNK],
        },
        DealRequest::Status { deal: id },
        DealRequest::Finish { deal: id },
    ]
}

fn responses() -> Vec<DealResponse> {
    let id = ProposalId([9; 32]);
    let mut out = vec![
        DealResponse::Ask(Ask {
            provider: ProviderId(3),
            price_per_byte_epoch: 1,
            sector_size: 8 << 20,
            free_bytes: 1 << 40,
            epoch: Epoch(5),
            start_delay: 100,
        }),
        DealResponse::Accepted {
            deal: id,
            received: 77,
        },
        DealResponse::Received {
            deal: id,
            received: 78,
        },
        DealResponse::Signed {
            deal: id,
            provider_sig: Signature([5; 64]),
        },
    ];
    let refusals = vec![
        DealRefusal::BadSignature,
        DealRefusal::WrongProvider {
            ours: ProviderId(1),
            named: ProviderId(2),
        },
        DealRefusal::PriceBelowAsk {
            ask: 10,
            offered: 9,
        },
        DealRefusal::BadPieceSize {
            size: 100,
            sector_size: 2048,
        },
        DealRefusal::NoCapacity { free: 1, needed: 2 },
        DealRefusal::StartTooSoon {
            earliest: Epoch(10),
            start: Epoch(9),
        },
        DealRefusal::StartTooLate {
            latest: Epoch(1010),
            start: Epoch(5000),
        },
        DealRefusal::BadDuration {
            duration: 1,
            min: 2,
            max: 3,
        },
        DealRefusal::CollateralUnavailable { free: 1, needed: 2 },
        DealRefusal::Replayed(id),
        DealRefusal::UnknownDeal(id),
        DealRefusal::WrongOffset {
            expected: 5,
            got: 6,
        },
        DealRefusal::TooMuchData {
            capacity: 2032,
            got: 2033,
        },
        DealRefusal::PieceMismatch {
            expected: CommP([1; 32]),
            actual: CommP([2; 32]),
        },
        DealRefusal::Busy,
        DealRefusal::Internal("disk full".into()),
        DealRefusal::Malformed("message of 5000000 bytes exceeds the 1052672 byte limit".into()),
    ];
    out.extend(refusals.into_iter().map(DealResponse::Refused));
    out
}

fn retrieve_responses() -> Vec<RetrieveResponse> {
    vec![
        RetrieveResponse::Data(vec![1, 2, 3]),
        RetrieveResponse::Data(vec![0; MAX_CHUNK]),
        RetrieveResponse::Refused(RetrieveRefusal::UnknownPiece(CommP([3; 32]))),
        RetrieveResponse::Refused(RetrieveRefusal::OutOfRange {
            offset: 10,
            len: 5,
            payload: 12,
        }),
        RetrieveResponse::Refused(RetrieveRefusal::TooLong { len: 9, max: 8 }),
        RetrieveResponse::Refused(RetrieveRefusal::Busy),
        RetrieveResponse::Refused(RetrieveRefusal::Internal("x".into())),
        RetrieveResponse::Refused(RetrieveRefusal::Malformed("y".into())),
    ]
}

fn round_trip<T: Encode + Decode + PartialEq + std::fmt::Debug>(msgs: &[T]) {
    for m in msgs {
        let bytes = frame::encode(m).unwrap();
        assert!(bytes.len() <= MAX_MESSAGE + 4);
        assert_eq!(&frame::decode::<T>(&bytes).unwrap(), m);
        // Every strict prefix is refused, never misread.
        for cut in [0, 1, 3, 4, 5, bytes.len() / 2, bytes.len() - 1]
            .into_iter()
            .filter(|&c| c < bytes.len())
        {
            assert!(
                frame::decode::<T>(&bytes[..cut]).is_err(),
                "{m:?} cut at {cut}"
            );
        }
        // A trailing byte is refused.
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(frame::decode::<T>(&longer).is_err());
    }
}

#[test]
fn every_message_round_trips() {
    round_trip(&requests());
    round_trip(&responses());
    round_trip(&retrieve_responses());
    round_trip(&[RetrieveRequest {
        piece: CommP([4; 32]),
        offset: 123,
        len: 4096,
    }]);
}

#[test]
fn oversized_and_malformed_frames_are_refused() {
    // A length prefix over the limit is refused before any body is read.
    let huge = (MAX_MESSAGE as u32 + 1).to_le_bytes();
    assert_eq!(
        frame::body_len(huge),
        Err(FrameError::TooLarge {
            len: MAX_MESSAGE as u64 + 1,
            max: MAX_MESSAGE
        })
    );
    // A push of more than one chunk does not decode.
    let too_big = DealRequest::Push {
        deal: ProposalId([0; 32]),
        offset: 0,
        data: vec![0; MAX_CHUNK + 1],
    };
    let err = DealRequest::from_bytes(&too_big.to_bytes()).unwrap_err();
    assert!(
        matches!(
            err,
            DecodeError::TooLong {
                what: "pushed bytes",
                ..
            }
        ),
        "{err}"
    );
    // Unknown tags name what they were reading.
    assert_eq!(
        DealRequest::from_bytes(&[9]).unwrap_err(),
        DecodeError::BadTag {
            what: "deal request",
            tag: 9
        }
    );
    assert_eq!(
        RetrieveResponse::from_bytes(&[7]).unwrap_err(),
        DecodeError::BadTag {
            what: "retrieve response",
            tag: 7
        }
    );
    // An over-long refusal reason is clipped so the peer can decode it.
    let long = DealResponse::Refused(DealRefusal::Internal("é".repeat(600)));
    let back = DealResponse::from_bytes(&long.to_bytes()).unwrap();
    let DealResponse::Refused(DealRefusal::Internal(r)) = back else {
        panic!("{back:?}")
    };
    assert!(r.len() <= cairn_types::MAX_REASON && r.starts_with('é'));
}

#[test]
fn a_client_signature_binds_key_address_and_terms() {
    let k = Keypair::from_secret([1; 32]);
    let d = client_deal(&k);
    assert!(d.client_signature_valid());
    // Another key signing for the same address.
    let other = Keypair::from_secret([2; 32]);
    let mut wrong_key = d.clone();
    wrong_key.client_key = other.public_key();
    wrong_key.client_sig = other.sign(CLIENT_DEAL_DOMAIN, &d.proposal.to_bytes());
    assert!(!wrong_key.client_signature_valid());
    // Terms changed after signing.
    let mut tampered = d.clone();
    tampered.proposal.price_per_epoch += 1;
    assert!(!tampered.client_signature_valid());
    assert_ne!(tampered.id(), d.id(), "the id covers the terms");
    // Signed in the provider's domain instead of the client's.
    let mut domain = d.clone();
    domain.client_sig = k.sign(
        cairn_ledger::tx::PROVIDER_DEAL_DOMAIN,
        &d.proposal.to_bytes(),
    );
    assert!(!domain.client_signature_valid());
}

/// Writes the `p2p_messages` fuzz target's seeds: each message above,
/// framed, behind the byte that picks its decoder.
#[test]
#[ignore = "writes fuzz/corpus/p2p_messages; run by hand after a format change"]
fn write_fuzz_seeds() {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/p2p_messages");
    std::fs::create_dir_all(&dir).unwrap();
    let mut n = 0;
    let mut put = |kind: u8, name: &str, framed: Vec<u8>| {
        let name: String = name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' {
                    c
                } else {
                    '-'
                }
            })
            .collect();
        let name = name.trim_end_matches('-');
        let mut bytes = vec![kind];
        bytes.extend(framed);
        // Keep seeds small: a full chunk adds nothing the fuzzer needs.
        if bytes.len() <= 4096 {
            std::fs::write(dir.join(format!("{n:02}-{name}")), bytes).unwrap();
            n += 1;
        }
    };
    let small_push = DealRequest::Push {
        deal: ProposalId([9; 32]),
        offset: 4,
        data: vec![1, 2, 3],
    };
    for r in requests().into_iter().chain([small_push]) {
        let name = format!("{r:?}")
            .split([' ', '(', '{'])
            .next()
            .unwrap()
            .to_lowercase();
        put(
            0,
            &format!("deal-request-{name}"),
            frame::encode(&r).unwrap(),
        );
    }
    for r in responses() {
        let name = format!("{r:?}")
            .split([' ', '(', '{', ')'])
            .filter(|s| !s.is_empty())
            .take(2)
            .collect::<Vec<_>>()
            .join("-")
            .to_lowercase();
        put(
            1,
            &format!("deal-response-{name}"),
            frame::encode(&r).unwrap(),
        );
    }
    let req = RetrieveRequest {
        piece: CommP([4; 32]),
        offset: 123,
        len: 4096,
    };
    put(2, "retrieve-request", frame::encode(&req).unwrap());
    for (i, r) in retrieve_responses().into_iter().enumerate() {
        put(
            3,
            &format!("retrieve-response-{i}"),
            frame::encode(&r).unwrap(),
        );
    }
    // An oversized length prefix.
    put(0, "oversized-prefix", vec![0xff, 0xff, 0xff, 0xff, 0]);
}

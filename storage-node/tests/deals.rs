//! `cairn-node` as a real process against a real validator: it registers
//! itself, takes a deal over `/cairn/deal/1` (checked, transferred,
//! countersigned), sees it published, serves its bytes over
//! `/cairn/retrieve/1`, refuses bad input on both protocols while it keeps
//! serving, resumes a transfer after kill -9, stops cleanly on SIGTERM,
//! and, once it seals, reports a published deal it can no longer seal in
//! time (in its log and in `deals list`).

mod common;

use std::process::Command;

use cairn_ledger::codec::Encode as _;
use cairn_ledger::tx::{CLIENT_DEAL_DOMAIN, PROVIDER_DEAL_DOMAIN, TxBody};
use cairn_ledger::{CommP, Epoch, ProviderId, PublicKey};
use cairn_types::keys::Keypair;
use cairn_types::p2p::Client;
use cairn_types::{
    DealRefusal, DealRequest, DealResponse, RetrieveRefusal, RetrieveRequest, RetrieveResponse,
};
use common::*;
use libp2p::{Multiaddr, PeerId};
use rand::{Rng, SeedableRng};

/// `cairn-node deals list [--json]`'s output.
fn deals_list(home: &std::path::Path, json: bool) -> String {
    let mut cmd = Command::new(node_bin());
    cmd.args(["deals", "list", "--home"]).arg(home);
    if json {
        cmd.arg("--json");
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The node's `deals list --json` row for proposal `id`.
fn listed(home: &std::path::Path, id: &impl ToString) -> Option<serde_json::Value> {
    let v: serde_json::Value = serde_json::from_str(&deals_list(home, true)).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .find(|r| r["proposal"] == id.to_string())
        .cloned()
}

async fn refused(c: &Client, to: &(PeerId, Vec<Multiaddr>), req: DealRequest) -> DealRefusal {
    match ask(c, to, req).await {
        DealResponse::Refused(r) => r,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_takes_a_deal_serves_it_and_refuses_bad_input() {
    let tmp = tempfile::tempdir().unwrap();
    let net = Testnet::start(tmp.path()).await;
    let funder = &net.accounts[0];
    let client = &net.accounts[1];
    net.ok(client, TxBody::EscrowAdd { amount: 10_000_000 })
        .await;

    let home = init_node(
        tmp.path(),
        "node",
        &net.url,
        &[
            "--start-delay",
            "10",
            "--collateral",
            "5000",
            "--escrow",
            "5000",
        ],
    );
    let owner = owner_of(&home);
    let mut node = run_node(&home);
    // Unfunded, it says why it cannot register, and keeps trying.
    poll("refused registration logged", 30, &node, || async {
        node.log().contains("registration refused").then_some(())
    })
    .await;
    net.ok(
        funder,
        TxBody::Transfer {
            to: owner.address(),
            amount: 1_000_000,
        },
    )
    .await;
    let me = net.provider_of(&owner, &node).await;
    assert_eq!(me.sector_size, 2048);
    assert_eq!(me.collateral, 5000);
    assert_eq!(me.multiaddrs.len(), 2, "{:?}", me.multiaddrs);
    let worker = Keypair::load(&home.join("worker.json")).unwrap();
    assert_eq!(me.worker, worker.public_key().to_string());
    let to = peer_of(&me);
    // It deposits escrow for its deals' collateral.
    escrow_deposited(&net, &owner, &node, 5000).await;

    let c = p2p_client();
    // Wait for the node's view of its own registration.
    let terms = poll("answering asks", 30, &node, || async {
        match ask(&c, &to, DealRequest::Ask).await {
            DealResponse::Ask(a) => Some(a),
            _ => None,
        }
    })
    .await;
    assert_eq!(
        (terms.provider.0, terms.sector_size, terms.start_delay),
        (me.id, 2048, 10)
    );
    let epoch = terms.epoch.0;

    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let mut payload = vec![0u8; 2000];
    rng.fill(&mut payload[..]);
    let d = make_deal(client, me.id, epoch, payload, "bafkreigood");
    let id = d.signed.id();

    // Proposals that break a rule are refused with the rule.
    let mut bad_sig = d.signed.clone();
    bad_sig.client_sig = net.accounts[2].sign(CLIENT_DEAL_DOMAIN, &d.signed.proposal.to_bytes());
    assert_eq!(
        refused(&c, &to, DealRequest::Propose(bad_sig)).await,
        DealRefusal::BadSignature
    );
    let mut p = d.signed.proposal.clone();
    p.price_per_epoch -= 1;
    assert!(matches!(
        refused(
            &c,
            &to,
            DealRequest::Propose(sign(client, p, vec![]).signed)
        )
        .await,
        DealRefusal::PriceBelowAsk { .. }
    ));
    let mut p = d.signed.proposal.clone();
    p.start = Epoch(epoch + 1);
    assert!(matches!(
        refused(
            &c,
            &to,
            DealRequest::Propose(sign(client, p, vec![]).signed)
        )
        .await,
        DealRefusal::StartTooSoon { .. }
    ));
    let mut p = d.signed.proposal.clone();
    p.start = Epoch(epoch + 5_000);
    p.end = Epoch(epoch + 5_100);
    assert!(matches!(
        refused(
            &c,
            &to,
            DealRequest::Propose(sign(client, p, vec![]).signed)
        )
        .await,
        DealRefusal::StartTooLate { .. }
    ));
    let mut p = d.signed.proposal.clone();
    p.piece_size = 4096;
    assert_eq!(
        refused(
            &c,
            &to,
            DealRequest::Propose(sign(client, p, vec![]).signed)
        )
        .await,
        DealRefusal::BadPieceSize {
            size: 4096,
            sector_size: 2048
        }
    );
    let mut p = d.signed.proposal.clone();
    p.provider = ProviderId(me.id + 50);
    assert!(matches!(
        refused(
            &c,
            &to,
            DealRequest::Propose(sign(client, p, vec![]).signed)
        )
        .await,
        DealRefusal::WrongProvider { .. }
    ));
    let mut p = d.signed.proposal.clone();
    p.provider_collateral = 6000;
    assert!(matches!(
        refused(
            &c,
            &to,
            DealRequest::Propose(sign(client, p, vec![]).signed)
        )
        .await,
        DealRefusal::CollateralUnavailable { .. }
    ));

    // The good one: accepted, sent in two pushes, countersigned.
    assert_eq!(
        ask(&c, &to, DealRequest::Propose(d.signed.clone())).await,
        DealResponse::Accepted {
            deal: id,
            received: 0
        }
    );
    let (a, b) = d.payload.split_at(1200);
    assert_eq!(
        ask(
            &c,
            &to,
            DealRequest::Push {
                deal: id,
                offset: 0,
                data: a.to_vec()
            }
        )
        .await,
        DealResponse::Received {
            deal: id,
            received: 1200
        }
    );
    assert_eq!(
        refused(
            &c,
            &to,
            DealRequest::Push {
                deal: id,
                offset: 0,
                data: a.to_vec()
            }
        )
        .await,
        DealRefusal::WrongOffset {
            expected: 1200,
            got: 0
        }
    );
    assert_eq!(
        refused(
            &c,
            &to,
            DealRequest::Push {
                deal: id,
                offset: 1200,
                data: vec![0; 900]
            }
        )
        .await,
        DealRefusal::TooMuchData {
            capacity: 2032,
            got: 2100
        }
    );
    assert_eq!(
        ask(
            &c,
            &to,
            DealRequest::Push {
                deal: id,
                offset: 1200,
                data: b.to_vec()
            }
        )
        .await,
        DealResponse::Received {
            deal: id,
            received: 2000
        }
    );
    let DealResponse::Signed { provider_sig, .. } =
        ask(&c, &to, DealRequest::Finish { deal: id }).await
    else {
        panic!("not signed:\n{}", node.log());
    };
    assert!(worker.public_key().verify(
        PROVIDER_DEAL_DOMAIN,
        &d.signed.proposal.to_bytes(),
        &provider_sig
    ));
    // Asked again: the same signature; proposed again: a replay.
    assert_eq!(
        ask(&c, &to, DealRequest::Finish { deal: id }).await,
        DealResponse::Signed {
            deal: id,
            provider_sig
        }
    );
    assert_eq!(
        refused(&c, &to, DealRequest::Propose(d.signed.clone())).await,
        DealRefusal::Replayed(id)
    );

    // Bytes that are not the piece: refused with both CommPs, nothing kept.
    let mut wrong = vec![0u8; 2000];
    rng.fill(&mut wrong[..]);
    let liar = make_deal(client, me.id, epoch, d.payload.clone(), "bafkreiliar");
    let lid = liar.signed.id();
    assert!(matches!(
        ask(&c, &to, DealRequest::Propose(liar.signed.clone())).await,
        DealResponse::Accepted { .. }
    ));
    ask(
        &c,
        &to,
        DealRequest::Push {
            deal: lid,
            offset: 0,
            data: wrong.clone(),
        },
    )
    .await;
    let actual = CommP(cairn_proofs::commp::commp(&wrong).unwrap().comm_p);
    assert_eq!(
        refused(&c, &to, DealRequest::Finish { deal: lid }).await,
        DealRefusal::PieceMismatch {
            expected: liar.signed.proposal.piece,
            actual
        }
    );
    assert_eq!(
        refused(&c, &to, DealRequest::Status { deal: lid }).await,
        DealRefusal::UnknownDeal(lid)
    );

    // The client publishes; the node sees its deal published.
    publish(&net, client, &d, provider_sig).await;
    let mine = poll("published", 30, &node, || async {
        listed(&home, &id).filter(|r| r["state"] == "published")
    })
    .await;
    assert!(mine["deal_id"].as_u64().is_some(), "{mine}");

    // Retrieval: byte ranges of the payload; bad ranges refused by name.
    let piece = d.signed.proposal.piece;
    let get = |offset, len| RetrieveRequest { piece, offset, len };
    assert_eq!(
        c.retrieve(to.0, to.1.clone(), get(100, 500)).await.unwrap(),
        RetrieveResponse::Data(d.payload[100..600].to_vec())
    );
    assert_eq!(
        c.retrieve(to.0, to.1.clone(), get(1990, 20)).await.unwrap(),
        RetrieveResponse::Refused(RetrieveRefusal::OutOfRange {
            offset: 1990,
            len: 20,
            payload: 2000
        })
    );
    assert_eq!(
        c.retrieve(
            to.0,
            to.1.clone(),
            RetrieveRequest {
                piece: CommP([1; 32]),
                offset: 0,
                len: 1
            }
        )
        .await
        .unwrap(),
        RetrieveResponse::Refused(RetrieveRefusal::UnknownPiece(CommP([1; 32])))
    );
    assert!(matches!(
        c.retrieve(to.0, to.1.clone(), get(0, u32::MAX))
            .await
            .unwrap(),
        RetrieveResponse::Refused(RetrieveRefusal::TooLong { .. })
    ));

    // Malformed and oversized frames: the stream fails, the node goes on.
    let [bad, huge] = raw::garbage(&to).await;
    assert!(
        matches!(&bad, DealResponse::Refused(DealRefusal::Malformed(why)) if why.contains("deal request: unknown tag 238")),
        "{bad:?}"
    );
    assert!(
        matches!(&huge, DealResponse::Refused(DealRefusal::Malformed(why)) if why.contains("exceeds the 1052672 byte limit")),
        "{huge:?}"
    );
    assert!(matches!(
        ask(&c, &to, DealRequest::Ask).await,
        DealResponse::Ask(_)
    ));
    assert!(
        node.log().contains("malformed deal request"),
        "{}",
        node.log()
    );

    // A transfer broken off by kill -9 resumes after restart.
    let mut big = vec![0u8; 2030];
    rng.fill(&mut big[..]);
    let r = make_deal(client, me.id, epoch + 5, big.clone(), "bafkreiresume");
    let rid = r.signed.id();
    ask(&c, &to, DealRequest::Propose(r.signed.clone())).await;
    ask(
        &c,
        &to,
        DealRequest::Push {
            deal: rid,
            offset: 0,
            data: big[..1000].to_vec(),
        },
    )
    .await;
    let _ = node.child.kill();
    let _ = node.child.wait();
    let mut node = run_node(&home);
    // It listens on new ports and updates its registration; the client
    // finds it there through the ledger.
    let (to, held) = poll("back at its new address", 30, &node, || async {
        let now = net.provider_of(&owner, &node).await;
        if now.multiaddrs == me.multiaddrs {
            return None;
        }
        let to = peer_of(&now);
        match c
            .deal(to.0, to.1.clone(), DealRequest::Propose(r.signed.clone()))
            .await
        {
            Ok(DealResponse::Accepted { received, .. }) => Some((to, received)),
            _ => None,
        }
    })
    .await;
    assert!(
        node.log().contains("updating the registration"),
        "{}",
        node.log()
    );
    assert!(held <= 1000, "{held} bytes held of 1000 sent");
    ask(
        &c,
        &to,
        DealRequest::Push {
            deal: rid,
            offset: held,
            data: big[held as usize..].to_vec(),
        },
    )
    .await;
    assert!(matches!(
        ask(&c, &to, DealRequest::Finish { deal: rid }).await,
        DealResponse::Signed { .. }
    ));
    // The earlier piece survived the crash.
    assert_eq!(
        c.retrieve(to.0, to.1.clone(), get(0, 2000)).await.unwrap(),
        RetrieveResponse::Data(d.payload.clone())
    );

    // A proposal never transferred lapses once its start epoch comes: its
    // slot, space and promised collateral go back.
    let now = ask_epoch(&c, &to).await;
    let mut p = d.signed.proposal.clone();
    p.label = b"bafkreilapse".to_vec();
    p.start = Epoch(now + 10);
    p.end = Epoch(now + 110);
    let lapse = sign(client, p, vec![]);
    let lapse_id = lapse.signed.id();
    assert!(matches!(
        ask(&c, &to, DealRequest::Propose(lapse.signed)).await,
        DealResponse::Accepted { .. }
    ));
    poll("lapsed", 60, &node, || async {
        match ask(&c, &to, DealRequest::Status { deal: lapse_id }).await {
            DealResponse::Refused(DealRefusal::UnknownDeal(_)) => Some(()),
            DealResponse::Received { .. } => None,
            other => panic!("{other:?}"),
        }
    })
    .await;
    assert!(node.log().contains("proposal lapsed"), "{}", node.log());

    // A deal published while the node does not seal, which it can no
    // longer seal in time once it does (as for a node that was down): it
    // is refused with the reason, in the log and in `deals list`.
    let now = ask_epoch(&c, &to).await;
    let mut late = vec![0u8; 1500];
    rng.fill(&mut late[..]);
    let u = make_deal(client, me.id, now, late, "bafkreilate");
    let uid = u.signed.id();
    let provider_sig = take_deal(&c, &to, &u).await;
    publish(&net, client, &u, provider_sig).await;

    // SIGTERM: a clean exit.
    let Some(status) = node.terminate() else {
        panic!("the node did not stop within 20 s:\n{}", node.log());
    };
    assert!(status.success(), "exit {status:?}:\n{}", node.log());
    assert!(node.log().contains("stopped"));

    // Sealing on, with a 90-epoch lead: the deal starts sooner than that.
    set_config(
        &home,
        &[("enabled", "true"), ("lead", "90"), ("start_delay", "100")],
    );
    let mut node = run_node(&home);
    let why = poll("reporting the late deal unsealable", 60, &node, || async {
        listed(&home, &uid).and_then(|r| r["unsealable"].as_str().map(str::to_owned))
    })
    .await;
    assert!(
        why.contains("sealing takes 90 epochs") && why.contains("cannot be proven in time"),
        "{why}"
    );
    assert!(node.log().contains("cannot be sealed"), "{}", node.log());
    assert!(node.terminate().is_some_and(|s| s.success()));
    // The reason is kept on disk: the table shows it with the node stopped.
    let table = deals_list(&home, false);
    assert!(
        table.contains("unsealable") && table.contains(&format!("unsealable: {why}")),
        "{table}"
    );
    let _ = PublicKey([0; 32]);
}

/// A raw request-response client that writes arbitrary bytes under the
/// deal protocol's name.
mod raw {
    use std::time::Duration;

    use futures::{AsyncRead, AsyncWrite, AsyncWriteExt, StreamExt};
    use libp2p::request_response::{self, ProtocolSupport};
    use libp2p::swarm::SwarmEvent;
    use libp2p::{Multiaddr, PeerId, StreamProtocol};

    #[derive(Clone, Default)]
    struct Raw;

    impl request_response::Codec for Raw {
        type Protocol = StreamProtocol;
        type Request = Vec<u8>;
        type Response = Vec<u8>;
        async fn read_request<T: AsyncRead + Unpin + Send>(
            &mut self,
            _: &StreamProtocol,
            _: &mut T,
        ) -> std::io::Result<Vec<u8>> {
            Ok(Vec::new())
        }
        async fn read_response<T: AsyncRead + Unpin + Send>(
            &mut self,
            _: &StreamProtocol,
            io: &mut T,
        ) -> std::io::Result<Vec<u8>> {
            let mut b = Vec::new();
            futures::AsyncReadExt::read_to_end(io, &mut b).await?;
            if b.is_empty() {
                return Err(std::io::Error::other("no answer"));
            }
            Ok(b)
        }
        async fn write_request<T: AsyncWrite + Unpin + Send>(
            &mut self,
            _: &StreamProtocol,
            io: &mut T,
            req: Vec<u8>,
        ) -> std::io::Result<()> {
            io.write_all(&req).await?;
            io.close().await
        }
        async fn write_response<T: AsyncWrite + Unpin + Send>(
            &mut self,
            _: &StreamProtocol,
            _: &mut T,
            _: Vec<u8>,
        ) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// Sends a malformed frame and an oversized one; returns the answers.
    pub async fn garbage(to: &(PeerId, Vec<Multiaddr>)) -> [cairn_types::DealResponse; 2] {
        let mut swarm = libp2p::SwarmBuilder::with_new_identity()
            .with_tokio()
            .with_tcp(
                libp2p::tcp::Config::new(),
                libp2p::noise::Config::new,
                libp2p::yamux::Config::default,
            )
            .unwrap()
            .with_behaviour(|_| {
                request_response::Behaviour::with_codec(
                    Raw,
                    [(
                        StreamProtocol::new(cairn_types::DEAL_PROTOCOL),
                        ProtocolSupport::Outbound,
                    )],
                    request_response::Config::default()
                        .with_request_timeout(Duration::from_secs(10)),
                )
            })
            .unwrap()
            .build();
        let mut oversized = (u32::MAX).to_le_bytes().to_vec();
        oversized.extend_from_slice(&[0; 16]);
        let malformed = vec![3, 0, 0, 0, 0xee, 1, 2];
        let mut answers = Vec::new();
        for bytes in [malformed, oversized] {
            let id = swarm
                .behaviour_mut()
                .send_request_with_addresses(&to.0, bytes, to.1.clone());
            loop {
                match swarm.select_next_some().await {
                    SwarmEvent::Behaviour(request_response::Event::Message {
                        message:
                            request_response::Message::Response {
                                request_id,
                                response,
                            },
                        ..
                    }) if request_id == id => {
                        answers.push(cairn_types::frame::decode(&response).unwrap());
                        break;
                    }
                    SwarmEvent::Behaviour(request_response::Event::OutboundFailure {
                        error,
                        ..
                    }) => {
                        panic!("no answer to garbage: {error}");
                    }
                    _ => {}
                }
            }
        }
        answers.try_into().unwrap()
    }
}

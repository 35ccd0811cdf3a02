//! The worked example of docs/ledger.md, step by step, with every balance
//! it predicts; then the refusals, each leaving the state root unchanged.

mod common;

use cairn_ledger::*;
use common::*;

const POOL: Amount = 1_000_000_000;

struct World {
    kit: Kit,
    client: ed25519_dalek::SigningKey,
    owner: ed25519_dalek::SigningKey,
    worker: ed25519_dalek::SigningKey,
    provider: ProviderId,
}

/// Epoch 0 of the example: a provider registered with 10,000 collateral,
/// client escrow 8,000, owner escrow 1,000.
fn world() -> World {
    let (client, owner, worker) = (key(1), key(2), key(3));
    let g = genesis(
        &[(addr(&client), 1_000_000), (addr(&owner), 1_000_000)],
        POOL,
        Params::devnet(),
    );
    let mut kit = Kit::new(&g);
    let provider = kit.register(&owner, &worker, 0, 10_000);
    kit.ok(&client, TxBody::EscrowAdd { amount: 8_000 });
    kit.ok(&owner, TxBody::EscrowAdd { amount: 1_000 });
    World {
        kit,
        client,
        owner,
        worker,
        provider,
    }
}

fn example_deal(w: &World) -> SignedDeal {
    // 100 per epoch from 20 to 90, both collaterals 1,000.
    deal(
        &w.client,
        &w.worker,
        proposal(&w.client, w.provider, 1, 20, 90),
    )
}

fn conserved(s: &State) {
    assert_eq!(s.total_tokens(), Some(s.supply()), "supply invariant");
    for (a, locked) in s.expected_locks() {
        assert_eq!(s.escrow(&a).locked, locked, "locks of {a}");
    }
}

/// Publishes, pre-commits at 1, prove-commits at 6.
fn activate(w: &mut World) {
    let d = example_deal(w);
    w.kit.ok(
        &w.worker,
        TxBody::PublishDeals {
            deals: vec![d],
            manifest: None,
        },
    );
    w.kit.tick_to(1);
    w.kit
        .ok(&w.worker, precommit(w.provider, 1, vec![DealId(1)], 0, 90));
    w.kit.tick_to(6);
    let proof = w.kit.porep_for(w.provider, SectorNumber(1));
    w.kit.ok(
        &w.worker,
        TxBody::ProveCommitSector {
            provider: w.provider,
            sector: SectorNumber(1),
            proof,
        },
    );
}

fn precommit(provider: ProviderId, n: u64, deals: Vec<DealId>, ticket: u64, exp: u64) -> TxBody {
    TxBody::PreCommitSector {
        provider,
        sector: SectorNumber(n),
        deals,
        comm_r: CommR([9; 32]),
        ticket_epoch: Epoch(ticket),
        expiration: Epoch(exp),
        deposit: 100,
    }
}

#[test]
fn worked_example_of_docs_ledger_md() {
    let mut w = world();
    let (client, owner) = (addr(&w.client), addr(&w.owner));
    activate(&mut w);
    let s = &w.kit.state;
    assert_eq!(s.escrow(&client).locked, 100 * 70 + 1_000);
    assert_eq!(s.escrow(&owner).locked, 1_000);
    assert_eq!(
        s.provider(w.provider).unwrap().collateral,
        10_000,
        "deposit returned"
    );
    assert_eq!(s.sector(w.provider, SectorNumber(1)).unwrap().deadline, 0);
    conserved(s);

    // Deadline 0's window [40, 50): proven, pays [20, 50) = 30 × 100.
    w.kit.tick_to(40);
    let (dl, proof) = w.kit.post_for(w.provider);
    assert_eq!(dl, 0);
    let ev = w.kit.ok(
        &w.worker,
        TxBody::SubmitWindowPost {
            provider: w.provider,
            deadline: dl,
            proof,
        },
    );
    assert!(ev.contains(&Event::DealPaid {
        deal: DealId(1),
        amount: 3_000,
        until: Epoch(50)
    }));
    assert_eq!(w.kit.state.escrow(&owner).free, 3_000);
    conserved(&w.kit.state);

    // Window [80, 90) missed: fee 50 burnt, [50, 90) returned to the
    // client, and the deal has reached its end: collaterals released.
    let ev = w.kit.tick_to(90);
    assert!(ev.contains(&Event::SectorFaulty {
        provider: w.provider,
        sector: SectorNumber(1),
        fee: 50,
        faults: 1
    }));
    assert!(ev.contains(&Event::DealSkipped {
        deal: DealId(1),
        returned: 4_000,
        until: Epoch(90)
    }));
    assert!(ev.contains(&Event::DealExpired { deal: DealId(1) }));
    assert!(ev.contains(&Event::SectorExpired {
        provider: w.provider,
        sector: SectorNumber(1)
    }));

    let s = &w.kit.state;
    // Client: paid 3,000 for 30 proven epochs.
    assert_eq!(s.account(&client).balance, 992_000);
    assert_eq!(s.escrow(&client).free, 5_000);
    assert_eq!(s.escrow(&client).locked, 0);
    // Owner: rewards for epochs 6..=89 (84 × 1,000), 3,000 earned,
    // 1,000 collateral back, fee 50 from the provider's collateral.
    assert_eq!(
        s.account(&owner).balance,
        1_000_000 - 10_000 - 1_000 + 84_000
    );
    assert_eq!(s.escrow(&owner).free, 4_000);
    assert_eq!(s.escrow(&owner).locked, 0);
    assert_eq!(s.provider(w.provider).unwrap().collateral, 9_950);
    assert_eq!(s.reward_pool(), POOL - 84_000);
    assert_eq!(s.burnt(), 50);
    conserved(s);

    // The expired sector is never paid again and earns no reward.
    let before = s.account(&owner).balance;
    w.kit.tick_to(200);
    assert_eq!(w.kit.state.account(&owner).balance, before);
    assert_eq!(w.kit.state.escrow(&owner).free, 4_000);
}

#[test]
fn faults_too_long_terminate_and_compensate_the_client() {
    let mut w = world();
    let client = addr(&w.client);
    // A longer deal: 100 per epoch from 20 to 300, in a sector expiring at 300.
    let mut p = proposal(&w.client, w.provider, 1, 20, 300);
    p.price_per_epoch = 10;
    w.kit.ok(
        &w.worker,
        TxBody::PublishDeals {
            deals: vec![deal(&w.client, &w.worker, p)],
            manifest: None,
        },
    );
    w.kit.tick_to(1);
    w.kit
        .ok(&w.worker, precommit(w.provider, 1, vec![DealId(1)], 0, 300));
    w.kit.tick_to(6);
    let proof = w.kit.porep_for(w.provider, SectorNumber(1));
    w.kit.ok(
        &w.worker,
        TxBody::ProveCommitSector {
            provider: w.provider,
            sector: SectorNumber(1),
            proof,
        },
    );
    // Misses the windows at 40, 80 and 120: terminated at 130.
    let ev = w.kit.tick_to(130);
    assert!(ev.contains(&Event::SectorTerminated {
        provider: w.provider,
        sector: SectorNumber(1)
    }));
    assert!(ev.contains(&Event::DealTerminated {
        deal: DealId(1),
        compensation: 1_000
    }));
    let s = &w.kit.state;
    assert_eq!(s.deal(DealId(1)).unwrap().paid, 0);
    // Everything back, plus the provider's deal collateral.
    assert_eq!(s.escrow(&client).free, 8_000 + 1_000);
    assert_eq!(s.escrow(&client).locked, 0);
    assert_eq!(s.provider(w.provider).unwrap().collateral, 10_000 - 3 * 50);
    conserved(s);
    // Terminated: no proof is due, nothing is paid again.
    w.kit.tick_to(160);
    assert!(matches!(
        w.kit
            .send(
                &w.worker,
                TxBody::SubmitWindowPost {
                    provider: w.provider,
                    deadline: 0,
                    proof: vec![]
                }
            )
            .result,
        Err(Refusal::NothingToProve { deadline: 0 })
    ));
}

#[test]
fn unactivated_deal_is_cancelled_and_collateral_burnt() {
    let mut w = world();
    let d = example_deal(&w);
    w.kit.ok(
        &w.worker,
        TxBody::PublishDeals {
            deals: vec![d],
            manifest: None,
        },
    );
    let ev = w.kit.tick_to(20);
    assert!(ev.contains(&Event::DealCancelled {
        deal: DealId(1),
        slashed: 1_000
    }));
    let s = &w.kit.state;
    assert_eq!(s.burnt(), 1_000);
    assert_eq!(s.escrow(&addr(&w.client)).free, 8_000);
    assert_eq!(s.escrow(&addr(&w.owner)).locked, 0);
    conserved(s);
}

#[test]
fn recovery_then_proof_resumes_payment() {
    let mut w = world();
    activate(&mut w);
    // Window at 40 missed: faulty; skipped [20, 50).
    w.kit.tick_to(50);
    assert_eq!(
        w.kit
            .state
            .sector(w.provider, SectorNumber(1))
            .unwrap()
            .status,
        state::SectorStatus::Faulty
    );
    // Faulty sectors are not in the proof set until declared recovering.
    w.kit.ok(
        &w.worker,
        TxBody::DeclareRecovery {
            provider: w.provider,
            sectors: vec![SectorNumber(1)],
        },
    );
    w.kit.tick_to(80);
    let (dl, proof) = w.kit.post_for(w.provider);
    let ev = w.kit.ok(
        &w.worker,
        TxBody::SubmitWindowPost {
            provider: w.provider,
            deadline: dl,
            proof,
        },
    );
    // Pays [50, 90): 4,000, and the deal ends.
    assert!(ev.contains(&Event::DealPaid {
        deal: DealId(1),
        amount: 4_000,
        until: Epoch(90)
    }));
    assert!(ev.contains(&Event::DealExpired { deal: DealId(1) }));
    conserved(&w.kit.state);
}

#[test]
fn a_declared_fault_leaves_the_proof_set_pays_the_fee_and_recovers() {
    let mut w = world();
    activate(&mut w);
    let faults = |sectors: Vec<u64>| TxBody::DeclareFaults {
        provider: w.provider,
        sectors: sectors.into_iter().map(SectorNumber).collect(),
    };
    // Unknown and doubly listed sectors are refused, changing nothing.
    let tx = w.kit.signed(&w.worker, faults(vec![7]));
    refused(&mut w.kit, &tx, |r| {
        matches!(r, Refusal::UnknownSector { .. })
    });
    let tx = w.kit.signed(&w.worker, faults(vec![1, 1]));
    refused(&mut w.kit, &tx, |r| {
        matches!(r, Refusal::SectorState { .. })
    });
    // Declared before its window at 40: out of the set, nothing to prove.
    w.kit.tick_to(38);
    let ev = w.kit.ok(&w.worker, faults(vec![1]));
    assert_eq!(
        ev,
        vec![Event::SectorFaultDeclared {
            provider: w.provider,
            sector: SectorNumber(1)
        }]
    );
    let tx = w.kit.signed(&w.worker, faults(vec![1]));
    refused(&mut w.kit, &tx, |r| {
        matches!(r, Refusal::SectorState { .. })
    });
    w.kit.tick_to(40);
    assert!(
        w.kit
            .state
            .sectors_to_prove(w.provider, 0, Epoch(40))
            .is_empty()
    );
    let collateral = w.kit.state.provider(w.provider).unwrap().collateral;
    // The window closes: the fee is burnt and the stretch refunded.
    let ev = w.kit.tick_to(50);
    assert!(
        ev.iter().any(|e| matches!(
            e,
            Event::SectorFaulty {
                fee: 50,
                faults: 1,
                ..
            }
        )),
        "{ev:?}"
    );
    assert_eq!(
        w.kit.state.provider(w.provider).unwrap().collateral,
        collateral - 50
    );
    assert_eq!(w.kit.state.deal(DealId(1)).unwrap().paid, 0);
    // Files restored: recovery, then the next window's proof pays from 50.
    w.kit.ok(
        &w.worker,
        TxBody::DeclareRecovery {
            provider: w.provider,
            sectors: vec![SectorNumber(1)],
        },
    );
    w.kit.tick_to(80);
    let (dl, proof) = w.kit.post_for(w.provider);
    let ev = w.kit.ok(
        &w.worker,
        TxBody::SubmitWindowPost {
            provider: w.provider,
            deadline: dl,
            proof,
        },
    );
    assert!(ev.contains(&Event::DealPaid {
        deal: DealId(1),
        amount: 4_000,
        until: Epoch(90)
    }));
    conserved(&w.kit.state);
}

/// Applies `tx` and requires `reason` with the state root unchanged.
fn refused(kit: &mut Kit, tx: &SignedTx, reason: impl Fn(&Refusal) -> bool) {
    let root = kit.state.root();
    let before = kit.state.clone();
    let r = kit.state.apply_tx(tx, &HashVerifier);
    match &r.result {
        Err(e) => assert!(reason(e), "wrong reason: {e:?}"),
        Ok(ev) => panic!("applied: {ev:?}"),
    }
    assert_eq!(kit.state.root(), root, "root changed");
    assert_eq!(kit.state, before, "state changed");
}

#[test]
fn refusals_name_the_reason_and_change_nothing() {
    let mut w = world();
    let kit = &mut w.kit;

    // Bad signature.
    let mut tx = kit.signed(&w.client, TxBody::EscrowAdd { amount: 1 });
    tx.signature.0[0] ^= 1;
    refused(kit, &tx, |e| *e == Refusal::BadSignature);
    // Signed by another key than the one named.
    let mut tx = kit.signed(&w.client, TxBody::EscrowAdd { amount: 1 });
    tx.signature = kit.signed(&w.owner, tx.tx.body.clone()).signature;
    refused(kit, &tx, |e| *e == Refusal::BadSignature);
    // Replayed nonce.
    let tx = kit.signed(&w.client, TxBody::EscrowAdd { amount: 1 });
    assert!(kit.state.apply_tx(&tx, &HashVerifier).is_ok());
    refused(kit, &tx, |e| {
        matches!(
            e,
            Refusal::BadNonce {
                expected: 2,
                got: 1
            }
        )
    });
    // Wrong chain.
    let mut tx = kit.signed(&w.client, TxBody::EscrowAdd { amount: 1 });
    tx.tx.chain_id = 8;
    refused(kit, &tx, |e| matches!(e, Refusal::WrongChain { .. }));
    // Withdrawing more than the unlocked escrow.
    let tx = kit.signed(&w.client, TxBody::EscrowWithdraw { amount: 9_000 });
    refused(kit, &tx, |e| {
        matches!(e, Refusal::InsufficientEscrow { .. })
    });

    // Under-funded deal: 100 × 70 + 1,000 = 8,000 needed, and the client
    // escrow holds 8,001 — but the second deal in the same transaction
    // needs as much again.
    let d1 = deal(
        &w.client,
        &w.worker,
        proposal(&w.client, w.provider, 1, 20, 90),
    );
    let d2 = deal(
        &w.client,
        &w.worker,
        proposal(&w.client, w.provider, 2, 20, 90),
    );
    let tx = kit.signed(
        &w.worker,
        TxBody::PublishDeals {
            deals: vec![d1.clone(), d2],
            manifest: None,
        },
    );
    refused(kit, &tx, |e| {
        matches!(
            e,
            Refusal::InsufficientEscrow {
                need: 16_000,
                have: 8_001,
                ..
            }
        )
    });
    // Signed by one side only: the provider's signature is the client's.
    let mut one_sided = d1.clone();
    one_sided.provider_sig = one_sided.client_sig;
    let tx = kit.signed(
        &w.client,
        TxBody::PublishDeals {
            deals: vec![one_sided],
            manifest: None,
        },
    );
    refused(kit, &tx, |e| {
        matches!(
            e,
            Refusal::DealSignature {
                index: 0,
                side: Side::Provider
            }
        )
    });
    // The client's signature made by another key.
    let mut forged = d1.clone();
    forged.client_sig = sign_with(&w.owner, cairn_ledger::tx::CLIENT_DEAL_DOMAIN, &[]);
    let tx = kit.signed(
        &w.worker,
        TxBody::PublishDeals {
            deals: vec![forged],
            manifest: None,
        },
    );
    refused(kit, &tx, |e| {
        matches!(
            e,
            Refusal::DealSignature {
                index: 0,
                side: Side::Client
            }
        )
    });
    // Terms: label too long, piece too big, start in the past.
    for (f, rule) in [
        (
            Box::new(|p: &mut DealProposal| p.label = vec![0; 257])
                as Box<dyn Fn(&mut DealProposal)>,
            "label",
        ),
        (
            Box::new(|p: &mut DealProposal| p.piece_size = 4096),
            "larger",
        ),
        (
            Box::new(|p: &mut DealProposal| p.piece_size = 1000),
            "power of two",
        ),
        (
            Box::new(|p: &mut DealProposal| p.start = Epoch(0)),
            "future",
        ),
        (
            Box::new(|p: &mut DealProposal| p.end = Epoch(30)),
            "duration",
        ),
    ] {
        let mut p = proposal(&w.client, w.provider, 1, 20, 90);
        f(&mut p);
        let tx = kit.signed(
            &w.worker,
            TxBody::PublishDeals {
                deals: vec![deal(&w.client, &w.worker, p)],
                manifest: None,
            },
        );
        refused(
            kit,
            &tx,
            |e| matches!(e, Refusal::DealTerms { rule: r, .. } if r.contains(rule)),
        );
    }

    // Publish the real deal once; its replay is refused.
    let publish = TxBody::PublishDeals {
        deals: vec![d1],
        manifest: None,
    };
    assert!(kit.send(&w.worker, publish.clone()).is_ok());
    let tx = kit.signed(&w.worker, publish);
    refused(
        kit,
        &tx,
        |e| matches!(e, Refusal::DealTerms { rule, .. } if rule.contains("already published")),
    );

    // Pre-commit, then a PoRep proof for another CommR (mismatched) and
    // random bytes, each refused; then too early for the seed.
    kit.tick_to(1);
    kit.ok(&w.worker, precommit(w.provider, 1, vec![DealId(1)], 0, 90));
    let tx = kit.signed(
        &w.worker,
        TxBody::ProveCommitSector {
            provider: w.provider,
            sector: SectorNumber(1),
            proof: vec![],
        },
    );
    refused(kit, &tx, |e| {
        matches!(
            e,
            Refusal::EpochOutOfRange {
                what: "prove-commit",
                ..
            }
        )
    });
    kit.tick_to(6);
    let good = kit.porep_for(w.provider, SectorNumber(1));
    let mismatched = kit.porep_with(w.provider, SectorNumber(1), Some(CommR([8; 32])));
    assert_ne!(mismatched, good);
    for proof in [mismatched, vec![0xab; 192], vec![]] {
        let tx = kit.signed(
            &w.worker,
            TxBody::ProveCommitSector {
                provider: w.provider,
                sector: SectorNumber(1),
                proof,
            },
        );
        refused(kit, &tx, |e| matches!(e, Refusal::PorepInvalid { .. }));
    }
    // Sent by the owner, not the worker.
    let tx = kit.signed(
        &w.owner,
        TxBody::ProveCommitSector {
            provider: w.provider,
            sector: SectorNumber(1),
            proof: good.clone(),
        },
    );
    refused(kit, &tx, |e| {
        matches!(e, Refusal::NotAuthorized { role: "worker", .. })
    });
    kit.ok(
        &w.worker,
        TxBody::ProveCommitSector {
            provider: w.provider,
            sector: SectorNumber(1),
            proof: good,
        },
    );

    // WindowPoSt: wrong randomness, wrong sectors, wrong deadline, after
    // the window closed.
    kit.tick_to(40);
    let (dl, good) = kit.post_for(w.provider);
    let open = kit.state.deadline_at(kit.state.epoch()).1;
    let sectors = vec![cairn_proofs::post::PublicSector {
        sector_id: cairn_proofs::sdr::SectorId(1),
        comm_r: [9; 32],
    }];
    let wrong_r = post_proof(
        P2K.window_post(),
        &cairn_proofs::challenges::PostRandomness::from_chain(beacon(open.0 - 1)),
        &sectors,
    );
    let right_r = cairn_proofs::challenges::PostRandomness::from_chain(beacon(open.0));
    assert_eq!(post_proof(P2K.window_post(), &right_r, &sectors), good);
    let mut wrong_sectors = sectors.clone();
    wrong_sectors[0].sector_id = cairn_proofs::sdr::SectorId(2);
    let wrong_s = post_proof(P2K.window_post(), &right_r, &wrong_sectors);
    for proof in [wrong_r, wrong_s] {
        let tx = kit.signed(
            &w.worker,
            TxBody::SubmitWindowPost {
                provider: w.provider,
                deadline: dl,
                proof,
            },
        );
        refused(kit, &tx, |e| matches!(e, Refusal::PostInvalid { .. }));
    }
    let tx = kit.signed(
        &w.worker,
        TxBody::SubmitWindowPost {
            provider: w.provider,
            deadline: 1,
            proof: good.clone(),
        },
    );
    refused(kit, &tx, |e| {
        *e == Refusal::DeadlineNotOpen {
            deadline: 1,
            open: 0,
        }
    });
    kit.tick_to(50);
    let tx = kit.signed(
        &w.worker,
        TxBody::SubmitWindowPost {
            provider: w.provider,
            deadline: dl,
            proof: good,
        },
    );
    refused(kit, &tx, |e| {
        *e == Refusal::DeadlineNotOpen {
            deadline: 0,
            open: 1,
        }
    });
    conserved(&kit.state);
}

/// A provider with a live sector keeps the registration minimum of
/// collateral (fault fees must have something to come from); once it has
/// none, it may withdraw everything.
#[test]
fn collateral_keeps_its_minimum_while_sectors_live() {
    let mut w = world();
    activate(&mut w);
    let min = Params::devnet().min_provider_collateral;
    let have = w.kit.state.provider(w.provider).unwrap().collateral;
    assert!(have > min);
    let all = w.kit.signed(
        &w.owner,
        TxBody::WithdrawCollateral {
            provider: w.provider,
            amount: have,
        },
    );
    refused(
        &mut w.kit,
        &all,
        |e| matches!(e, Refusal::InsufficientCollateral { need, .. } if *need == have + min),
    );
    w.kit.ok(
        &w.owner,
        TxBody::WithdrawCollateral {
            provider: w.provider,
            amount: have - min,
        },
    );
    assert_eq!(w.kit.state.provider(w.provider).unwrap().collateral, min);
    conserved(&w.kit.state);
}

#[test]
fn the_owner_updates_its_provider_and_no_one_else_can() {
    let mut w = world();
    let p = w.provider;
    let update = |price| TxBody::UpdateProvider {
        provider: p,
        peer_id: vec![0, 36, 9],
        multiaddrs: vec![
            "/ip4/10.0.0.1/tcp/4001".into(),
            "/ip4/10.0.0.1/udp/4001/quic-v1".into(),
        ],
        price_per_byte_epoch: price,
        capacity: 77 << 30,
    };
    // Anyone but the owner (here: its worker) is refused, state unchanged.
    let before = w.kit.state.provider(p).unwrap().clone();
    let root = w.kit.state.root();
    let r = w.kit.send(&w.worker.clone(), update(9));
    assert!(
        matches!(r.result, Err(Refusal::NotAuthorized { role: "owner", .. })),
        "{:?}",
        r.result
    );
    assert_eq!(w.kit.state.provider(p).unwrap(), &before);
    assert_eq!(w.kit.state.root(), root, "a refusal changes nothing");
    // The owner's update takes effect.
    let ev = w.kit.ok(&w.owner.clone(), update(9));
    assert_eq!(ev, vec![Event::ProviderUpdated { provider: p }]);
    let now = w.kit.state.provider(p).unwrap();
    assert_eq!(now.multiaddrs.len(), 2);
    assert_eq!(now.peer_id, vec![0, 36, 9]);
    assert_eq!((now.price_per_byte_epoch, now.capacity), (9, 77 << 30));
    assert_eq!(
        now.collateral, before.collateral,
        "collateral is not touched"
    );
}

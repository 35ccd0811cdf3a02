//! Scaffold: 4 simplex validators (BLS12-381 threshold VRF, random leader) on commonware's
//! deterministic runtime + simulated p2p, with message loss, a partition that heals, one crashed
//! and restarted validator (same storage partition) and one equivocating validator. Uses only the
//! *published* `mocks` features. Asserts progress after healing, no conflicting finalizations,
//! and identical seeds + auditor state for the same RNG seed run twice.
use commonware_consensus::{
    simplex::{
        self, ForwardPolicy, SkipBudget, SkipPolicy,
        elector::{Random, RandomVersion},
        mocks,
        scheme::bls12381_threshold::vrf::{self as vrf, Seedable},
    },
    types::{Epoch, View, ViewDelta},
    Monitor,
};
use commonware_codec::Encode;
use commonware_cryptography::{
    Sha256, bls12381::primitives::variant::MinSig, certificate::mocks::Fixture,
    sha256::Digest as Sha256Digest,
};
use commonware_p2p::{
    max_message_size,
    simulated::{Config, Link, Network},
};
use commonware_parallel::Sequential;
use commonware_runtime::{
    Clock, Quota, Runner, Supervisor as _, buffer::paged::CacheRef,
    deterministic,
};
use commonware_utils::{NZDuration, NZU16, NZU32, NZUsize, probability};
use std::{collections::BTreeMap, sync::Arc, time::Duration};

type S = vrf::Scheme<commonware_cryptography::ed25519::PublicKey, MinSig>;

fn run(seed: u64) -> (String, Vec<(u64, Vec<u8>)>) {
    let n = 4u32;
    let namespace = b"cairn-sim".to_vec();
    let epoch = Epoch::new(0);
    let cfg = deterministic::Config::new()
        .with_seed(seed)
        .with_timeout(Some(Duration::from_secs(600)));
    let executor = deterministic::Runner::new(cfg);
    executor.start(|mut context| async move {
        let Fixture { participants, schemes, .. } =
            vrf::fixture::<MinSig, _>(&mut context, &namespace, n);
        let (network, mut oracle) = Network::new_with_peers(
            context.child("network"),
            Config {
                max_size: max_message_size(&[simplex::max_payload_size::<S, Sha256Digest>(n)]),
                max_peers_per_set: NZUsize!(n as usize),
                disconnect_on_block: false,
                tracked_peer_sets: NZUsize!(1),
            },
            participants.clone(),
        )
        .await;
        network.start();
        let quota = Quota::per_second(NZU32!(10_000));
        let lossy = Link {
            latency: Duration::from_millis(50),
            jitter: Duration::from_millis(20),
            success_rate: probability!(0.9), // 10% message loss
        };
        for a in &participants {
            for b in &participants {
                if a != b {
                    oracle.add_link(a.clone(), b.clone(), lossy.clone()).await.unwrap();
                }
            }
        }
        let elector: Random<Sha256> = Random::new(RandomVersion::V1);
        let relay = Arc::new(mocks::relay::Relay::<Sha256Digest, _>::new());
        let mut reporters = BTreeMap::new();
        let mut crashed = Vec::new();
        let mut handles = BTreeMap::new();
        let start = |idx: usize, context: deterministic::Context, oracle: &mut commonware_p2p::simulated::Oracle<_, _>, regs: (_, _, _)| {
            let v = participants[idx].clone();
            let reporter = mocks::reporter::Reporter::new(
                context.child("reporter"),
                mocks::reporter::Config {
                    participants: participants.clone().try_into().unwrap(),
                    scheme: schemes[idx].clone(),
                    elector: elector.clone(),
                },
            );
            let (actor, app) = mocks::application::Application::new(
                context.child("application"),
                mocks::application::Config::<Sha256, _> {
                    relay: relay.clone(),
                    me: v.clone(),
                    propose_latency: (10.0, 5.0),
                    verify_latency: (10.0, 5.0),
                    certify_latency: (10.0, 5.0),
                    should_certify: mocks::application::Certifier::Always,
                },
            );
            let app_handle = actor.start();
            let engine = simplex::Engine::new(
                context.child("engine"),
                simplex::Config {
                    scheme: schemes[idx].clone(),
                    elector: elector.clone(),
                    blocker: oracle.control(v.clone()),
                    automaton: app.clone(),
                    relay: app.clone(),
                    reporter: reporter.clone(),
                    strategy: Sequential,
                    partition: v.to_string(), // same partition after restart = recover from WAL
                    mailbox_size: NZUsize!(1024),
                    epoch,
                    floor: simplex::Floor::Genesis(mocks::application::genesis::<Sha256>(epoch)),
                    leader_timeout: Duration::from_millis(500),
                    certification_timeout: Duration::from_secs(1),
                    timeout_retry: Duration::from_secs(1),
                    fetch_timeout: NZDuration!(Duration::from_secs(1)),
                    fetch_retry_delay: Duration::from_millis(100),
                    view_retention: ViewDelta::new(256),
                    skip: SkipPolicy::Enabled {
                        timeout: Duration::from_secs(10),
                        budget: SkipBudget::Participants,
                    },
                    replay_buffer: NZUsize!(1 << 20),
                    write_buffer: NZUsize!(1 << 20),
                    page_cache: CacheRef::new(NZU16!(1024), NZUsize!(10)),
                    forward: ForwardPolicy::Disabled,
                    track_historical_votes: false,
                },
            );
            let (p, r, s) = regs;
            (reporter, (engine.start(p, r, s), app_handle))
        };
        async fn register(
            oracle: &mut commonware_p2p::simulated::Oracle<commonware_cryptography::ed25519::PublicKey, deterministic::Context>,
            v: &commonware_cryptography::ed25519::PublicKey,
            quota: Quota,
        ) -> (
            (commonware_p2p::simulated::Sender<commonware_cryptography::ed25519::PublicKey, deterministic::Context>, commonware_p2p::simulated::Receiver<commonware_cryptography::ed25519::PublicKey>),
            (commonware_p2p::simulated::Sender<commonware_cryptography::ed25519::PublicKey, deterministic::Context>, commonware_p2p::simulated::Receiver<commonware_cryptography::ed25519::PublicKey>),
            (commonware_p2p::simulated::Sender<commonware_cryptography::ed25519::PublicKey, deterministic::Context>, commonware_p2p::simulated::Receiver<commonware_cryptography::ed25519::PublicKey>),
        ) {
            let c = oracle.control(v.clone());
            (
                c.register(0, quota).await.unwrap(),
                c.register(1, quota).await.unwrap(),
                c.register(2, quota).await.unwrap(),
            )
        }
        // Validator 0 equivocates (sends different proposals to different peers).
        {
            let regs = register(&mut oracle, &participants[0], quota).await;
            let eq = mocks::equivocator::Equivocator::new(
                context.child("byzantine"),
                mocks::equivocator::Config::<_, _, Sha256> {
                    scheme: schemes[0].clone(),
                    elector: elector.clone(),
                    epoch,
                    relay: relay.clone(),
                },
            );
            eq.start(regs.0, regs.1);
        }
        for idx in 1..n as usize {
            let regs = register(&mut oracle, &participants[idx], quota).await;
            let ctx = context.child("validator").with_attribute("index", idx);
            let (rep, h) = start(idx, ctx, &mut oracle, regs);
            reporters.insert(idx, rep);
            handles.insert(idx, h);
        }
        // Let it run, then partition validator 3 away (f=1 => 1..=2 honest + byzantine can't
        // finalize without 3; expect a stall), then crash 3 while partitioned.
        context.sleep(Duration::from_secs(20)).await;
        for p in &participants {
            if *p != participants[3] {
                oracle.remove_link(p.clone(), participants[3].clone()).await.unwrap();
                oracle.remove_link(participants[3].clone(), p.clone()).await.unwrap();
            }
        }
        context.sleep(Duration::from_secs(10)).await;
        let (e, a) = handles.remove(&3).unwrap();
        e.abort(); // crash: engine and its application die together
        a.abort();
        context.sleep(Duration::from_secs(5)).await;
        // Heal and restart 3 from its (simulated) disk.
        for p in &participants {
            if *p != participants[3] {
                oracle.add_link(p.clone(), participants[3].clone(), lossy.clone()).await.unwrap();
                oracle.add_link(participants[3].clone(), p.clone(), lossy.clone()).await.unwrap();
            }
        }
        let regs = register(&mut oracle, &participants[3], quota).await;
        let ctx = context.child("validator_restarted").with_attribute("index", 3);
        let (rep3, h3) = start(3, ctx, &mut oracle, regs);
        handles.insert(3, h3);
        crashed.push(reporters.insert(3, rep3).unwrap());
        // Liveness after healing: every honest reporter reaches view 60.
        let target = View::new(60);
        for r in reporters.values_mut() {
            let (mut latest, mut mon) = r.subscribe().await;
            while latest < target {
                latest = mon.recv().await.expect("monitor");
            }
        }
        // Safety: no two different finalized payloads at one view across all reporters.
        let mut by_view: BTreeMap<u64, Sha256Digest> = BTreeMap::new();
        let mut seeds = BTreeMap::new();
        for r in reporters.values().chain(crashed.iter()) {
            for (view, (fin, _)) in r.finalizations.lock().iter() {
                let prev = by_view.insert(view.get(), fin.proposal.payload);
                assert!(prev.is_none() || prev == Some(fin.proposal.payload), "conflicting finalization at {view}");
                seeds.insert(view.get(), fin.seed().encode().to_vec());
            }
        }
        let nullified: usize = reporters.values().map(|r| r.nullifications.lock().len()).max().unwrap_or(0);
        eprintln!("nullified views (equivocating leader, partition): {nullified}");
        assert!(seeds.len() >= 20, "too few finalized views: {}", seeds.len());
        (context.auditor().state(), seeds.into_iter().collect())
    })
}

#[test]
fn sim_is_safe_live_and_deterministic() {
    for seed in 0..5u64 {
        let a = run(seed);
        let b = run(seed);
        assert_eq!(a.0, b.0, "auditor state differs for seed {seed}");
        assert_eq!(a.1, b.1, "seeds differ for seed {seed}");
        eprintln!("seed {seed}: {} finalized views, auditor {}", a.1.len(), &a.0[..16.min(a.0.len())]);
    }
}

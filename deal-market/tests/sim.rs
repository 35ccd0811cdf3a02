//! Deterministic simulation of the validator shell: the real [`Chain`],
//! [`App`](cairn_deal_market::app::App), block rule, finalizer, gossip and
//! RocksDB store, wired by the same [`start_consensus`] as the production
//! validator, but on commonware's deterministic runtime (one thread, a
//! simulated clock, every choice drawn from the seed) and its simulated
//! p2p network instead of tokio and TCP.
//!
//! Four validators from a genesis the seed generates. Validator 0 is
//! Byzantine: commonware's `mocks::equivocator` signs two different
//! proposals for each view it leads and sends one to a single victim, the
//! other to the rest. Validators 1–3 are honest; every link loses 10% of
//! its messages (50 ± 20 ms latency). The script, in simulated time:
//! at 5 s three transfers submitted to three validators' mempools
//! (gossiped from there); once the chain has 3 blocks, plus up to 3 s
//! (the seed picks), validator 2 crashes while the chain is live (its
//! tasks aborted, its RocksDB closed) and 3 s later restarts from its disk
//! and the consensus storage it left in the runtime; the three honest
//! validators must then finalize 3 more blocks; then validator 3 is cut
//! off (with the equivocator never voting, the chain stalls), a fourth
//! transfer is submitted, and 10 s later the partition heals. Then every
//! honest validator must finalize 10 more blocks and hold all four
//! transfers.
//!
//! Checked: safety (no two different blocks, or state roots, at one
//! height across the honest validators' stores), liveness (progress after
//! the restart, and the bound above within 300 simulated seconds of
//! healing), the stall while partitioned, determinism (each seed run twice gives the same
//! per-validator (height, digest, state root) sequences and the same
//! runtime audit digest), recovery (the restarted validator's store
//! reaches the same tip state as the others) and that the equivocator did
//! equivocate.
//!
//! `CAIRN_SIM_SEEDS=N` runs seeds 0..N (default 5).
#![allow(
    clippy::expect_used,
    reason = "a test: a failed expectation is a failed test"
)]

use std::path::Path;
use std::sync::{Arc, Weak};
use std::time::{Duration, UNIX_EPOCH};

use cairn_deal_market::block::Block;
use cairn_deal_market::chain::Chain;
use cairn_deal_market::config::{Home, Ports, write_testnet_with};
use cairn_deal_market::metrics::Metrics;
use cairn_deal_market::node::{Channels, MAX_MESSAGE, Wiring, start_consensus};
use cairn_deal_market::store::Store;
use cairn_deal_market::{PublicKey, Scheme};
use cairn_ledger::Params;
use cairn_ledger::codec::Encode as _;
use cairn_ledger::ids::{Address, PublicKey as LedgerKey, Signature, signing_bytes};
use cairn_ledger::tx::{SignedTx, TX_DOMAIN, Tx, TxBody};
use commonware_codec::DecodeExt as _;
use commonware_consensus::simplex::elector::{Random, RandomVersion};
use commonware_consensus::simplex::mocks::{equivocator, relay::Relay};
use commonware_consensus::types::Epoch;
use commonware_cryptography::{Digestible as _, Sha256, Signer as _};
use commonware_p2p::simulated::{self, Link, Network, Oracle};
use commonware_runtime::deterministic::{self, Context};
use commonware_runtime::{
    Clock as _, Handle, Metrics as _, Quota, Runner as _, Spawner as _, Supervisor as _,
};
use commonware_utils::{NZU32, NZUsize, probability};
use ed25519_dalek::{Signer as _, SigningKey};
use rand_core::Rng as _;

const N: usize = 4;
const BYZANTINE: usize = 0;
const PARTITIONED: usize = 3;
const CRASHED: usize = 2;
const HONEST: [usize; 3] = [1, 2, 3];

/// (height, block digest, state root) of every finalized block, from the
/// validator's RocksDB.
type History = Vec<(u64, [u8; 32], [u8; 32])>;

#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    histories: Vec<History>,
    audit: String,
}

struct Validator {
    handle: Handle<()>,
    chain: Weak<Chain>,
}

fn link() -> Link {
    Link {
        latency: Duration::from_millis(50),
        jitter: Duration::from_millis(20),
        success_rate: probability!(0.9),
    }
}

fn scheme(home: &Home) -> Scheme {
    let spec = &home.spec;
    Scheme::signer(
        spec.file.namespace.as_bytes(),
        spec.participants.clone(),
        spec.polynomial.clone(),
        home.share.clone(),
    )
    .unwrap()
}

/// Opens validator `i`'s store and chain and starts its consensus as a
/// task of its own, so that aborting the task crashes all of it.
async fn start(
    context: &Context,
    label: &'static str,
    oracle: &Oracle<PublicKey, Context>,
    home: &Home,
    i: usize,
) -> Validator {
    let me = home.key.public_key();
    let control = oracle.control(me.clone());
    let quota = Quota::per_second(NZU32!(10_000));
    let channels = Channels {
        votes: control.register(0, quota).await.unwrap(),
        certificates: control.register(1, quota).await.unwrap(),
        resolver: control.register(2, quota).await.unwrap(),
        backfill: control.register(3, quota).await.unwrap(),
        broadcast: control.register(4, quota).await.unwrap(),
        txs: control.register(5, quota).await.unwrap(),
    };
    let spec = home.spec.clone();
    let verifier = Scheme::verifier(
        spec.file.namespace.as_bytes(),
        spec.participants.clone(),
        spec.polynomial.clone(),
    );
    let store = Store::open(&home.dir.join("ledger")).unwrap();
    let chain =
        Arc::new(Chain::open(spec, &home.keys, store, Metrics::new().unwrap(), verifier).unwrap());
    let weak = Arc::downgrade(&chain);
    let wiring = Wiring {
        scheme: scheme(home),
        me,
        peers: oracle.manager(),
        blocker: control,
        partition_prefix: format!("v{i}-"),
    };
    let handle = context
        .child(label)
        .with_attribute("index", i)
        .spawn(move |ctx| async move {
            let running = start_consensus(ctx, chain, wiring, channels).await.unwrap();
            let why = running.stopped().await;
            panic!("validator {i} stopped: {why}");
        });
    Validator {
        handle,
        chain: weak,
    }
}

/// A transfer of `amount` to `to`, signed by demo account `from`.
fn transfer(dir: &Path, from: usize, nonce: u64, to: Address, amount: u128) -> SignedTx {
    let accounts: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("accounts.json")).unwrap()).unwrap();
    let sk: [u8; 32] = hex::decode(accounts[from]["secret_key"].as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap();
    let key = SigningKey::from_bytes(&sk);
    let tx = Tx {
        chain_id: 1,
        nonce,
        signer: LedgerKey(key.verifying_key().to_bytes()),
        body: TxBody::Transfer { to, amount },
    };
    let signature = Signature(
        key.sign(&signing_bytes(TX_DOMAIN, &tx.to_bytes()))
            .to_bytes(),
    );
    SignedTx { tx, signature }
}

fn chain(v: &Validator) -> Arc<Chain> {
    v.chain.upgrade().expect("validator running")
}

fn height(v: &Validator) -> u64 {
    chain(v).finalized().0.height
}

fn history(v: &Validator) -> History {
    let chain = chain(v);
    let (tip, state) = chain.finalized();
    assert_eq!(
        state.root(),
        tip.root,
        "live state differs from the tip's root"
    );
    (1..=tip.height)
        .map(|h| {
            let bytes = chain
                .store()
                .block(h)
                .unwrap()
                .expect("finalized block stored");
            let b = Block::decode(bytes).unwrap();
            assert_eq!(b.height, h);
            let digest: [u8; 32] = b.digest().as_ref().try_into().unwrap();
            (h, digest, b.state_root)
        })
        .collect()
}

/// Votes the equivocator sent (the simulated network's counters): it
/// sends nothing but pairs of conflicting notarizes.
fn equivocating_votes(context: &Context, byzantine: &PublicKey) -> u64 {
    let origin = format!("origin=\"{byzantine}\"");
    context
        .encode()
        .lines()
        .filter(|l| {
            l.contains("messages_sent") && l.contains(&origin) && l.contains("channel=\"0\"")
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .sum()
}

fn run(seed: u64) -> Outcome {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_owned();
    let cfg = deterministic::Config::new()
        .with_seed(seed)
        .with_start_time(UNIX_EPOCH + Duration::from_secs(1_800_000_000))
        .with_timeout(Some(Duration::from_secs(1_200)));
    deterministic::Runner::new(cfg).start(|mut context| async move {
        write_testnet_with(
            &dir,
            N,
            2,
            Ports::Base {
                api: 26657,
                p2p: 26700,
                metrics: 9100,
            },
            Params::devnet(),
            &[],
            &mut context,
        )
        .unwrap();
        let homes: Vec<Home> = (0..N)
            .map(|i| Home::load(&dir.join(i.to_string())).unwrap())
            .collect();
        let keys: Vec<PublicKey> = homes.iter().map(|h| h.key.public_key()).collect();

        let (network, oracle) = Network::new_with_peers(
            context.child("network"),
            simulated::Config {
                max_size: MAX_MESSAGE,
                disconnect_on_block: true,
                tracked_peer_sets: NZUsize!(1),
                max_peers_per_set: NZUsize!(N),
            },
            keys.clone(),
        )
        .await;
        network.start();
        for a in &keys {
            for b in &keys {
                if a != b {
                    oracle.add_link(a.clone(), b.clone(), link()).await.unwrap();
                }
            }
        }

        // The equivocator speaks on the vote channel and listens for
        // certificates; it runs none of our code.
        let byz = oracle.control(keys[BYZANTINE].clone());
        let quota = Quota::per_second(NZU32!(10_000));
        let votes = byz.register(0, quota).await.unwrap();
        let certificates = byz.register(1, quota).await.unwrap();
        equivocator::Equivocator::new(
            context.child("byzantine"),
            equivocator::Config::<_, _, Sha256> {
                scheme: scheme(&homes[BYZANTINE]),
                elector: Random::<Sha256>::new(RandomVersion::V1),
                epoch: Epoch::zero(),
                relay: Arc::new(Relay::new()),
            },
        )
        .start(votes, certificates);

        let mut validators = Vec::new();
        for i in HONEST {
            validators.push((i, start(&context, "validator", &oracle, &homes[i], i).await));
        }
        let v = |validators: &[(usize, Validator)], i: usize| -> Arc<Chain> {
            chain(&validators.iter().find(|(j, _)| *j == i).unwrap().1)
        };

        // Transfers into the mempools of 1, 2 and 3, gossiped from there.
        let to = |k: u8| Address([k; 20]);
        context.sleep(Duration::from_secs(5)).await;
        let mut receipts = Vec::new();
        for (nonce, i) in HONEST.into_iter().enumerate() {
            let tx = transfer(&dir, 0, nonce as u64, to(i as u8), 1_000 + nonce as u128);
            receipts.push(v(&validators, i).submit(tx).unwrap());
        }
        // Crash validator 2 while the chain is live, once it has 3 blocks,
        // at a time the seed picks: every task it runs is aborted; its
        // chain (and RocksDB) must be released before it reopens.
        let started = context.current();
        while height(&validators[0].1) < 3 {
            assert!(
                context.current() < started + Duration::from_secs(120),
                "seed {seed}: fewer than 3 blocks in 120 s"
            );
            context.sleep(Duration::from_millis(500)).await;
        }
        let jitter = context.next_u64() % 3_000;
        context.sleep(Duration::from_millis(jitter)).await;
        let before_crash = height(&validators[0].1);
        let pos = validators.iter().position(|(i, _)| *i == CRASHED).unwrap();
        let (_, crashed) = validators.remove(pos);
        crashed.handle.abort();
        context.sleep(Duration::from_secs(3)).await;
        assert!(
            crashed.chain.upgrade().is_none(),
            "validator {CRASHED}'s chain outlived its tasks"
        );
        let crashed_height = {
            let store = Store::open(&homes[CRASHED].dir.join("ledger")).unwrap();
            store.tip().unwrap().map_or(0, |t| t.height)
        };
        validators.push((
            CRASHED,
            start(&context, "restarted", &oracle, &homes[CRASHED], CRASHED).await,
        ));
        validators.sort_by_key(|(i, _)| *i);
        assert!(
            height(&validators[1].1) >= crashed_height,
            "restarted below its persisted tip"
        );
        // The three honest validators, the restarted one among them, are
        // a quorum again.
        let restarted_at = validators.iter().map(|(_, v)| height(v)).max().unwrap();
        let restarted_time = context.current();
        let before_partition = loop {
            let low = validators.iter().map(|(_, v)| height(v)).min().unwrap();
            if low > restarted_at + 2 {
                break low;
            }
            assert!(
                context.current() < restarted_time + Duration::from_secs(120),
                "seed {seed}: no progress after the restart (height {restarted_at}): {:?}",
                validators.iter().map(|(i, v)| (*i, height(v))).collect::<Vec<_>>()
            );
            context.sleep(Duration::from_millis(500)).await;
        };
        let recovery = context.current().duration_since(restarted_time).unwrap();

        // Cut validator 3 off: the two honest left and the equivocator are
        // no quorum. A transfer arrives meanwhile.
        for k in &keys {
            if *k != keys[PARTITIONED] {
                oracle.remove_link(k.clone(), keys[PARTITIONED].clone()).await.unwrap();
                oracle.remove_link(keys[PARTITIONED].clone(), k.clone()).await.unwrap();
            }
        }
        context.sleep(Duration::from_secs(5)).await;
        let late = transfer(&dir, 1, 0, to(9), 777);
        receipts.push(v(&validators, 1).submit(late).unwrap());
        context.sleep(Duration::from_secs(5)).await;

        // Heal.
        for k in &keys {
            if *k != keys[PARTITIONED] {
                oracle.add_link(k.clone(), keys[PARTITIONED].clone(), link()).await.unwrap();
                oracle.add_link(keys[PARTITIONED].clone(), k.clone(), link()).await.unwrap();
            }
        }
        let healed = validators.iter().map(|(_, v)| height(v)).max().unwrap();
        // Without validator 3 there was no quorum: at most a block already
        // certified when the links went down was finalized meanwhile.
        assert!(
            healed <= before_partition + 1,
            "seed {seed}: finalized {before_partition} -> {healed} without a quorum"
        );
        let bound = healed + 10;
        let expected = [(to(1), 1_000), (to(2), 1_001), (to(3), 1_002), (to(9), 777)];
        let deadline = context.current() + Duration::from_secs(300);
        loop {
            let done = validators.iter().all(|(_, v)| {
                let (tip, state) = chain(v).finalized();
                tip.height >= bound
                    && expected
                        .iter()
                        .all(|(a, amount)| state.account(a).balance == *amount)
            });
            if done {
                break;
            }
            assert!(
                context.current() < deadline,
                "seed {seed}: no progress to height {bound} with the transfers in 300 s after \
                 healing at {healed}: heights {:?}",
                validators.iter().map(|(i, v)| (*i, height(v))).collect::<Vec<_>>()
            );
            context.sleep(Duration::from_secs(1)).await;
        }
        // The submitters' waiters heard of inclusion (the crashed
        // validator's died with it unless the transfer was already in).
        for (k, r) in receipts.into_iter().enumerate() {
            let Ok(included) = r.await else {
                assert_eq!(k, 1, "seed {seed}: receipt {k} lost");
                continue;
            };
            assert_eq!(included.receipt["ok"], true, "{}", included.receipt);
        }

        let histories: Vec<History> = validators.iter().map(|(_, v)| history(v)).collect();
        let blocked = oracle.blocked().await.unwrap();
        let equivocations = equivocating_votes(&context, &keys[BYZANTINE]);
        assert!(equivocations > 0, "seed {seed}: the equivocator never equivocated");
        eprintln!(
            "seed {seed}: heights {:?}, crash at {before_crash}, recovered in {recovery:?}, partition at {before_partition}, \
             healed at {healed}, {equivocations} equivocating votes, {} blocked links, t = {:?}",
            histories.iter().map(Vec::len).collect::<Vec<_>>(),
            blocked.len(),
            context.current().duration_since(UNIX_EPOCH + Duration::from_secs(1_800_000_000)).unwrap(),
        );
        Outcome {
            histories,
            audit: context.auditor().state(),
        }
    })
}

/// Safety across the honest validators, and the restarted one at the
/// others' state.
fn check(seed: u64, o: &Outcome) {
    let longest = o.histories.iter().map(Vec::len).max().unwrap();
    for h in 0..longest {
        let at: Vec<_> = o.histories.iter().filter_map(|x| x.get(h)).collect();
        assert!(
            at.windows(2).all(|w| w[0] == w[1]),
            "seed {seed}: validators disagree at height {}: {at:?}",
            h + 1
        );
    }
    let common = o.histories.iter().map(Vec::len).min().unwrap();
    let restarted = &o.histories[HONEST.iter().position(|i| *i == CRASHED).unwrap()];
    for other in &o.histories {
        assert_eq!(restarted[common - 1], other[common - 1]);
    }
}

#[test]
fn sim_is_safe_live_and_deterministic() {
    let seeds: u64 = std::env::var("CAIRN_SIM_SEEDS")
        .ok()
        .map(|s| s.parse().expect("CAIRN_SIM_SEEDS is a number"))
        .unwrap_or(5);
    for seed in 0..seeds {
        let wall = std::time::Instant::now();
        let a = run(seed);
        eprintln!("seed {seed}: one run in {:?} of wall time", wall.elapsed());
        check(seed, &a);
        let b = run(seed);
        assert_eq!(
            a.histories, b.histories,
            "seed {seed}: histories differ between runs"
        );
        assert_eq!(
            a.audit, b.audit,
            "seed {seed}: runtime audit differs between runs"
        );
    }
}

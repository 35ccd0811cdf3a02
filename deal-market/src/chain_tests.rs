//! Tests of the block rule and of finalize, with real threshold seeds.

use super::*;
use crate::config::{Home, Ports, write_testnet};
use cairn_ledger::Params;
use commonware_consensus::simplex::scheme::bls12381_threshold::vrf::Seedable as _;
use commonware_consensus::simplex::types::{Notarization, Notarize, Proposal};
use commonware_consensus::types::View;
use commonware_parallel::Sequential;
use commonware_utils::non_empty;

struct Fixture {
    dir: tempfile::TempDir,
    spec: ChainSpec,
    schemes: Vec<Scheme>,
    verifier: Scheme,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let params = Params {
        blocks_per_epoch: 2,
        ..Params::devnet()
    };
    write_testnet(dir.path(), 4, 1, Ports::Free, params).unwrap();
    let homes: Vec<Home> = (0..4)
        .map(|i| Home::load(&dir.path().join(i.to_string())).unwrap())
        .collect();
    let spec = homes[0].spec.clone();
    let ns = spec.file.namespace.as_bytes().to_vec();
    let schemes = homes
        .iter()
        .map(|h| {
            Scheme::signer(
                &ns,
                spec.participants.clone(),
                spec.polynomial.clone(),
                h.share.clone(),
            )
            .unwrap()
        })
        .collect();
    let verifier = Scheme::verifier(&ns, spec.participants.clone(), spec.polynomial.clone());
    Fixture {
        dir,
        spec,
        schemes,
        verifier,
    }
}

impl Fixture {
    fn chain(&self) -> Chain {
        let store = Store::open(&self.dir.path().join("db")).unwrap();
        Chain::open(
            self.spec.clone(),
            &std::collections::BTreeMap::new(),
            store,
            Metrics::new().unwrap(),
            self.verifier.clone(),
        )
        .unwrap()
    }

    /// A real threshold seed for `view`: three of four notarize votes.
    fn seed(&self, view: u64) -> Seed {
        let round = Round::new(Epoch::zero(), View::new(view));
        let proposal = Proposal::new(round, View::zero(), Digest::from([1; 32]));
        let votes: Vec<_> = self.schemes[..3]
            .iter()
            .map(|s| Notarize::sign(s, proposal.clone()).unwrap())
            .collect();
        Notarization::from_notarizes(&self.schemes[0], non_empty![@&votes], &Sequential)
            .unwrap()
            .seed()
    }
}

fn ctx(chain: &Chain, view: u64, parent: &Digested<Block>) -> crate::Context {
    crate::Context {
        round: Round::new(Epoch::zero(), View::new(view)),
        leader: chain.spec().participants.iter().next().unwrap().clone(),
        parent: (parent.inner().view(), parent.digest()),
    }
}

fn with(b: &Block, f: impl FnOnce(&mut Block)) -> Digested<Block> {
    let mut b = b.clone();
    f(&mut b);
    let b = Block::new(
        b.context,
        b.parent,
        b.height,
        b.timestamp_ms,
        b.beacon,
        b.txs,
        b.state_root,
    );
    let d = b.digest();
    Digested::precomputed(b, d)
}

#[test]
fn execute_checks_beacon_root_and_timestamp() {
    let fx = fixture();
    let chain = fx.chain();
    let g = chain.genesis().clone();
    let (_, g_state) = chain.finalized();
    // Height 1 ends no epoch (2 blocks per epoch).
    let b1 = chain
        .build(ctx(&chain, 1, &g), &g, &g_state, 1_000)
        .unwrap();
    assert!(b1.block.inner().beacon.is_none());
    // Height 2 ends epoch 0: its proposer needs the seed of b1's view.
    let b2_ctx = ctx(&chain, 2, &b1.block);
    assert!(
        chain
            .build(b2_ctx.clone(), &b1.block, &b1.state, 2_000)
            .is_none()
    );
    chain.record_seed(fx.seed(1));
    let b2 = chain.build(b2_ctx, &b1.block, &b1.state, 2_000).unwrap();
    let good = b2.block.inner();
    assert_eq!(good.beacon, Some(fx.seed(1)));
    let ok = chain
        .execute(&b1.state, b1.block.inner(), &b2.block)
        .unwrap();
    assert_eq!(ok.state.epoch().0, 1);
    assert_eq!(
        ok.state.randomness(cairn_ledger::Epoch(1)),
        Some(beacon_of(&fx.seed(1)))
    );

    let refuse = |b: Digested<Block>| chain.execute(&b1.state, b1.block.inner(), &b);
    assert_eq!(
        refuse(with(good, |b| b.beacon = None)).unwrap_err(),
        InvalidBlock::Beacon { what: "missing" }
    );
    assert_eq!(
        refuse(with(good, |b| b.beacon = Some(fx.seed(7)))).unwrap_err(),
        InvalidBlock::Beacon {
            what: "not of the parent's round"
        }
    );
    let mut forged = fx.seed(1);
    forged.signature = fx.seed(2).signature;
    assert_eq!(
        refuse(with(good, |b| b.beacon = Some(forged))).unwrap_err(),
        InvalidBlock::Beacon {
            what: "signature does not verify"
        }
    );
    assert!(matches!(
        refuse(with(good, |b| b.state_root = [9; 32])),
        Err(InvalidBlock::Root { .. })
    ));
    assert!(matches!(
        refuse(with(good, |b| b.timestamp_ms = 1_000)),
        Err(InvalidBlock::Timestamp { .. })
    ));
    assert!(matches!(
        refuse(with(good, |b| b.height = 3)),
        Err(InvalidBlock::NotChild { .. })
    ));
    // A beacon on a block that ends no epoch.
    assert!(matches!(
        chain.execute(
            &g_state,
            g.inner(),
            &with(b1.block.inner(), |b| b.beacon = Some(fx.seed(0)))
        ),
        Err(InvalidBlock::Beacon { .. })
    ));
}

#[test]
fn finalize_persists_and_reopens_idempotently() {
    let fx = fixture();
    let (b1, b2, root2) = {
        let chain = fx.chain();
        let g = chain.genesis().clone();
        let (_, g_state) = chain.finalized();
        let b1 = chain
            .build(ctx(&chain, 1, &g), &g, &g_state, 1_000)
            .unwrap();
        chain.record_seed(fx.seed(1));
        let b2 = chain
            .build(ctx(&chain, 2, &b1.block), &b1.block, &b1.state, 2_000)
            .unwrap();
        // Out of order is refused; in order persists.
        assert!(matches!(
            chain.finalize(b2.block.clone()),
            Err(ChainError::OutOfOrder { height: 2, tip: 0 })
        ));
        chain.finalize(b1.block.clone()).unwrap();
        chain.finalize(b2.block.clone()).unwrap();
        let (tip, state) = chain.finalized();
        assert_eq!(tip.height, 2);
        assert_eq!(tip.root, state.root());
        (b1.block.clone(), b2.block.clone(), tip.root)
    };
    // Reopen: the state comes from RocksDB; redeliveries change nothing.
    let chain = fx.chain();
    let (tip, state) = chain.finalized();
    assert_eq!((tip.height, tip.root, state.root()), (2, root2, root2));
    chain.finalize(b1).unwrap();
    chain.finalize(b2).unwrap();
    assert_eq!(chain.finalized().0, tip);
    assert!(chain.store().block(2).unwrap().is_some());
}

/// Demo account 0's key and account 1's address.
fn demo_keys(fx: &Fixture) -> (ed25519_dalek::SigningKey, cairn_ledger::Address) {
    let accounts: Vec<crate::config::DemoAccount> =
        crate::config::read_json(&fx.dir.path().join("accounts.json")).unwrap();
    let sk: [u8; 32] = hex::decode(&accounts[0].secret_key)
        .unwrap()
        .try_into()
        .unwrap();
    let to: [u8; 20] = hex::decode(&accounts[0].address)
        .unwrap()
        .try_into()
        .unwrap();
    (
        ed25519_dalek::SigningKey::from_bytes(&sk),
        cairn_ledger::Address(to),
    )
}

fn transfer(
    key: &ed25519_dalek::SigningKey,
    nonce: u64,
    to: cairn_ledger::Address,
    amount: u128,
) -> SignedTx {
    use ed25519_dalek::Signer as _;
    let tx = cairn_ledger::Tx {
        chain_id: 1,
        nonce,
        signer: cairn_ledger::PublicKey(key.verifying_key().to_bytes()),
        body: cairn_ledger::TxBody::Transfer { to, amount },
    };
    let msg = cairn_ledger::ids::signing_bytes(cairn_ledger::tx::TX_DOMAIN, &tx.to_bytes());
    SignedTx {
        tx,
        signature: cairn_ledger::Signature(key.sign(&msg).to_bytes()),
    }
}

#[test]
fn admission_runs_the_ledger_on_the_pending_state() {
    let fx = fixture();
    let chain = fx.chain();
    let (key, me) = demo_keys(&fx);
    let to = cairn_ledger::Address([9; 20]);
    let balance = crate::config::DEMO_BALANCE;
    let first = chain.submit(transfer(&key, 0, to, balance - 20));
    assert!(first.is_ok());
    // The pending state has spent all but 20: more is refused with the
    // ledger's reason, and nothing is admitted.
    assert!(matches!(
        chain.submit(transfer(&key, 1, to, 21)),
        Err(Rejected::Refused(
            cairn_ledger::Refusal::InsufficientBalance { .. }
        ))
    ));
    // The next nonce after the pending one is accepted, and a nonce
    // ahead of it waits (its predecessor may be on its way by gossip).
    assert!(chain.submit(transfer(&key, 1, to, 10)).is_ok());
    let mut queued = chain.submit(transfer(&key, 3, to, 11)).unwrap();
    // A used nonce with other contents is refused.
    assert!(matches!(
        chain.submit(transfer(&key, 1, to, 9)),
        Err(Rejected::Refused(cairn_ledger::Refusal::BadNonce {
            expected: 2,
            got: 1
        }))
    ));
    // A block takes both applied transfers, not the queued one; finalizing
    // it answers the waiter with the receipt.
    let g = chain.genesis().clone();
    let (_, g_state) = chain.finalized();
    let b1 = chain
        .build(ctx(&chain, 1, &g), &g, &g_state, 1_000)
        .unwrap();
    assert_eq!(b1.block.inner().txs.len(), 2);
    chain.finalize(b1.block.clone()).unwrap();
    let (_, state) = chain.finalized();
    assert_eq!(state.account(&me).balance, 10);
    assert_eq!(state.account(&to).balance, balance - 10);
    let mut rx = first.unwrap();
    let included = rx.try_recv().unwrap();
    assert_eq!(included.receipt["ok"], Value::Bool(true));
    assert_eq!(chain.metrics().mempool.get(), 1, "nonce 3 waits");
    // Nonce 2 arrives: it applies, and nonce 3 is promoted and judged: 11
    // is more than the 5 left, so the ledger refuses it and its waiter
    // hears the reason.
    assert!(chain.submit(transfer(&key, 2, to, 5)).is_ok());
    let refused = queued.try_recv().unwrap();
    assert_eq!(refused.receipt["ok"], Value::Bool(false));
    assert!(
        refused.receipt["refusal"]
            .as_str()
            .unwrap()
            .contains("balance"),
        "{}",
        refused.receipt
    );
    assert_eq!(chain.metrics().mempool.get(), 1);
}

/// Writes the `validator_block` fuzz target's seed corpus: the genesis
/// block, blocks with transactions, with a real threshold seed, and one
/// cut short. Run with `cargo test -p cairn-deal-market --lib --
/// --ignored write_fuzz_seeds`.
#[test]
#[ignore = "writes fuzz/corpus/validator_block"]
fn write_fuzz_seeds() {
    let fx = fixture();
    let chain = fx.chain();
    let (key, _) = demo_keys(&fx);
    let to = cairn_ledger::Address([7; 20]);
    let g = chain.genesis().clone();
    let txs = vec![transfer(&key, 0, to, 5), transfer(&key, 1, to, 6)];
    let b1 = Block::new(ctx(&chain, 1, &g), g.digest(), 1, 1_000, None, txs, [1; 32]);
    let b1d = Digested::precomputed(b1.clone(), b1.digest());
    let b2 = Block::new(
        ctx(&chain, 2, &b1d),
        b1.digest(),
        2,
        2_000,
        Some(fx.seed(1)),
        vec![transfer(&key, 2, to, 7)],
        [2; 32],
    );
    let b3 = Block::new(
        ctx(&chain, 5, &b1d),
        b1.digest(),
        2,
        3_000,
        Some(fx.seed(4)),
        Vec::new(),
        [3; 32],
    );
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/validator_block");
    std::fs::create_dir_all(&dir).unwrap();
    let full = b2.encode();
    let seeds: Vec<(&str, Vec<u8>)> = vec![
        ("genesis", g.inner().encode().to_vec()),
        ("two-transfers", b1.encode().to_vec()),
        ("beacon-and-transfer", full.to_vec()),
        ("beacon-no-txs", b3.encode().to_vec()),
        ("cut-short", full[..full.len() / 2].to_vec()),
    ];
    for (name, bytes) in seeds {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
}

/// Writes a WindowPoSt verifying key (generated from `seed`) to `path`.
fn write_vk(path: &std::path::Path, seed: u64) {
    use ark_serialize::CanonicalSerialize as _;
    use cairn_proofs::snark::{groth16, post_circuit::WindowPostCircuit};
    use rand_chacha::rand_core::SeedableRng as _;
    let post = SealProof::StackedDrg2KiBV1_1.window_post();
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(seed);
    let vk = groth16::generate_keys(&WindowPostCircuit::blank(post), &mut rng)
        .unwrap()
        .vk;
    let mut bytes = Vec::new();
    vk.serialize_compressed(&mut bytes).unwrap();
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn a_validator_starts_only_with_the_keys_genesis_pins() {
    use crate::config::{KeyFiles, key_file_names, write_testnet_with};
    let p = SealProof::StackedDrg2KiBV1_1;
    let dir = tempfile::tempdir().unwrap();
    // The WindowPoSt key stands in for both circuits (the PoRep key takes
    // minutes to generate; the pinning does not care which circuit).
    let src = dir.path().join("key.vk");
    write_vk(&src, 5);
    let net = dir.path().join("net");
    let g = write_testnet_with(
        &net,
        4,
        1,
        Ports::Free,
        Params::devnet(),
        &[KeyFiles {
            proof: p,
            porep: src.clone(),
            window_post: src,
        }],
        &mut commonware_utils::sys_rng(),
    )
    .unwrap();
    assert_eq!(g.sector_sizes.len(), 1);
    let open = |home: &Home| {
        let ns = home.spec.file.namespace.as_bytes().to_vec();
        let verifier = Scheme::verifier(
            &ns,
            home.spec.participants.clone(),
            home.spec.polynomial.clone(),
        );
        let store = Store::open(&home.dir.join("ledger")).unwrap();
        Chain::open(
            home.spec.clone(),
            &home.keys,
            store,
            Metrics::new().unwrap(),
            verifier,
        )
    };
    let home = Home::load(&net.join("0")).unwrap();
    assert!(open(&home).is_ok(), "the pinned keys open the chain");
    drop(home);

    // Another key in the home's keys folder: the chain refuses to open,
    // naming both digests.
    let (porep_file, _) = key_file_names(p);
    write_vk(&net.join("keys").join(&porep_file), 6);
    let home = Home::load(&net.join("1")).unwrap();
    match open(&home) {
        Err(ChainError::Keys(e)) => {
            let msg = e.to_string();
            assert!(
                msg.contains("PoRep") && msg.contains("genesis pins"),
                "{msg}"
            );
        }
        other => panic!("opened with a key genesis does not pin: {:?}", other.err()),
    }

    // A missing key file: the home does not load, and the error names it.
    std::fs::remove_file(net.join("keys").join(&porep_file)).unwrap();
    let err = Home::load(&net.join("2")).unwrap_err();
    assert!(err.to_string().contains(&porep_file), "{err}");
}

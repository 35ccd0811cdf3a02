//! The storage network end to end with real processes: one validator, six
//! `cairn-node` providers on loopback, `cairn add` + `cairn place` (4+2,
//! one deal per piece, published with the manifest), then `cairn get
//! --ledger` from an empty data dir: intact, with a provider serving
//! corrupted bytes (caught by the CID check, rebuilt from parity), and with
//! two providers killed.
//!
//! `cairn-validator` and `cairn-node` are other packages' binaries: taken
//! from beside this test's executable (target/debug/), where `cargo test
//! --workspace` puts them, or from `$CAIRN_VALIDATOR_BIN` / `$CAIRN_NODE_BIN`.

mod common;

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Proc, cairn, ok, read_json, sibling_bin};

use cairn_ledger::tx::TxBody;
use cairn_types::keys::Keypair;
use cairn_types::ledger::LedgerClient;
use rand::{Rng, SeedableRng};
use serde_json::Value;

/// One validator and `n` funded, registered providers with deal escrow.
struct Net {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    url: String,
    ledger: LedgerClient,
    accounts: Vec<Keypair>,
    owners: Vec<Keypair>,
    nodes: Vec<Proc>,
    _validator: Proc,
}

/// The two tests each start a network: one at a time on two cores.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn start_network(n: usize) -> Net {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_path_buf();
    let dir = &dir;

    let validator_bin = sibling_bin("CAIRN_VALIDATOR_BIN", "cairn-validator");
    let node_bin = sibling_bin("CAIRN_NODE_BIN", "cairn-node");

    // The ledger.
    let net = dir.join("net");
    let out = Command::new(&validator_bin)
        .args([
            "testnet",
            "--validators",
            "1",
            "--free-ports",
            "--blocks-per-epoch",
            "2",
        ])
        .args(["--sector-sizes", "2KiB", "--accounts", "3", "--dir"])
        .arg(&net)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let url = format!(
        "http://{}",
        read_json(&net.join("0/validator.json"))["api_listen"]
            .as_str()
            .unwrap()
    );
    let accounts: Vec<Keypair> = read_json(&net.join("accounts.json"))
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            let s = hex::decode(a["secret_key"].as_str().unwrap()).unwrap();
            Keypair::from_secret(s.try_into().unwrap())
        })
        .collect();
    let validator = Proc::spawn(
        Command::new(&validator_bin)
            .args(["run", "--home"])
            .arg(net.join("0")),
        dir.join("validator.log"),
    );
    let ledger = LedgerClient::new(&url).unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let chain_id = loop {
        if let Ok(s) = ledger.status().await
            && s.height >= 1
        {
            break s.chain_id;
        }
        assert!(Instant::now() < deadline, "the validator did not start");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };

    // Six providers, funded by account 0.
    let mut nodes = Vec::new();
    let mut owners = Vec::new();
    let funder = &accounts[0];
    let mut nonce = ledger.account(&funder.address()).await.unwrap().nonce;
    for i in 0..n {
        let home = dir.join(format!("node{i}"));
        let out = Command::new(&node_bin)
            .args(["init", "--home"])
            .arg(&home)
            .args([
                "--ledger",
                &url,
                "--sector-size",
                "2KiB",
                "--metrics-addr",
                "127.0.0.1:0",
            ])
            .args(["--listen", "/ip4/127.0.0.1/tcp/0", "--start-delay", "100"])
            .args(["--collateral", "5000", "--escrow", "5000"])
            // Retrieval is under test here; sealing would only compete
            // for the cores (client/tests/proving.rs seals).
            .arg("--no-seal")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let owner = Keypair::load(&home.join("owner.json")).unwrap();
        let tx = funder.sign_tx(
            chain_id,
            nonce,
            TxBody::Transfer {
                to: owner.address(),
                amount: 100_000,
            },
        );
        nonce += 1;
        ledger.submit(&tx).await.unwrap().events().unwrap();
        owners.push(owner);
        nodes.push(Proc::spawn(
            Command::new(&node_bin).args(["run", "--home"]).arg(&home),
            home.join("node.log"),
        ));
    }
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let ps = ledger.providers().await.unwrap();
        let mut ready = 0;
        for o in &owners {
            let a = ledger.account(&o.address()).await.unwrap();
            if ps.iter().any(|p| p.owner == o.address().to_string()) && a.escrow.free >= 5000 {
                ready += 1;
            }
        }
        if ready == n {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "providers not ready:\n{}",
            nodes[0].log()
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }

    Net {
        dir: dir.clone(),
        _tmp: tmp,
        url,
        ledger,
        accounts,
        owners,
        nodes,
        _validator: validator,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn place_then_get_from_providers_through_corruption_and_two_failures() {
    let _one = ONE_AT_A_TIME.lock().await;
    let mut net = start_network(6).await;
    let (dir, url, ledger) = (net.dir.clone(), net.url.clone(), net.ledger.clone());
    let dir = &dir;
    let (accounts, owners) = (&net.accounts, &net.owners);
    // The client: account 1's key as a wallet; a file added locally.
    let wallet = dir.join("wallet.json");
    accounts[1].save(&wallet).unwrap();
    let mut bytes = vec![0u8; 60_000];
    rand::rngs::StdRng::seed_from_u64(9).fill(&mut bytes[..]);
    let file = dir.join("file.bin");
    std::fs::write(&file, &bytes).unwrap();
    let data = dir.join("client");
    let data_s = data.to_str().unwrap();
    let cid = ok(
        cairn(
            &["add", file.to_str().unwrap(), "--data-dir", data_s],
            &url,
            &wallet,
        ),
        "add",
    )
    .trim()
    .to_owned();

    // Placement: every shard on its own provider, every deal published.
    let placed = ok(
        cairn(
            &[
                "place",
                &cid,
                "--data-dir",
                data_s,
                "--duration",
                "100",
                "--json",
            ],
            &url,
            &wallet,
        ),
        "place",
    );
    let v: Value = serde_json::from_str(placed.lines().last().unwrap()).unwrap();
    assert_eq!(
        (v["cid"].as_str(), v["k"].as_u64(), v["m"].as_u64()),
        (Some(cid.as_str()), Some(4), Some(2))
    );
    let shards = v["shards"].as_array().unwrap();
    assert_eq!(shards.len(), 6);
    let mut providers: Vec<u64> = shards
        .iter()
        .map(|s| s["provider"].as_u64().unwrap())
        .collect();
    assert!(
        shards
            .iter()
            .all(|s| s["state"] == "published" && s["deal_id"].is_u64()),
        "{v}"
    );
    providers.sort_unstable();
    providers.dedup();
    assert_eq!(providers.len(), 6, "one shard per provider: {v}");
    let manifests = ledger.get(&format!("/manifests/{cid}")).await.unwrap();
    let m = &manifests[0];
    let segments = m["shards"][0].as_array().unwrap().len();
    assert!(
        segments > 1,
        "a 60 kB object on 2 KiB sectors has several segments: {m}"
    );
    let deals = ledger.get(&format!("/deals?label={cid}")).await.unwrap();
    assert_eq!(deals.as_array().unwrap().len(), 6 * segments);
    // `cairn status` says the same, from the ledger.
    let st: Value = serde_json::from_str(&ok(
        cairn(&["status", &cid, "--json"], &url, &wallet),
        "status",
    ))
    .unwrap();
    assert_eq!(
        (st["k"].as_u64(), st["m"].as_u64()),
        (Some(4), Some(2)),
        "{st}"
    );
    for (a, b) in st["shards"].as_array().unwrap().iter().zip(shards) {
        assert_eq!(
            (&a["index"], &a["provider"], &a["state"]),
            (&b["index"], &b["provider"], &Value::from("published")),
            "{st}"
        );
        assert!(a["deal_id"].is_u64());
    }

    // Read back from an empty data dir, through the providers alone.
    let get = |name: &str| {
        let out_file = dir.join(name);
        let empty = dir.join(format!("empty-{name}"));
        let out = cairn(
            &[
                "get",
                &cid,
                "-o",
                out_file.to_str().unwrap(),
                "--data-dir",
                empty.to_str().unwrap(),
            ],
            &url,
            &wallet,
        );
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "get {name}: {stderr}");
        assert_eq!(
            std::fs::read(&out_file).unwrap(),
            bytes,
            "get {name}: bytes differ"
        );
        stderr
    };
    get("intact.bin");

    // Three providers' registered addresses made wrong, one more than
    // parity covers: the reader finds them on Kademlia, through the other
    // providers' routing tables, and reads everything.
    {
        use cairn_gateway::net::fetch::{Fetcher, locate};
        let mut located = locate(&ledger, &cid).await.unwrap();
        let nowhere: libp2p::Multiaddr = "/ip4/127.0.0.1/tcp/1".parse().unwrap();
        let mut moved = std::collections::BTreeSet::new();
        for s in located.shards.iter_mut().take(3) {
            for (_, p) in s.pieces.iter_mut() {
                let p = p.as_mut().unwrap();
                p.addrs = vec![nowhere.clone()];
                moved.insert(p.id);
            }
        }
        assert_eq!(moved.len(), 3);
        let p2p = cairn_types::p2p::Client::spawn(
            libp2p::identity::Keypair::generate_ed25519(),
            Duration::from_secs(30),
        )
        .unwrap();
        let fetcher = Fetcher::new(p2p, located);
        let mut blocks = std::collections::HashMap::new();
        let roots = fetcher
            .blocks(|c, d| {
                blocks.insert(c, d);
                Ok(())
            })
            .await
            .unwrap();
        let root: cid::Cid = cid.parse().unwrap();
        assert_eq!(roots, vec![root]);
        let mut back = Vec::new();
        for piece in cairn_dag::reader::FileReader::new(&blocks, root) {
            back.extend_from_slice(&piece.unwrap());
        }
        assert_eq!(back, bytes, "read through the addresses Kademlia found");
        assert!(fetcher.lying_shards().is_empty());
    }

    // The provider of shard 0 (a data shard) corrupts every piece it holds.
    let shard0 = shards[0]["provider"].as_u64().unwrap();
    let owner0 = ledger.provider(shard0).await.unwrap().unwrap().owner;
    let liar = owners
        .iter()
        .position(|o| o.address().to_string() == owner0)
        .unwrap();
    let pieces = dir.join(format!("node{liar}/data/pieces"));
    let mut corrupted = 0;
    for e in std::fs::read_dir(&pieces).unwrap() {
        let p = e.unwrap().path();
        let mut b = std::fs::read(&p).unwrap();
        for x in b.iter_mut().step_by(97) {
            *x ^= 0x5a;
        }
        std::fs::write(&p, b).unwrap();
        corrupted += 1;
    }
    assert_eq!(corrupted, segments);
    let said = get("repaired.bin");
    assert!(said.contains("rebuilt from parity"), "{said}");

    // Two providers down (the liar and shard 1's): still readable.
    let shard1 = shards[1]["provider"].as_u64().unwrap();
    let owner1 = ledger.provider(shard1).await.unwrap().unwrap().owner;
    let second = owners
        .iter()
        .position(|o| o.address().to_string() == owner1)
        .unwrap();
    net.nodes[liar].kill();
    net.nodes[second].kill();
    get("degraded.bin");

    // A third loss is one too many: the error says which shards failed.
    let third = (0..6).find(|i| *i != liar && *i != second).unwrap();
    net.nodes[third].kill();
    let out = cairn(
        &[
            "get",
            &cid,
            "-o",
            dir.join("lost.bin").to_str().unwrap(),
            "--data-dir",
            dir.join("empty-lost").to_str().unwrap(),
        ],
        &url,
        &wallet,
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("of the 4 shards needed could be fetched"),
        "{err}"
    );
    assert!(!dir.join("lost.bin").exists(), "no partial output");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_killed_mid_transfer_is_replaced_by_the_seventh() {
    let _one = ONE_AT_A_TIME.lock().await;
    let mut net = start_network(7).await;
    let (dir, url) = (net.dir.clone(), net.url.clone());
    let wallet = dir.join("wallet.json");
    net.accounts[1].save(&wallet).unwrap();
    // About 30 pieces per shard on 2 KiB sectors: long enough to kill a
    // provider in the middle of its shard.
    let mut bytes = vec![0u8; 240_000];
    rand::rngs::StdRng::seed_from_u64(11).fill(&mut bytes[..]);
    let file = dir.join("file.bin");
    std::fs::write(&file, &bytes).unwrap();
    let data = dir.join("client");
    let data_s = data.to_str().unwrap();
    let cid = ok(
        cairn(
            &["add", file.to_str().unwrap(), "--data-dir", data_s],
            &url,
            &wallet,
        ),
        "add",
    )
    .trim()
    .to_owned();

    let place_log = dir.join("place.log");
    let place = Command::new(env!("CARGO_BIN_EXE_cairn"))
        .args([
            "place",
            &cid,
            "--data-dir",
            data_s,
            "--duration",
            "100",
            "--json",
        ])
        .env_remove("CAIRN_CONFIG")
        .env("CAIRN_LEDGER", &url)
        .env("CAIRN_WALLET", &wallet)
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&place_log).unwrap())
        .spawn()
        .unwrap();
    // The first provider to countersign a piece is killed at once.
    let deadline = Instant::now() + Duration::from_secs(60);
    let victim = loop {
        if let Some(i) = (0..net.nodes.len()).find(|&i| {
            net.nodes[i]
                .log()
                .contains("piece received and countersigned")
        }) {
            break i;
        }
        assert!(Instant::now() < deadline, "no piece countersigned in 60 s");
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    net.nodes[victim].kill();
    let countersigned = net.nodes[victim]
        .log()
        .matches("piece received and countersigned")
        .count();

    let out = place.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let log = std::fs::read_to_string(&place_log).unwrap_or_default();
    assert!(out.status.success(), "place failed:\n{stdout}\n{log}");
    let v: Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    let shards = v["shards"].as_array().unwrap();
    assert!(shards.iter().all(|s| s["state"] == "published"), "{v}");
    let mut providers: Vec<u64> = shards
        .iter()
        .map(|s| s["provider"].as_u64().unwrap())
        .collect();
    providers.sort_unstable();
    providers.dedup();
    assert_eq!(providers.len(), 6, "one shard per provider: {v}");
    let victim_owner = net.owners[victim].address().to_string();
    let registry = net.ledger.providers().await.unwrap();
    let victim_id = registry
        .iter()
        .find(|p| p.owner == victim_owner)
        .unwrap()
        .id;
    let segments = net.ledger.get(&format!("/manifests/{cid}")).await.unwrap()[0]["shards"][0]
        .as_array()
        .unwrap()
        .len();
    assert!(
        countersigned < segments,
        "the victim had finished its shard ({countersigned} of {segments}) before it was killed"
    );
    assert!(
        !providers.contains(&victim_id),
        "the killed provider holds a published shard: {v}"
    );
    // The spare took the victim's shard, and the upload reads back.
    let out_file = dir.join("out.bin");
    ok(
        cairn(
            &[
                "get",
                &cid,
                "-o",
                out_file.to_str().unwrap(),
                "--data-dir",
                dir.join("empty").to_str().unwrap(),
            ],
            &url,
            &wallet,
        ),
        "get",
    );
    assert_eq!(std::fs::read(&out_file).unwrap(), bytes);
}

//! Provider proving end to end with real processes at the 2 KiB sector
//! size: one validator, three `cairn-node` providers that seal, and
//! `cairn place` storing a small object with 2+1 coding (one sector per
//! provider). The heavier variant (`.ci/full`, ignored here) runs six
//! providers with 4+2 coding and three objects, so that each provider
//! holds three sectors, two of them in the same deadline.
//!
//! On the way, each node is killed with SIGKILL in another phase: the
//! first in PreCommit 1, the second in PreCommit 2 (both held there by
//! the `CAIRN_NODE_HOLD_PHASE` test hook), the third while its sector
//! waits for the seed. After restart every sector is pre-committed and
//! prove-committed with real Groth16 proofs the ledger verifies; the
//! CommR of the first two equals one this test computes itself from the
//! piece and the ledger's ticket, the third keeps the CommR it had before.
//!
//! Then the deals are proven deadline after deadline, and each deal's
//! payment, the client's escrow and every owner's escrow are the figures
//! docs/ledger.md's rules give (computed here from the deals' terms and
//! the window epochs, not read back). Last, one provider's replica is
//! deleted and another's sector files are swapped for a third provider's:
//! the first stops proving (its check fails, nothing is submitted), the
//! second submits a proof the ledger refuses; both are charged the fault
//! fee and paid nothing more, while the healthy provider keeps being paid.
//! Then the first gets its replica back, declares recovery and is paid
//! again; the second gets its own files back but is restarted with the
//! `CAIRN_NODE_STALE_POST` test hook, so it proves each window against the
//! randomness of a period before: the ledger refuses every such stale
//! proof sent through the node's real submission path.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use cairn_ledger::ProviderId;
use cairn_ledger::tx::TxBody;
use cairn_proofs::pieces;
use cairn_proofs::sdr::{ProverId, SectorId, Ticket};
use cairn_proofs::seal::{self, Pc1Inputs};
use cairn_proofs::sector::SealProof;
use cairn_types::keys::Keypair;
use cairn_types::ledger::{DealInfo, LedgerClient};
use common::{Proc, cairn, ok, read_json, sibling_bin};
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

const P: SealProof = SealProof::StackedDrg2KiBV1_1;
/// The ledger's rules for this run: one block per epoch, two deadlines.
const DEADLINES: u64 = 2;
const FAULT_FEE: u128 = 50;
/// The nodes' ask per padded byte per epoch.
const PRICE: u128 = 1;

fn params_file(dir: &Path, window: u64) -> PathBuf {
    let p = json!({
        "blocks_per_epoch": 1,
        "deadlines_per_period": DEADLINES,
        "deadline_window": window,
        "min_deal_duration": DEADLINES * window,
        "max_deal_duration": 10_000,
        "max_deal_start_delay": 2_000,
        "seed_wait": 3,
        // Every node's Commit 2 waits its turn on the machine.
        "max_prove_commit_wait": 2_000,
        "max_ticket_age": 200,
        "min_precommit_deposit": "100",
        "min_provider_collateral": "1000",
        "fault_fee": FAULT_FEE.to_string(),
        "max_consecutive_faults": 50,
        // No block reward: owners' balances then move only by deals.
        "reward_per_epoch": "0",
    });
    let path = dir.join("params.json");
    std::fs::write(&path, serde_json::to_vec_pretty(&p).unwrap()).unwrap();
    path
}

/// An operator command's table (its output without `--json`).
fn node_table(home: &Path, args: &[&str]) -> String {
    let out = Command::new(sibling_bin("CAIRN_NODE_BIN", "cairn-node"))
        .args(args)
        .arg("--home")
        .arg(home)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "cairn-node {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn node_cli(home: &Path, args: &[&str]) -> Value {
    let args = [args, &["--json"]].concat();
    serde_json::from_str(&node_table(home, &args)).unwrap()
}

/// The node's Prometheus text, from the address its log names.
fn metrics_text(i: usize, n: &Node) -> String {
    use std::io::{Read, Write};
    let log = n.proc.log();
    let addr = log
        .rsplit("metrics on http://")
        .next()
        .and_then(|r| r.split("/metrics").next())
        .filter(|_| log.contains("metrics on http://"))
        .unwrap_or_else(|| panic!("node {i} logs no metrics address"));
    let mut c = std::net::TcpStream::connect(addr).unwrap();
    write!(c, "GET /metrics HTTP/1.0\r\nHost: {addr}\r\n\r\n").unwrap();
    let mut text = String::new();
    c.read_to_string(&mut text).unwrap();
    text
}

/// A sample's value in Prometheus text (`name{labels}` exactly).
fn metric(text: &str, sample: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(sample)?.strip_prefix(' ')?.parse().ok())
}

/// `cairn-node sectors status N`, `proving deadlines` and `wallet balance`
/// say what the ledger says, as JSON and as tables; the metrics count the
/// sectors and proofs; the unsealed pieces stay for retrieval.
async fn check_operator_views(i: usize, n: &Node, ledger: &LedgerClient, deals: &[DealInfo]) {
    let on_ledger = ledger.sectors(n.provider).await.unwrap().sectors;
    let text = metrics_text(i, n);
    for sample in [
        "cairn_node_proofs_submitted_total{kind=\"porep\",outcome=\"accepted\"}",
        "cairn_node_proofs_submitted_total{kind=\"window_post\",outcome=\"accepted\"}",
        "cairn_node_seal_phase_seconds_count{phase=\"c2\"}",
        "cairn_node_window_post_seconds_count{outcome=\"accepted\"}",
    ] {
        let v = metric(&text, sample);
        assert!(
            v.is_some_and(|v| v >= 1.0),
            "node {i}: {sample} is {v:?}, want at least 1:\n{text}"
        );
    }
    assert_eq!(
        metric(&text, "cairn_node_sectors{state=\"proving\"}"),
        Some(on_ledger.len() as f64),
        "node {i}: every proven sector, and only those, counted proving"
    );
    for d in deals {
        let piece = n.home.join("data/pieces").join(&d.piece);
        assert!(
            piece.is_file(),
            "node {i}: deal {}'s unsealed piece is gone ({})",
            d.id,
            piece.display()
        );
    }
    for s in &on_ledger {
        let number = s.number.to_string();
        let v = node_cli(&n.home, &["sectors", "status", &number]);
        assert_eq!(
            (&v["number"], &v["state"], &v["ledger"]["sector"]["number"]),
            (&json!(s.number), &json!("proving"), &json!(s.number)),
            "node {i}: sectors status {number}: {v}"
        );
        let comm_r = v["comm_r"].as_str().unwrap_or_default();
        assert!(comm_r.starts_with("bagboea4b5abc"), "node {i}: {v}");
        assert!(v["files"]["sealed"].as_u64().is_some(), "node {i}: {v}");
        let table = node_table(&n.home, &["sectors", "status", &number]);
        assert!(
            table.contains("state       proving") && table.contains(comm_r),
            "node {i}: {table}"
        );
    }
    let v = node_cli(&n.home, &["proving", "deadlines"]);
    for s in &on_ledger {
        let d = v["deadlines"]
            .as_array()
            .and_then(|a| a.iter().find(|d| d["index"] == s.deadline));
        assert!(
            d.is_some_and(|d| d["sectors"]
                .as_array()
                .is_some_and(|a| a.contains(&json!(s.number)))),
            "node {i}: proving deadlines does not put sector {} in deadline {}: {v}",
            s.number,
            s.deadline
        );
    }
    let table = node_table(&n.home, &["proving", "deadlines"]);
    assert!(table.contains("last proven"), "node {i}: {table}");
    let v = node_cli(&n.home, &["wallet", "balance"]);
    let p = ledger
        .get(&format!("/providers/{}", n.provider))
        .await
        .unwrap();
    assert_eq!(
        (
            &v["owner"]["address"],
            &v["provider"]["id"],
            &v["provider"]["collateral"]
        ),
        (
            &json!(n.owner.address().to_string()),
            &json!(n.provider),
            &p["collateral"]
        ),
        "node {i}: wallet balance: {v}"
    );
    let table = node_table(&n.home, &["wallet", "balance"]);
    assert!(
        table.contains(&format!("provider  {}", n.provider)),
        "node {i}: {table}"
    );
}

fn sectors(home: &Path) -> Vec<Value> {
    node_cli(home, &["sectors", "list"])
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// Polls `f` every half second until it yields a value; on timeout fails
/// with the tail of each log in `logs`.
async fn poll<T, F, Fut>(what: &str, timeout: Duration, logs: &[&Proc], mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f().await {
            return v;
        }
        if Instant::now() > deadline {
            let tails: Vec<String> = logs
                .iter()
                .map(|p| {
                    let l = p.log();
                    let lines: Vec<&str> = l.lines().collect();
                    let from = lines.len().saturating_sub(40);
                    format!("--- {}\n{}", p.1.display(), lines[from..].join("\n"))
                })
                .collect();
            panic!("timed out waiting for {what}\n{}", tails.join("\n"));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

async fn wait_epoch(ledger: &LedgerClient, epoch: u64, logs: &[&Proc]) {
    poll(
        &format!("epoch {epoch}"),
        Duration::from_secs(900),
        logs,
        || {
            let l = ledger.clone();
            async move {
                l.status()
                    .await
                    .ok()
                    .filter(|s| s.epoch >= epoch)
                    .map(|_| ())
            }
        },
    )
    .await;
}

fn amount(v: &Value) -> u128 {
    v.as_str().unwrap().parse().unwrap()
}

/// CommR of a 2 KiB sector holding `pieces` (payload files, largest
/// first), sealed for `provider`'s sector `sector` with `ticket`: computed
/// here, independently of the node.
fn expected_comm_r(pieces: &[PathBuf], provider: u64, sector: u64, ticket: [u8; 32]) -> [u8; 32] {
    let work = tempfile::tempdir().unwrap();
    let staged = work.path().join("staged");
    let cache = work.path().join("cache");
    let parents = work.path().join("parents");
    std::fs::create_dir_all(&cache).unwrap();
    std::fs::create_dir_all(&parents).unwrap();
    let mut out = std::fs::File::create(&staged).unwrap();
    let mut existing = Vec::new();
    let mut infos = Vec::new();
    for piece in pieces {
        let data = std::fs::read(piece).unwrap();
        let added = pieces::add_piece(
            &data[..],
            &mut out,
            P.sector_size(),
            &existing,
            data.len() as u64,
        )
        .unwrap();
        existing.push(added.info.unpadded_size());
        infos.push(added.info);
    }
    let written = pieces::staged_len_unpadded(&existing);
    pieces::fill_staged_sector(&mut out, P.sector_size(), written).unwrap();
    drop(out);
    let pc1 = seal::precommit1(&Pc1Inputs {
        proof: P,
        parent_cache_dir: &parents,
        staged: &staged,
        cache_dir: &cache,
        prover_id: ProverId(ProviderId(provider).prover_id()),
        sector_id: SectorId(sector),
        ticket: Ticket(ticket),
        pieces: &infos,
        threads: 1,
    })
    .unwrap();
    seal::precommit2(&pc1, &staged, &cache, &work.path().join("sealed"), 1)
        .unwrap()
        .comm_r
}

struct Node {
    home: PathBuf,
    proc: Proc,
    owner: Keypair,
    provider: u64,
}

/// Starts a node; `hook` is one of its test hooks' variable and value.
fn run_node(bin: &Path, home: &Path, hook: Option<(&str, &str)>, run: usize) -> Proc {
    let mut cmd = Command::new(bin);
    cmd.args(["run", "--home"]).arg(home);
    if let Some((k, v)) = hook {
        cmd.env(k, v);
    }
    Proc::spawn(&mut cmd, home.join(format!("node-{run}.log")))
}

/// A deal's payment so far by docs/ledger.md: every window of its
/// sector's deadline proven up to the one opening at `last_open` pays the
/// stretch from the deal's start to that window's close (clipped to the
/// deal's end).
fn paid_by_rule(price: u128, start: u64, end: u64, last_open: Option<u64>, window: u64) -> u128 {
    let Some(open) = last_open else { return 0 };
    let close = (open + window).min(end);
    price * u128::from(close.saturating_sub(start))
}

/// The shape of a run.
struct Plan {
    nodes: usize,
    k: u8,
    m: u8,
    /// Objects stored one after another: sectors per provider.
    objects: usize,
    /// Bytes per object (each shard's pieces fit one 2 KiB sector).
    object_bytes: usize,
    /// Epochs (about seconds) between a deal's publication and its start:
    /// every sealing, with one Groth16 Commit 2 at a time on the machine,
    /// must fit.
    start_delay: u64,
    /// Epochs a deadline's window is open: a WindowPoSt must fit while
    /// other nodes run Commit 2 on the same two cores.
    window: u64,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sealed_proven_paid_and_slashed_through_kills_in_every_phase() {
    scenario(Plan {
        nodes: 3,
        k: 2,
        m: 1,
        objects: 1,
        object_bytes: 2_900,
        start_delay: 200,
        window: 8,
    })
    .await;
}

/// `.ci/full`: 4+2 on six providers, three sectors each.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "heavy: 18 Groth16 seals; run by .ci/full"]
async fn six_providers_three_sectors_each_4_2() {
    scenario(Plan {
        nodes: 6,
        k: 4,
        m: 2,
        objects: 3,
        object_bytes: 5_800,
        // The most a client accepts (`Policy::max_start_delay`).
        start_delay: 900,
        // 18 Commit 2s run one at a time beside the WindowPoSts of the
        // sectors already proving. With 20-epoch windows those proofs
        // kept the two cores so busy that the last Commit 2 landed at
        // epoch 934, after its deals' start (.ci/full, 2026-12-07);
        // 60-epoch windows cut that load by three.
        window: 60,
    })
    .await;
}

fn paid(v: &Value) -> u128 {
    amount(&v["paid"])
}

/// A broken or stale sector's deal may still be paid for one window proven
/// before `was` was read (it pays at its close), and nothing more.
fn assert_paid_at_most_one_period(what: &str, deal: u64, p: u128, was: u128, one_period: u128) {
    assert!(
        p <= was + one_period,
        "{what}: deal {deal} paid {p}, {was} before (at most one period more)"
    );
}

async fn scenario(plan: Plan) {
    let window = plan.window;
    let period = DEADLINES * window;
    // Each deal runs ten proving periods: two proven, two broken, the
    // recovery, the stale proofs, and margin.
    let duration = 10 * period;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let validator_bin = sibling_bin("CAIRN_VALIDATOR_BIN", "cairn-validator");
    let node_bin = sibling_bin("CAIRN_NODE_BIN", "cairn-node");

    // The ledger.
    let net = dir.join("net");
    let out = Command::new(&validator_bin)
        .args(["testnet", "--validators", "1", "--free-ports"])
        .args(["--sector-sizes", "2KiB", "--accounts", "2", "--params"])
        .arg(params_file(dir, plan.window))
        .arg("--dir")
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
    let t0 = Instant::now();
    let chain_id = poll(
        "the first block",
        Duration::from_secs(60),
        &[&validator],
        || {
            let l = ledger.clone();
            async move {
                l.status()
                    .await
                    .ok()
                    .filter(|s| s.height >= 1)
                    .map(|s| s.chain_id)
            }
        },
    )
    .await;

    // The providers; the first two are held in PC1 and PC2.
    let funder = &accounts[0];
    let mut nodes = Vec::new();
    for i in 0..plan.nodes {
        let hold = match i {
            0 => Some("pc1"),
            1 => Some("pc2"),
            _ => None,
        };
        let home = dir.join(format!("node{i}"));
        let out = Command::new(&node_bin)
            .args(["init", "--home"])
            .arg(&home)
            .args(["--ledger", &url, "--sector-size", "2KiB"])
            .args([
                "--metrics-addr",
                "127.0.0.1:0",
                "--listen",
                "/ip4/127.0.0.1/tcp/0",
            ])
            .args(["--price", &PRICE.to_string()])
            .args([
                "--start-delay",
                &plan.start_delay.to_string(),
                "--seal-wait",
                "0",
            ])
            .args(["--collateral", "5000", "--escrow", "5000"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let owner = Keypair::load(&home.join("owner.json")).unwrap();
        let nonce = ledger.account(&funder.address()).await.unwrap().nonce;
        let tx = funder.sign_tx(
            chain_id,
            nonce,
            TxBody::Transfer {
                to: owner.address(),
                amount: 100_000,
            },
        );
        ledger.submit(&tx).await.unwrap().events().unwrap();
        let proc = run_node(
            &node_bin,
            &home,
            hold.map(|h| ("CAIRN_NODE_HOLD_PHASE", h)),
            0,
        );
        nodes.push(Node {
            home,
            proc,
            owner,
            provider: 0,
        });
    }
    for n in &mut nodes {
        let owner = n.owner.address();
        n.provider = poll(
            "registration and escrow",
            Duration::from_secs(90),
            &[&n.proc],
            || {
                let l = ledger.clone();
                async move {
                    let p = l
                        .providers()
                        .await
                        .ok()?
                        .into_iter()
                        .find(|p| p.owner == owner.to_string())?;
                    let a = l.account(&owner).await.ok()?;
                    (a.escrow.free >= 5000).then_some(p.id)
                }
            },
        )
        .await;
    }
    eprintln!("providers ready ({:?})", t0.elapsed());

    // The client's objects: k+m shards, one provider each; every shard's
    // pieces (powers of two) fit one 2 KiB sector.
    let wallet = dir.join("wallet.json");
    accounts[1].save(&wallet).unwrap();
    let data = dir.join("client");
    let data_s = data.to_str().unwrap().to_owned();
    let place = |seed: u64| {
        let mut bytes = vec![0u8; plan.object_bytes];
        rand::rngs::StdRng::seed_from_u64(seed).fill(&mut bytes[..]);
        let file = dir.join(format!("object{seed}.bin"));
        std::fs::write(&file, &bytes).unwrap();
        let cid = ok(
            cairn(
                &["add", file.to_str().unwrap(), "--data-dir", &data_s],
                &url,
                &wallet,
            ),
            "add",
        )
        .trim()
        .to_owned();
        let placed = ok(
            cairn(
                &[
                    "place",
                    &cid,
                    "--k",
                    &plan.k.to_string(),
                    "--m",
                    &plan.m.to_string(),
                    "--duration",
                    &duration.to_string(),
                    "--data-dir",
                    &data_s,
                    "--json",
                ],
                &url,
                &wallet,
            ),
            "place",
        );
        let v: Value = serde_json::from_str(placed.lines().last().unwrap()).unwrap();
        assert_eq!(
            v["shards"].as_array().map(Vec::len),
            Some(usize::from(plan.k + plan.m)),
            "{v}"
        );
    };
    let deals_of = |provider: u64| {
        let l = ledger.clone();
        async move {
            let mut ds = l.deals_of_provider(provider).await.unwrap();
            // The order the node stages them in: largest first.
            ds.sort_by(|a, b| b.piece_size.cmp(&a.piece_size).then(a.id.cmp(&b.id)));
            ds
        }
    };
    place(1);
    let mut first_deals = Vec::new();
    for n in &nodes {
        let ds = deals_of(n.provider).await;
        assert!(!ds.is_empty(), "provider {}: no deals", n.provider);
        assert!(
            ds.iter().map(|d| d.piece_size).sum::<u64>() <= 2048,
            "{ds:?}"
        );
        first_deals.push(ds);
    }
    eprintln!("first object's deals published ({:?})", t0.elapsed());

    // Kill -9 in PC1 and in PC2, then restart without the hold.
    for (i, phase) in [(0usize, "pc1"), (1, "pc2")] {
        let n = &mut nodes[i];
        let hold_line = format!("holding in {phase}");
        poll(
            &format!("node {i} in {phase}"),
            Duration::from_secs(120),
            &[&n.proc],
            || {
                let l = n.proc.log();
                let hold_line = hold_line.clone();
                async move { l.contains(&hold_line).then_some(()) }
            },
        )
        .await;
        let s = sectors(&n.home);
        assert_eq!(s.len(), 1, "{s:?}");
        assert_eq!(s[0]["state"], phase, "{s:?}");
        n.proc.kill();
        eprintln!("node {i} killed in {phase} ({:?})", t0.elapsed());
        n.proc = run_node(&node_bin, &n.home, None, 1);
    }

    // The third: killed while its sector waits for the seed.
    let comm_r_before;
    {
        let n = &mut nodes[2];
        let home = n.home.clone();
        comm_r_before = poll(
            "node 2 waiting for its seed",
            Duration::from_secs(300),
            &[&n.proc],
            || {
                let s = sectors(&home);
                async move {
                    s.first()
                        .filter(|s| s["state"] == "waiting_seed")
                        .map(|s| s["comm_r"].clone())
                }
            },
        )
        .await;
        n.proc.kill();
        eprintln!("node 2 killed waiting for the seed ({:?})", t0.elapsed());
        n.proc = run_node(&node_bin, &n.home, None, 1);
    }
    assert!(
        comm_r_before
            .as_str()
            .is_some_and(|c| c.starts_with("bagboea4b5abc"))
    );

    // The first two pre-commit the CommR this test computes from the
    // pieces and the ledger's ticket.
    for i in 0..2 {
        let n = &nodes[i];
        let pieces: Vec<PathBuf> = first_deals[i]
            .iter()
            .map(|d| n.home.join("data/pieces").join(&d.piece))
            .collect();
        let provider = n.provider;
        let (number, ticket_epoch, comm_r) = poll(
            &format!("node {i}'s pre-commit"),
            Duration::from_secs(300),
            &[&n.proc],
            || {
                let l = ledger.clone();
                async move {
                    let s = l.sectors(provider).await.ok()?;
                    if let Some(p) = s.precommits.first() {
                        return Some((p.number, p.ticket_epoch, p.comm_r.clone()));
                    }
                    None
                }
            },
        )
        .await;
        let ticket = ledger.randomness(ticket_epoch).await.unwrap().unwrap();
        let want = expected_comm_r(&pieces, provider, number, ticket);
        assert_eq!(
            comm_r,
            hex::encode(want),
            "node {i}: CommR after a kill in PC{}",
            i + 1
        );
        eprintln!(
            "node {i}: pre-committed CommR matches an independent seal ({:?})",
            t0.elapsed()
        );
    }

    // More objects: more sectors per provider.
    for o in 1..plan.objects {
        place(1 + o as u64);
    }
    // Deals pay nothing before their start, so this is the client's
    // escrow with every deal locked and none paid.
    let client_at_publish = ledger.account(&accounts[1].address()).await.unwrap();

    // Every sector prove-commits (real Groth16 proofs checked by the
    // ledger) before its deals start, and is proven.
    for (i, n) in nodes.iter().enumerate() {
        poll(
            &format!("node {i} proving"),
            Duration::from_secs(1800),
            &[&n.proc],
            || {
                let s = sectors(&n.home);
                async move {
                    (s.len() == plan.objects && s.iter().all(|s| s["state"] == "proving"))
                        .then_some(())
                }
            },
        )
        .await;
        let s = ledger.sectors(n.provider).await.unwrap();
        assert_eq!(s.sectors.len(), plan.objects, "{s:?}");
        let deals = deals_of(n.provider).await;
        for sec in &s.sectors {
            let starts = deals
                .iter()
                .filter(|d| sec.deals.contains(&d.id))
                .map(|d| d.start);
            assert!(starts.clone().count() == sec.deals.len(), "{sec:?}");
            assert!(
                starts.min().is_some_and(|st| sec.activation < st),
                "activated late: {sec:?}"
            );
        }
        assert_eq!(
            s.sectors[0].deals,
            first_deals[i].iter().map(|d| d.id).collect::<Vec<_>>(),
            "node {i}: the first object's deals in its first sector, largest piece first"
        );
        eprintln!("node {i} proving {:?} ({:?})", s.sectors, t0.elapsed());
    }
    let local = sectors(&nodes[2].home);
    assert_eq!(
        local[0]["comm_r"], comm_r_before,
        "node 2 kept its CommR through the kill"
    );

    // Proofs deadline after deadline; payments by the rules.
    let mut all_deals = Vec::new();
    for n in &nodes {
        all_deals.push(deals_of(n.provider).await);
    }
    let last_start = all_deals.iter().flatten().map(|d| d.start).max().unwrap();
    wait_epoch(&ledger, last_start + 2 * period, &[&nodes[0].proc]).await;
    let client_held = |a: &cairn_types::ledger::AccountInfo| a.escrow.free + a.escrow.locked;
    let mut paid_total = 0u128;
    for (i, n) in nodes.iter().enumerate() {
        let on_ledger = ledger.sectors(n.provider).await.unwrap().sectors;
        let epoch = ledger.status().await.unwrap().epoch;
        let mut got = 0;
        for s in &on_ledger {
            // Every window of its deadline that closed is proven.
            let mut last_closed = (epoch / period) * period + s.deadline * window;
            while last_closed + window > epoch {
                last_closed -= period;
            }
            let last = s.last_proven.unwrap();
            assert!(
                last == last_closed || last == last_closed + period,
                "node {i} sector {}: last proven window {last}, expected {last_closed} or the open one (epoch {epoch})",
                s.number
            );
            for d in all_deals[i].iter().filter(|d| s.deals.contains(&d.id)) {
                let price = PRICE * u128::from(d.piece_size);
                let want = paid_by_rule(price, d.start, d.end, Some(last), window);
                let p = paid(&ledger.get(&format!("/deals/{}", d.id)).await.unwrap());
                assert_eq!(p, want, "node {i}: deal {} paid", d.id);
                assert!(want > 0, "node {i}: deal {} paid nothing yet", d.id);
                got += p;
            }
        }
        paid_total += got;
        // The node keeps its owner's escrow at 5,000 until deals pay it.
        let a = ledger.account(&n.owner.address()).await.unwrap();
        assert_eq!(
            a.escrow.free + a.escrow.locked,
            5_000 + got,
            "node {i}: the owner's escrow rises by exactly its deals' payments"
        );
        eprintln!("node {i}: deals paid {got}");
        check_operator_views(i, n, &ledger, &all_deals[i]).await;
    }
    // The client's escrow fell by exactly what the providers received.
    let client_now = ledger.account(&accounts[1].address()).await.unwrap();
    assert_eq!(
        client_held(&client_now),
        client_held(&client_at_publish) - paid_total,
        "the client's escrow falls by exactly the providers' payments"
    );

    // Faults: node 1 loses its first sector's replica; node 2's first
    // sector's files are swapped for node 0's (a proof for a sector it
    // does not hold).
    let collateral = |id: u64| {
        let l = ledger.clone();
        async move { amount(&l.get(&format!("/providers/{id}")).await.unwrap()["collateral"]) }
    };
    let c1 = collateral(nodes[1].provider).await;
    let c2 = collateral(nodes[2].provider).await;
    let first_sector = |i: usize| {
        let n = sectors(&nodes[i].home)[0]["number"].as_u64().unwrap();
        (n, nodes[i].home.join("data/sectors").join(n.to_string()))
    };
    let (s1, dir1) = first_sector(1);
    let (s2, dir2) = first_sector(2);
    let (_, dir0) = first_sector(0);
    // Kept aside, to be restored below.
    std::fs::rename(dir1.join("sealed"), dir.join("node1-sealed")).unwrap();
    let replica = ["sealed", "pc2.out", "cache/tree-r-last.dat"];
    let node2_own = dir.join("node2-own");
    std::fs::create_dir_all(&node2_own).unwrap();
    for (i, f) in replica.iter().enumerate() {
        std::fs::copy(dir2.join(f), node2_own.join(i.to_string())).unwrap();
        std::fs::copy(dir0.join(f), dir2.join(f)).unwrap();
    }
    let broke_at = ledger.status().await.unwrap().epoch;
    eprintln!("replicas broken at epoch {broke_at} ({:?})", t0.elapsed());
    let deal_paid = |id: u64| {
        let l = ledger.clone();
        async move { paid(&l.get(&format!("/deals/{id}")).await.unwrap()) }
    };
    let mut paid_at_break = std::collections::BTreeMap::new();
    for d in all_deals.iter().flatten() {
        paid_at_break.insert(d.id, deal_paid(d.id).await);
    }
    // Two more periods: each broken sector misses at least one window.
    wait_epoch(
        &ledger,
        broke_at + 2 * period + 1,
        &[&nodes[1].proc, &nodes[2].proc],
    )
    .await;
    for (i, broken, before) in [(1usize, s1, c1), (2, s2, c2)] {
        let n = &nodes[i];
        let on_ledger = ledger.sectors(n.provider).await.unwrap().sectors;
        let s = on_ledger.iter().find(|s| s.number == broken).unwrap();
        // Node 2's swapped files pass its own check, so it declares
        // recovery each time and is refused again: faulty or recovering.
        assert!(
            s.faults >= 1 && matches!(s.status.as_str(), "Faulty" | "Recovering"),
            "node {i}: {s:?}"
        );
        // One fee per missed window of every faulty sector of the node.
        let fees: u64 = on_ledger.iter().map(|s| s.faults).sum();
        assert_eq!(
            collateral(n.provider).await,
            before - FAULT_FEE * u128::from(fees),
            "node {i}: one fault fee per missed window"
        );
        for d in all_deals[i].iter().filter(|d| s.deals.contains(&d.id)) {
            assert_paid_at_most_one_period(
                &format!("node {i} after its replica broke"),
                d.id,
                deal_paid(d.id).await,
                paid_at_break[&d.id],
                PRICE * u128::from(d.piece_size) * u128::from(period),
            );
        }
        let faults = node_cli(&n.home, &["proving", "faults"]);
        assert!(
            faults
                .as_array()
                .is_some_and(|a| a.iter().any(|f| f["number"] == broken)),
            "node {i}: proving faults does not list sector {broken}: {faults}"
        );
    }
    // What an operator's alerts see: node 1 declared its fault (counted,
    // and no deadline missed); node 2's proofs were refused, so its
    // windows closed unproven.
    let text = metrics_text(1, &nodes[1]);
    let m1 = |sample: &str| metric(&text, sample);
    assert!(
        m1("cairn_node_faults_declared_total").is_some_and(|v| v >= 1.0)
            && m1("cairn_node_sectors{state=\"faulty\"}").is_some_and(|v| v >= 1.0)
            && m1("cairn_node_deadlines_missed_total") == Some(0.0),
        "node 1's metrics after its declared fault:\n{text}"
    );
    let listed = sectors(&nodes[1].home);
    assert!(
        listed
            .iter()
            .any(|v| v["number"] == s1 && v["state"] == "faulty"),
        "node 1: sectors list does not show sector {s1} faulty: {listed:?}"
    );
    let text = metrics_text(2, &nodes[2]);
    let m2 = |sample: &str| metric(&text, sample);
    assert!(
        m2("cairn_node_proofs_submitted_total{kind=\"window_post\",outcome=\"refused\"}")
            .is_some_and(|v| v >= 1.0)
            && m2("cairn_node_deadlines_missed_total").is_some_and(|v| v >= 1.0),
        "node 2's metrics after its refused proofs:\n{text}"
    );
    assert!(
        nodes[2].proc.log().contains("WindowPoSt refused"),
        "node 2 did not submit its proof over another sector's files"
    );
    let log1 = nodes[1].proc.log();
    assert!(
        log1.contains("failed its WindowPoSt check") && log1.contains("sectors faulty"),
        "node 1 did not declare its missing replica"
    );
    // Every healthy sector kept being paid: node 0's and the others', and
    // node 1's own other sectors (its fault was declared, not missed).
    for (i, n) in nodes.iter().enumerate() {
        for s in ledger.sectors(n.provider).await.unwrap().sectors {
            let broken = (i == 1 && s.number == s1) || i == 2;
            if broken {
                continue;
            }
            for d in all_deals[i].iter().filter(|d| s.deals.contains(&d.id)) {
                let p = deal_paid(d.id).await;
                assert!(
                    p >= paid_at_break[&d.id]
                        + PRICE * u128::from(d.piece_size) * u128::from(period),
                    "node {i} sector {}: deal {} paid {p}, {} at the break",
                    s.number,
                    d.id,
                    paid_at_break[&d.id]
                );
            }
        }
    }

    // Node 1's replica comes back: the node declares recovery, proves the
    // sector at its next window, and its deals are paid again. Node 2 gets
    // its own files back too, but is restarted proving each window against
    // the randomness of a period before (a stale proof, replayed through
    // its real submission path): the ledger refuses every one of them.
    std::fs::rename(dir.join("node1-sealed"), dir1.join("sealed")).unwrap();
    // Node 2's sectors in its other deadline were still proven and paid
    // until now (the heavier plan's); from here nothing of it may be.
    let mut paid_at_stale = std::collections::BTreeMap::new();
    for d in &all_deals[2] {
        paid_at_stale.insert(d.id, deal_paid(d.id).await);
    }
    nodes[2].proc.kill();
    for (i, f) in replica.iter().enumerate() {
        std::fs::copy(node2_own.join(i.to_string()), dir2.join(f)).unwrap();
    }
    let c2_stale = collateral(nodes[2].provider).await;
    nodes[2].proc = run_node(
        &node_bin,
        &nodes[2].home,
        Some(("CAIRN_NODE_STALE_POST", "1")),
        2,
    );
    let restored_at = ledger.status().await.unwrap().epoch;
    let p1 = nodes[1].provider;
    let ids: Vec<u64> = {
        let s = ledger.sectors(p1).await.unwrap().sectors;
        let s = s.iter().find(|s| s.number == s1).unwrap();
        s.deals.clone()
    };
    let mut before = 0;
    for id in &ids {
        before += deal_paid(*id).await;
    }
    poll(
        "node 1's sector recovered and paid again",
        Duration::from_secs(300),
        &[&nodes[1].proc],
        || {
            let l = ledger.clone();
            let ids = ids.clone();
            async move {
                let s = l.sectors(p1).await.ok()?.sectors;
                let s = s.into_iter().find(|s| s.number == s1)?;
                let mut now = 0;
                for id in &ids {
                    now += paid(&l.get(&format!("/deals/{id}")).await.ok()?);
                }
                (s.status == "Active"
                    && s.last_proven.is_some_and(|e| e >= restored_at)
                    && now > before)
                    .then_some(())
            }
        },
    )
    .await;
    assert!(
        nodes[1].proc.log().contains("declared recovering"),
        "node 1 did not declare its recovery"
    );
    let local = sectors(&nodes[1].home);
    assert!(
        local
            .iter()
            .any(|s| s["number"] == s1 && s["state"] == "proving"),
        "node 1's journal: {local:?}"
    );
    eprintln!("node 1 recovered and paid again ({:?})", t0.elapsed());

    // Node 2, with its genuine replica but stale challenges: it checks its
    // files (they pass), declares recovery, proves, and is refused.
    poll(
        "node 2's stale WindowPoSt refused",
        Duration::from_secs(300),
        &[&nodes[2].proc],
        || {
            let log = nodes[2].proc.log();
            let ok = log.contains("a period stale (CAIRN_NODE_STALE_POST)")
                && log.contains("WindowPoSt refused: WindowPoSt proof refused");
            async move { ok.then_some(()) }
        },
    )
    .await;
    // One more period: every window of node 2's deadlines was stale.
    let refused_at = ledger.status().await.unwrap().epoch;
    wait_epoch(&ledger, refused_at + period + 1, &[&nodes[2].proc]).await;
    let p2 = nodes[2].provider;
    let on_ledger = ledger.sectors(p2).await.unwrap().sectors;
    for s in &on_ledger {
        assert!(
            s.last_proven.is_none_or(|e| e < restored_at),
            "node 2 sector {}: a stale proof was accepted ({s:?}, restarted at {restored_at})",
            s.number
        );
        for d in all_deals[2].iter().filter(|d| s.deals.contains(&d.id)) {
            assert_paid_at_most_one_period(
                "node 2 for stale proofs",
                d.id,
                deal_paid(d.id).await,
                paid_at_stale[&d.id],
                PRICE * u128::from(d.piece_size) * u128::from(period),
            );
        }
    }
    assert!(
        collateral(p2).await < c2_stale,
        "node 2 was charged nothing for its stale proofs"
    );
    let accepted = nodes[2].proc.log().matches("WindowPoSt for").count();
    assert_eq!(accepted, 0, "node 2 had a stale WindowPoSt accepted");
    eprintln!("node 2's stale proofs refused ({:?})", t0.elapsed());
    eprintln!("done ({:?})", t0.elapsed());
    drop(validator);
}

//! Provider proving end to end with real processes at the 2 KiB sector
//! size: one validator, three `cairn-node` providers that seal, and
//! `cairn place` storing a small object with 2+1 coding (one piece, one
//! sector, per provider).
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
use cairn_types::ledger::LedgerClient;
use common::{Proc, cairn, ok, read_json, sibling_bin};
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

const P: SealProof = SealProof::StackedDrg2KiBV1_1;
/// The ledger's rules for this run: one block per epoch, two deadlines of
/// eight epochs.
const DEADLINES: u64 = 2;
const WINDOW: u64 = 8;
const PERIOD: u64 = DEADLINES * WINDOW;
const FAULT_FEE: u128 = 50;
/// Epochs between a deal's publication and its start: three sealings with
/// a Groth16 Commit 2 each, one at a time, plus the restarts.
const START_DELAY: u64 = 200;
/// Each deal runs five proving periods.
const DURATION: u64 = 5 * PERIOD;
/// The nodes' ask per padded byte per epoch.
const PRICE: u128 = 1;

fn params_file(dir: &Path) -> PathBuf {
    let p = json!({
        "blocks_per_epoch": 1,
        "deadlines_per_period": DEADLINES,
        "deadline_window": WINDOW,
        "min_deal_duration": PERIOD,
        "max_deal_duration": 10_000,
        "max_deal_start_delay": 1_000,
        "seed_wait": 3,
        "max_prove_commit_wait": 400,
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

fn node_cli(home: &Path, args: &[&str]) -> Value {
    let out = Command::new(sibling_bin("CAIRN_NODE_BIN", "cairn-node"))
        .args(args)
        .arg("--home")
        .arg(home)
        .arg("--json")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "cairn-node {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
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

fn run_node(bin: &Path, home: &Path, hold: Option<&str>, run: usize) -> Proc {
    let mut cmd = Command::new(bin);
    cmd.args(["run", "--home"]).arg(home);
    if let Some(h) = hold {
        cmd.env("CAIRN_NODE_HOLD_PHASE", h);
    }
    Proc::spawn(&mut cmd, home.join(format!("node-{run}.log")))
}

/// A deal's payment so far by docs/ledger.md: every window of its
/// sector's deadline proven up to the one opening at `last_open` pays the
/// stretch from the deal's start to that window's close (clipped to the
/// deal's end).
fn paid_by_rule(price: u128, start: u64, end: u64, last_open: Option<u64>) -> u128 {
    let Some(open) = last_open else { return 0 };
    let close = (open + WINDOW).min(end);
    price * u128::from(close.saturating_sub(start))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sealed_proven_paid_and_slashed_through_kills_in_every_phase() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let validator_bin = sibling_bin("CAIRN_VALIDATOR_BIN", "cairn-validator");
    let node_bin = sibling_bin("CAIRN_NODE_BIN", "cairn-node");

    // The ledger.
    let net = dir.join("net");
    let out = Command::new(&validator_bin)
        .args(["testnet", "--validators", "1", "--free-ports"])
        .args(["--sector-sizes", "2KiB", "--accounts", "2", "--params"])
        .arg(params_file(dir))
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

    // Three sealing providers; the first two are held in PC1 and PC2.
    let funder = &accounts[0];
    let holds = [Some("pc1"), Some("pc2"), None];
    let mut nodes = Vec::new();
    for (i, hold) in holds.iter().enumerate() {
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
                &START_DELAY.to_string(),
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
        let proc = run_node(&node_bin, &home, *hold, 0);
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

    // The client stores a small object: 2+1, one 2 KiB piece per shard.
    let wallet = dir.join("wallet.json");
    accounts[1].save(&wallet).unwrap();
    let mut bytes = vec![0u8; 2_900];
    rand::rngs::StdRng::seed_from_u64(8).fill(&mut bytes[..]);
    let file = dir.join("object.bin");
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
    let placed = ok(
        cairn(
            &[
                "place",
                &cid,
                "--k",
                "2",
                "--m",
                "1",
                "--duration",
                &DURATION.to_string(),
                "--data-dir",
                data_s,
                "--json",
            ],
            &url,
            &wallet,
        ),
        "place",
    );
    let v: Value = serde_json::from_str(placed.lines().last().unwrap()).unwrap();
    let shards = v["shards"].as_array().unwrap();
    assert_eq!(shards.len(), 3, "{v}");
    // Every provider holds its shard's pieces (powers of two, together
    // under 2 KiB), one deal each: one sector per provider.
    let mut deals = Vec::new();
    for n in &nodes {
        let mut ds = ledger.deals_of_provider(n.provider).await.unwrap();
        assert!(!ds.is_empty(), "provider {}: no deals", n.provider);
        assert!(
            ds.iter().map(|d| d.piece_size).sum::<u64>() <= 2048,
            "{ds:?}"
        );
        // The order the node stages them in: largest first.
        ds.sort_by(|a, b| b.piece_size.cmp(&a.piece_size).then(a.id.cmp(&b.id)));
        deals.push(ds);
    }
    let client_after_publish = ledger.account(&accounts[1].address()).await.unwrap();
    eprintln!("deals published: {deals:?} ({:?})", t0.elapsed());

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
    // piece and the ledger's ticket.
    for i in 0..2 {
        let n = &nodes[i];
        let pieces: Vec<PathBuf> = deals[i]
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
                    let p = s.precommits.first()?;
                    Some((p.number, p.ticket_epoch, p.comm_r.clone()))
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

    // Every sector prove-commits (real Groth16 proofs checked by the
    // ledger) before its deal starts, and is proven.
    for (i, n) in nodes.iter().enumerate() {
        poll(
            &format!("node {i} proving"),
            Duration::from_secs(600),
            &[&n.proc],
            || {
                let s = sectors(&n.home);
                async move {
                    s.first()
                        .is_some_and(|s| s["state"] == "proving")
                        .then_some(())
                }
            },
        )
        .await;
        let s = ledger.sectors(n.provider).await.unwrap();
        assert_eq!(s.sectors.len(), 1, "{s:?}");
        let first_start = deals[i].iter().map(|d| d.start).min().unwrap();
        assert!(
            s.sectors[0].activation < first_start,
            "activated after a start: {s:?}"
        );
        assert_eq!(
            s.sectors[0].deals,
            deals[i].iter().map(|d| d.id).collect::<Vec<_>>(),
            "node {i}: its deals in one sector, largest piece first"
        );
        eprintln!(
            "node {i} proving, sector {:?} ({:?})",
            s.sectors[0],
            t0.elapsed()
        );
    }
    let local = sectors(&nodes[2].home);
    assert_eq!(
        local[0]["comm_r"], comm_r_before,
        "node 2 kept its CommR through the kill"
    );

    // Proofs deadline after deadline; payments by the rules.
    let last_start = deals.iter().flatten().map(|d| d.start).max().unwrap();
    let checkpoint = last_start + 2 * PERIOD;
    wait_epoch(&ledger, checkpoint, &[&nodes[0].proc]).await;
    let mut paid_total = 0u128;
    for (i, n) in nodes.iter().enumerate() {
        let s = ledger.sectors(n.provider).await.unwrap().sectors.remove(0);
        let epoch = ledger.status().await.unwrap().epoch;
        // Every window of its deadline that closed is proven.
        let last_closed_open = {
            let mut open = (epoch / PERIOD) * PERIOD + s.deadline * WINDOW;
            while open + WINDOW > epoch {
                open -= PERIOD;
            }
            open
        };
        let last = s.last_proven.unwrap();
        assert!(
            last == last_closed_open || last == last_closed_open + PERIOD,
            "node {i}: last proven window {last}, expected {last_closed_open} or the open one (epoch {epoch})"
        );
        let mut got = 0;
        for d in &deals[i] {
            let price = PRICE * u128::from(d.piece_size);
            let want = paid_by_rule(price, d.start, d.end, Some(last));
            let paid = amount(&ledger.get(&format!("/deals/{}", d.id)).await.unwrap()["paid"]);
            assert_eq!(paid, want, "node {i}: deal {} paid", d.id);
            assert!(want > 0, "node {i}: deal {} paid nothing yet", d.id);
            got += paid;
        }
        paid_total += got;
        // The node keeps its owner's escrow at 5,000 until deals pay it.
        let a = ledger.account(&n.owner.address()).await.unwrap();
        assert_eq!(
            a.escrow.free + a.escrow.locked,
            5_000 + got,
            "node {i}: the owner's escrow rises by exactly its deal's payment"
        );
        eprintln!("node {i}: deals paid {got} by window {last}");
    }
    let client_now = ledger.account(&accounts[1].address()).await.unwrap();
    let held = |a: &cairn_types::ledger::AccountInfo| a.escrow.free + a.escrow.locked;
    assert_eq!(
        held(&client_now),
        held(&client_after_publish) - paid_total,
        "the client's escrow falls by exactly what the providers were paid"
    );

    // Faults: node 1 loses its replica; node 2's sector files are swapped
    // for node 0's (a proof for a sector it does not hold).
    let collateral = |id: u64| {
        let l = ledger.clone();
        async move { amount(&l.get(&format!("/providers/{id}")).await.unwrap()["collateral"]) }
    };
    let c1 = collateral(nodes[1].provider).await;
    let c2 = collateral(nodes[2].provider).await;
    let sector_dir = |i: usize| {
        let n = sectors(&nodes[i].home)[0]["number"].as_u64().unwrap();
        nodes[i].home.join("data/sectors").join(n.to_string())
    };
    std::fs::remove_file(sector_dir(1).join("sealed")).unwrap();
    let (from, to) = (sector_dir(0), sector_dir(2));
    for f in ["sealed", "pc2.out", "cache/tree-r-last.dat"] {
        std::fs::copy(from.join(f), to.join(f)).unwrap();
    }
    let broke_at = ledger.status().await.unwrap().epoch;
    eprintln!("replicas broken at epoch {broke_at} ({:?})", t0.elapsed());
    let paid_of = |i: usize| {
        let l = ledger.clone();
        let ids: Vec<u64> = deals[i].iter().map(|d| d.id).collect();
        async move {
            let mut sum = 0;
            for id in ids {
                sum += amount(&l.get(&format!("/deals/{id}")).await.unwrap()["paid"]);
            }
            sum
        }
    };
    let paid_at_break = [paid_of(0).await, paid_of(1).await, paid_of(2).await];
    // Two more periods: each broken sector misses at least one window.
    let until = broke_at + 2 * PERIOD + 1;
    wait_epoch(&ledger, until, &[&nodes[1].proc, &nodes[2].proc]).await;
    for i in [1usize, 2] {
        let n = &nodes[i];
        let s = ledger.sectors(n.provider).await.unwrap().sectors.remove(0);
        assert!(s.faults >= 1 || s.status == "Faulty", "node {i}: {s:?}");
        let c = collateral(n.provider).await;
        let before = if i == 1 { c1 } else { c2 };
        // Fees for the windows missed since the break (the count the
        // ledger keeps is of missed windows in a row).
        assert_eq!(
            c,
            before - FAULT_FEE * u128::from(s.faults),
            "node {i}: one fault fee per missed window"
        );
        let paid = paid_of(i).await;
        assert!(
            paid <= paid_at_break[i] + PRICE * 2048 * u128::from(PERIOD),
            "node {i}: paid {paid} after its replica broke (was {})",
            paid_at_break[i]
        );
        let faults = node_cli(&n.home, &["proving", "faults"]);
        assert!(
            faults.as_array().is_some_and(|a| !a.is_empty()),
            "node {i}: proving faults lists nothing: {faults}"
        );
    }
    // The node with the swapped files submitted and was refused.
    assert!(
        nodes[2].proc.log().contains("WindowPoSt refused"),
        "node 2 did not submit its proof over another sector's files"
    );
    assert!(
        nodes[1].proc.log().contains("failed its WindowPoSt check"),
        "node 1 did not report its missing replica"
    );
    // The healthy provider kept being paid (at least one more window
    // for its 2 KiB of pieces).
    let paid0 = paid_of(0).await;
    assert!(
        paid0
            >= paid_at_break[0]
                + PRICE
                    * u128::from(deals[0].iter().map(|d| d.piece_size).sum::<u64>())
                    * u128::from(PERIOD),
        "node 0 was paid {paid0}, {} at the break",
        paid_at_break[0]
    );
    eprintln!("done ({:?})", t0.elapsed());
    drop(validator);
}

//! Transfers per second and finality latency of four `cairn-validator`
//! processes on loopback (this machine's cores shared by all four and by
//! the load generator).
//!
//! - **Finality latency**: transfers submitted one at a time through a
//!   validator's API with `POST /tx` (which answers once the block holding
//!   the transaction is finalized): the time from submission to receipt,
//!   idle and while the throughput run loads the chain.
//! - **Throughput**: `ACCOUNTS` demo accounts each send `TXS / ACCOUNTS`
//!   transfers, signed beforehand, submitted with `?wait=false` by 8
//!   threads spread over the four APIs; the clock runs from the first
//!   submission until every account's nonce on the finalized state shows
//!   all its transfers applied.
//!
//! Build the validator first, then run:
//!
//! ```sh
//! cargo build --release -p cairn-deal-market --bin cairn-validator
//! cargo bench -p cairn-benches --bench ledger
//! ```
//!
//! `CAIRN_BENCH_TXS` (default 20000) and `CAIRN_BENCH_ACCOUNTS` (default
//! 64) size the run.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail, ensure};
use cairn_ledger::codec::Encode as _;
use cairn_ledger::ids::signing_bytes;
use cairn_ledger::tx::TX_DOMAIN;
use cairn_ledger::{Address, PublicKey, Signature, SignedTx, Tx, TxBody};
use ed25519_dalek::{Signer as _, SigningKey};
use serde_json::Value;

struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn validator_bin() -> anyhow::Result<PathBuf> {
    // target/release/deps/ledger-<hash> → target/release/cairn-validator
    let exe = std::env::current_exe()?;
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .context("bench binary location")?;
    let bin = dir.join("cairn-validator");
    if !bin.exists() {
        bail!(
            "{} is missing: run `cargo build --release -p cairn-deal-market --bin cairn-validator` first",
            bin.display()
        );
    }
    Ok(bin)
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn get(http: &reqwest::blocking::Client, url: &str) -> anyhow::Result<Value> {
    let r = http.get(url).timeout(Duration::from_secs(10)).send()?;
    ensure!(r.status().is_success(), "GET {url}: {}", r.status());
    Ok(r.json()?)
}

fn signed(key: &SigningKey, nonce: u64, to: Address, amount: u128) -> SignedTx {
    let tx = Tx {
        chain_id: 1,
        nonce,
        signer: PublicKey(key.verifying_key().to_bytes()),
        body: TxBody::Transfer { to, amount },
    };
    let signature = Signature(
        key.sign(&signing_bytes(TX_DOMAIN, &tx.to_bytes()))
            .to_bytes(),
    );
    SignedTx { tx, signature }
}

fn accounts(dir: &Path) -> anyhow::Result<Vec<(SigningKey, Address)>> {
    let v: Value = serde_json::from_slice(&std::fs::read(dir.join("accounts.json"))?)?;
    v.as_array()
        .context("accounts.json")?
        .iter()
        .map(|a| {
            let sk: [u8; 32] = hex::decode(a["secret_key"].as_str().context("key")?)?
                .try_into()
                .map_err(|_| anyhow::anyhow!("key length"))?;
            let key = SigningKey::from_bytes(&sk);
            let addr = PublicKey(key.verifying_key().to_bytes()).address();
            Ok((key, addr))
        })
        .collect()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Sends `n` transfers from `key` one at a time, each waiting for its
/// receipt; returns the latencies in seconds.
fn latencies(
    http: &reqwest::blocking::Client,
    apis: &[String],
    key: &SigningKey,
    first_nonce: u64,
    n: usize,
    stop: Option<&AtomicBool>,
) -> anyhow::Result<Vec<f64>> {
    let to = Address([0xaa; 20]);
    let mut out = Vec::new();
    for i in 0..n {
        if stop.is_some_and(|s| s.load(Ordering::Relaxed)) {
            break;
        }
        let tx = signed(key, first_nonce + i as u64, to, 1);
        let api = &apis[i % apis.len()];
        let t = Instant::now();
        let r = http
            .post(format!("{api}/tx"))
            .body(hex::encode(tx.to_bytes()))
            .timeout(Duration::from_secs(60))
            .send()?;
        let status = r.status();
        let receipt: Value = r.json()?;
        ensure!(
            status.is_success() && receipt["ok"] == Value::Bool(true),
            "transfer {i}: {status} {receipt}"
        );
        out.push(t.elapsed().as_secs_f64());
    }
    Ok(out)
}

fn main() -> anyhow::Result<()> {
    // `cargo bench` passes `--bench`; nothing else is accepted.
    let total = env_usize("CAIRN_BENCH_TXS", 20_000);
    let n_accounts = env_usize("CAIRN_BENCH_ACCOUNTS", 64).max(8);
    let bin = validator_bin()?;
    let tmp = tempfile::tempdir()?;
    let dir = tmp.path().join("net");
    let out = Command::new(&bin)
        .args([
            "testnet",
            "--validators",
            "4",
            "--free-ports",
            "--sector-sizes",
            "none",
        ])
        .args(["--accounts", &(n_accounts + 2).to_string(), "--dir"])
        .arg(&dir)
        .output()?;
    ensure!(
        out.status.success(),
        "testnet: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut procs = Vec::new();
    let mut apis = Vec::new();
    for i in 0..4 {
        let home = dir.join(i.to_string());
        let file: Value = serde_json::from_slice(&std::fs::read(home.join("validator.json"))?)?;
        apis.push(format!(
            "http://{}",
            file["api_listen"].as_str().unwrap_or_default()
        ));
        let log = std::fs::File::create(home.join("validator.log"))?;
        procs.push(Proc(
            Command::new(&bin)
                .args(["run", "--home"])
                .arg(&home)
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()?,
        ));
    }
    let http = reqwest::blocking::Client::new();
    let t0 = Instant::now();
    loop {
        let ready = apis.iter().all(|a| {
            get(&http, &format!("{a}/status"))
                .ok()
                .and_then(|s| s["height"].as_u64())
                .is_some_and(|h| h >= 3)
        });
        if ready {
            break;
        }
        ensure!(
            t0.elapsed() < Duration::from_secs(90),
            "validators did not start"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let accts = accounts(&dir)?;
    println!(
        "4 validators finalizing after {:.1} s; {} transfers from {n_accounts} accounts",
        t0.elapsed().as_secs_f64(),
        total
    );

    // 1. Finality latency, idle.
    let mut idle = latencies(&http, &apis, &accts[0].0, 0, 20, None)?;
    idle.sort_by(f64::total_cmp);

    // 2. Throughput, with latency sampled under load by account 1.
    let per = total / n_accounts;
    let senders: Vec<(SigningKey, Address)> = accts[2..2 + n_accounts].to_vec();
    let sink = Address([0xbb; 20]);
    let threads = 8;
    let mut batches: Vec<Vec<(usize, Vec<String>)>> = vec![Vec::new(); threads];
    for (i, (key, _)) in senders.iter().enumerate() {
        let txs: Vec<String> = (0..per as u64)
            .map(|n| hex::encode(signed(key, n, sink, 1).to_bytes()))
            .collect();
        // Each account's transfers go to one API, in nonce order.
        batches[i % threads].push((i % apis.len(), txs));
    }
    let stop = Arc::new(AtomicBool::new(false));
    let loaded = {
        let (http, apis, key, stop) =
            (http.clone(), apis.clone(), accts[1].0.clone(), stop.clone());
        std::thread::spawn(move || latencies(&http, &apis, &key, 0, 10_000, Some(&stop)))
    };
    let start = Instant::now();
    let workers: Vec<_> = batches
        .into_iter()
        .map(|batch| {
            let (http, apis) = (http.clone(), apis.clone());
            std::thread::spawn(move || -> anyhow::Result<()> {
                // Interleave accounts so every API is busy.
                let longest = batch.iter().map(|(_, t)| t.len()).max().unwrap_or(0);
                for n in 0..longest {
                    for (api, txs) in &batch {
                        let Some(tx) = txs.get(n) else { continue };
                        let r = http
                            .post(format!("{}/tx?wait=false", apis[*api]))
                            .body(tx.clone())
                            .timeout(Duration::from_secs(30))
                            .send()?;
                        ensure!(r.status().as_u16() == 202, "submit: {}", r.status());
                    }
                }
                Ok(())
            })
        })
        .collect();
    for w in workers {
        w.join()
            .map_err(|_| anyhow::anyhow!("a submitter panicked"))??;
    }
    let submitted = start.elapsed().as_secs_f64();
    loop {
        let mut done = 0u64;
        for (_, addr) in &senders {
            let a = get(&http, &format!("{}/accounts/{addr}", apis[0]))?;
            done += a["nonce"].as_u64().unwrap_or(0);
        }
        if done >= (per * n_accounts) as u64 {
            break;
        }
        ensure!(
            start.elapsed() < Duration::from_secs(600),
            "only {done} of {} transfers finalized after 600 s",
            per * n_accounts
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let elapsed = start.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    let mut under_load = loaded
        .join()
        .map_err(|_| anyhow::anyhow!("the latency sampler panicked"))??;
    under_load.sort_by(f64::total_cmp);
    let status = get(&http, &format!("{}/status", apis[0]))?;
    let n = per * n_accounts;
    println!(
        "throughput: {n} transfers finalized in {elapsed:.2} s = {:.0} transfers/s \
         (submission took {submitted:.2} s; height now {})",
        n as f64 / elapsed,
        status["height"]
    );
    for (what, l) in [("idle", &idle), ("under load", &under_load)] {
        println!(
            "finality latency {what}: n={} p50 {:.2} s, p95 {:.2} s, max {:.2} s",
            l.len(),
            percentile(l, 0.5),
            percentile(l, 0.95),
            percentile(l, 1.0)
        );
    }
    drop(procs);
    Ok(())
}

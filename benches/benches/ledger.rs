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
//! - **Sustained**: `CAIRN_BENCH_RATE` transfers per second (default 1000)
//!   offered, paced, for 20 s, with the finality latency sampled meanwhile:
//!   the figure to read against the goal (≥ 1,000 transfers/s with ≤ 2 s
//!   finality), since the throughput run measures a backlog draining.
//!
//! `CAIRN_BENCH_TXS` (default 20000) and `CAIRN_BENCH_ACCOUNTS` (default
//! 64) size the throughput run. A full mempool (503) is retried after 50 ms.

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

/// Submits without waiting; a full mempool (503) is back-pressure: wait
/// and retry, as a client should.
fn submit(http: &reqwest::blocking::Client, api: &str, tx: &str) -> anyhow::Result<()> {
    loop {
        let r = http
            .post(format!("{api}/tx?wait=false"))
            .body(tx.to_owned())
            .timeout(Duration::from_secs(30))
            .send()?;
        match r.status().as_u16() {
            202 => return Ok(()),
            503 => std::thread::sleep(Duration::from_millis(50)),
            s => bail!("submit: {s} {}", r.text().unwrap_or_default()),
        }
    }
}

/// Sum of the senders' nonces on the finalized state of `api`.
fn applied(
    http: &reqwest::blocking::Client,
    api: &str,
    senders: &[(SigningKey, Address)],
) -> anyhow::Result<u64> {
    let mut done = 0;
    for (_, addr) in senders {
        done += get(http, &format!("{api}/accounts/{addr}"))?["nonce"]
            .as_u64()
            .unwrap_or(0);
    }
    Ok(done)
}

/// Sends `per_sender` transfers from each of `senders` (nonces from
/// `first`), signed beforehand, from 8 threads spread over the APIs, each
/// account's in nonce order to one API; `pace` spaces each thread's
/// submissions (None: as fast as they go). Returns how many were sent and
/// when the first went out.
fn offer(
    http: &reqwest::blocking::Client,
    apis: &[String],
    senders: &[(SigningKey, Address)],
    first: u64,
    per_sender: u64,
    pace: Option<Duration>,
) -> anyhow::Result<(u64, Instant)> {
    let threads = 8;
    let sink = Address([0xcc; 20]);
    let mut batches: Vec<Vec<(usize, Vec<String>)>> = vec![Vec::new(); threads];
    for (i, (key, _)) in senders.iter().enumerate() {
        let txs = (first..first + per_sender)
            .map(|n| hex::encode(signed(key, n, sink, 1).to_bytes()))
            .collect();
        batches[i % threads].push((i % apis.len(), txs));
    }
    let start = Instant::now();
    let workers: Vec<_> = batches
        .into_iter()
        .map(|batch| {
            let (http, apis) = (http.clone(), apis.to_vec());
            std::thread::spawn(move || -> anyhow::Result<()> {
                let mut k = 0u32;
                // Interleave accounts so every API is busy.
                let longest = batch.iter().map(|(_, t)| t.len()).max().unwrap_or(0);
                for n in 0..longest {
                    for (api, txs) in &batch {
                        let Some(tx) = txs.get(n) else { continue };
                        if let Some(p) = pace {
                            let due = start + p * k;
                            if let Some(wait) = due.checked_duration_since(Instant::now()) {
                                std::thread::sleep(wait);
                            }
                        }
                        k += 1;
                        submit(&http, &apis[*api], tx)?;
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
    Ok((per_sender * senders.len() as u64, start))
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
    let stop = Arc::new(AtomicBool::new(false));
    let loaded = {
        let (http, apis, key, stop) =
            (http.clone(), apis.clone(), accts[1].0.clone(), stop.clone());
        std::thread::spawn(move || latencies(&http, &apis, &key, 0, 10_000, Some(&stop)))
    };
    let (_, start) = offer(&http, &apis, &senders, 0, per as u64, None)?;
    let submitted = start.elapsed().as_secs_f64();
    loop {
        let done = applied(&http, &apis[0], &senders)?;
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

    // 3. Sustained load: `rate` transfers/s offered for 20 s, latency
    // sampled by account 0 meanwhile.
    let rate = env_usize("CAIRN_BENCH_RATE", 1_000);
    let secs = 20;
    let before = applied(&http, &apis[0], &senders)?;
    let stop = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (http, apis, key, stop) =
            (http.clone(), apis.clone(), accts[0].0.clone(), stop.clone());
        std::thread::spawn(move || latencies(&http, &apis, &key, 20, 10_000, Some(&stop)))
    };
    let per_sender = (rate as u64 * secs).div_ceil(senders.len() as u64);
    let pace = Duration::from_secs_f64(8.0 / rate as f64);
    let (offered, t) = offer(&http, &apis, &senders, per as u64, per_sender, Some(pace))?;
    let offered_s = t.elapsed().as_secs_f64();
    loop {
        if applied(&http, &apis[0], &senders)? >= before + offered {
            break;
        }
        ensure!(
            t.elapsed() < Duration::from_secs(600),
            "sustained load not finalized"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let drained = t.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    let mut sustained = sampler
        .join()
        .map_err(|_| anyhow::anyhow!("the latency sampler panicked"))??;
    sustained.sort_by(f64::total_cmp);
    println!(
        "sustained: {offered} transfers offered at {rate}/s over {offered_s:.1} s ({:.0}/s achieved); \
         all finalized {:.2} s after the first; finality latency n={} p50 {:.2} s, p95 {:.2} s, max {:.2} s",
        offered as f64 / offered_s,
        drained,
        sustained.len(),
        percentile(&sustained, 0.5),
        percentile(&sustained, 0.95),
        percentile(&sustained, 1.0)
    );
    drop(procs);
    Ok(())
}

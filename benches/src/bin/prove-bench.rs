//! `prove-bench`: provider proving on a devnet, end to end (docs/BENCHMARKS.md §10).
//!
//! `cairn devnet --sector-size S --no-demo` (one validator, six sealing
//! `cairn-node` providers, the gateway: real processes, the devnet's
//! timing), then one object PUT through S3, sized so that each of its six
//! 4+2 shards fits one sector. Reported:
//!
//! - time from the PUT to the deals published, to every deal's sector
//!   prove-committed (PC1, PC2, PreCommitSector, the seed, C1, a Groth16
//!   C2 one node at a time, ProveCommitSector: six sectors), and to every
//!   deal paid by a verified WindowPoSt;
//! - sectors sealed per hour on this machine: six sectors over the span
//!   from the deals' publication to the last prove-commit, and from the
//!   nodes' phase timings (`seal_phase_seconds`) one sector's phases back
//!   to back;
//! - one WindowPoSt (check, Groth16 proof, submission) against the
//!   deadline window's length, from the nodes' `window_post_seconds` and
//!   the epochs measured on the ledger.
//!
//! Binaries as for `net-bench` (build them first). Run:
//! `cargo run -p cairn-benches --bin prove-bench -- --sector-size 8MiB`
//! (or `2KiB`; `--object-bytes N` overrides the size). `CAIRN_BENCH_DIR`
//! and `CAIRN_BENCH_KEEP=1` as for `net-bench`.

#[path = "support/devnet.rs"]
mod devnet;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use devnet::{Devnet, cairn_bin, http_get, http_json, put};

/// Polls `f` every half second until it yields, for at most `limit`.
async fn until<T, F, Fut>(what: &str, limit: Duration, mut f: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<Option<T>>>,
{
    let t = Instant::now();
    loop {
        if let Some(v) = f().await? {
            return Ok(v);
        }
        ensure!(t.elapsed() < limit, "{what}: not within {limit:?}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Sums and counts of a histogram in Prometheus text, by its first label.
fn histogram(text: &str, name: &str) -> BTreeMap<String, (f64, f64)> {
    let mut out: BTreeMap<String, (f64, f64)> = BTreeMap::new();
    for line in text.lines() {
        for (suffix, slot) in [("_sum", 0), ("_count", 1)] {
            let prefix = format!("{name}{suffix}{{");
            let Some(rest) = line.strip_prefix(&prefix) else {
                continue;
            };
            let Some((labels, value)) = rest.split_once("} ") else {
                continue;
            };
            let label = labels
                .split_once('"')
                .and_then(|(_, r)| r.split_once('"'))
                .map_or("", |(l, _)| l)
                .to_owned();
            let v: f64 = value.trim().parse().unwrap_or(0.0);
            let e = out.entry(label).or_default();
            if slot == 0 {
                e.0 += v;
            } else {
                e.1 += v;
            }
        }
    }
    out
}

fn main() -> Result<()> {
    let mut sector = "8MiB".to_owned();
    let mut object: Option<u64> = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--sector-size" => sector = args.next().context("--sector-size S")?,
            "--object-bytes" => object = Some(args.next().context("--object-bytes N")?.parse()?),
            other => bail!(
                "unknown argument {other:?} (usage: prove-bench [--sector-size 2KiB|8MiB] [--object-bytes N])"
            ),
        }
    }
    // Each 4+2 shard's pieces within one sector (CAR overhead included).
    let size = object.unwrap_or(match sector.as_str() {
        "2KiB" => 5_800,
        "8MiB" => 20 << 20,
        other => bail!("no default object size for {other} sectors; pass --object-bytes"),
    });
    let cairn = cairn_bin()?;
    let base = std::env::var_os("CAIRN_BENCH_DIR").map_or_else(std::env::temp_dir, PathBuf::from);
    let work = base.join(format!("prove-bench-{}", std::process::id()));
    std::fs::create_dir_all(&work)?;
    let net = work.join("devnet");
    println!(
        "prove-bench: {sector} sectors, a {size}-byte object, state in {}",
        work.display()
    );
    let mut devnet = Devnet::start(&cairn, &net, &["--sector-size", &sector])?;
    let rt = tokio::runtime::Runtime::new()?;
    let result = rt.block_on(run(&devnet, size));
    devnet.stop();
    if std::env::var_os("CAIRN_BENCH_KEEP").is_none() {
        let _ = std::fs::remove_dir_all(&work);
    } else {
        println!("kept {}", work.display());
    }
    result
}

async fn run(devnet: &Devnet, size: u64) -> Result<()> {
    let e = &devnet.endpoints;
    let ledger = e["ledgers"]
        .get(0)
        .and_then(|v| v.as_str())
        .or_else(|| e["ledger"].as_str())
        .context("no ledger in endpoints.json")?
        .to_owned();
    let client = devnet.client()?;
    let epoch_at = |l: String| async move {
        http_json(&format!("{l}/status"))
            .await
            .map(|v| v["epoch"].as_u64().unwrap_or(0))
    };
    let e0 = epoch_at(ledger.clone()).await?;
    let t0 = Instant::now();
    let (put_time, cid) = put(&client, size).await?;
    println!("PUT {size} bytes in {put_time:?}, CID {cid}");

    let deals: Vec<u64> = until("deals published", Duration::from_secs(600), || {
        let url = format!("{ledger}/deals?label={cid}");
        async move {
            let v = http_json(&url).await?;
            let ids: Vec<u64> = v
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|d| d["id"].as_u64())
                .collect();
            Ok((!ids.is_empty()).then_some(ids))
        }
    })
    .await?;
    let published = t0.elapsed();
    println!("{} deals published after {published:?}", deals.len());

    let deal = |id: u64| {
        let url = format!("{ledger}/deals/{id}");
        async move { http_json(&url).await }
    };
    let sectors: usize = until(
        "every deal in a proven sector",
        Duration::from_secs(3600),
        || {
            let deals = deals.clone();
            async move {
                let mut keys = std::collections::BTreeSet::new();
                for id in deals {
                    let d = deal(id).await?;
                    match d["state"].as_str() {
                        Some("Active") => {
                            keys.insert((d["provider"].as_u64(), d["sector"].as_u64()));
                        }
                        Some("Published") => return Ok(None),
                        other => bail!("deal {id} is {other:?}: not sealed in time"),
                    }
                }
                Ok(Some(keys.len()))
            }
        },
    )
    .await?;
    let proven = t0.elapsed();
    println!("all {sectors} sectors prove-committed after {proven:?}");

    until("every deal paid", Duration::from_secs(3600), || {
        let deals = deals.clone();
        async move {
            for id in deals {
                if deal(id).await?["paid"].as_str().is_none_or(|p| p == "0") {
                    return Ok(None);
                }
            }
            Ok(Some(()))
        }
    })
    .await?;
    let paid = t0.elapsed();
    let e1 = epoch_at(ledger.clone()).await?;
    let epoch_secs = paid.as_secs_f64() / (e1.saturating_sub(e0)).max(1) as f64;
    println!("every deal paid after {paid:?}");

    // The nodes' own timings.
    let mut phases: BTreeMap<String, (f64, f64)> = BTreeMap::new();
    let mut post: BTreeMap<String, (f64, f64)> = BTreeMap::new();
    for m in e["metrics"].as_array().into_iter().flatten() {
        if !m["who"].as_str().is_some_and(|w| w.starts_with("node")) {
            continue;
        }
        let url = m["url"].as_str().unwrap_or_default();
        let text = metrics_text(url).await.unwrap_or_default();
        for (k, (s, c)) in histogram(&text, "cairn_node_seal_phase_seconds") {
            let e = phases.entry(k).or_default();
            e.0 += s;
            e.1 += c;
        }
        for (k, (s, c)) in histogram(&text, "cairn_node_window_post_seconds") {
            let e = post.entry(k).or_default();
            e.0 += s;
            e.1 += c;
        }
    }
    let params = http_json(&format!("{ledger}/params")).await?;
    let window = params["deadline_window"].as_u64().unwrap_or(0);
    let mean = |m: &BTreeMap<String, (f64, f64)>, k: &str| {
        m.get(k)
            .filter(|(_, c)| *c > 0.0)
            .map_or(0.0, |(s, c)| s / c)
    };
    let one_sector: f64 = ["pc1", "pc2", "c1", "c2"]
        .iter()
        .map(|p| mean(&phases, p))
        .sum();
    let span = (proven - published).as_secs_f64();
    println!();
    println!("| figure | value |");
    println!("| --- | ---: |");
    println!("| PUT ({size} bytes) | {:.2} s |", put_time.as_secs_f64());
    println!(
        "| PUT → deals published | {:.1} s |",
        published.as_secs_f64()
    );
    println!(
        "| PUT → all {sectors} sectors prove-committed | {:.1} s |",
        proven.as_secs_f64()
    );
    println!(
        "| PUT → every deal paid by a WindowPoSt | {:.1} s |",
        paid.as_secs_f64()
    );
    for p in ["pc1", "pc2", "c1", "c2"] {
        let (s, c) = phases.get(p).copied().unwrap_or_default();
        println!(
            "| {p}, mean of {c} | {:.2} s |",
            if c > 0.0 { s / c } else { 0.0 }
        );
    }
    println!(
        "| sectors per hour, six nodes on this machine (publication → last prove-commit) | {:.1} |",
        sectors as f64 * 3600.0 / span.max(1e-9)
    );
    println!(
        "| sectors per hour, one sector's phases back to back | {:.1} |",
        3600.0 / one_sector.max(1e-9)
    );
    let (ps, pc) = post.get("accepted").copied().unwrap_or_default();
    println!(
        "| WindowPoSt (check + Groth16 + submit), mean of {pc} | {:.2} s |",
        if pc > 0.0 { ps / pc } else { 0.0 }
    );
    println!(
        "| deadline window: {window} epochs × {epoch_secs:.2} s | {:.1} s |",
        window as f64 * epoch_secs
    );
    Ok(())
}

async fn metrics_text(url: &str) -> Result<String> {
    Ok(String::from_utf8_lossy(&http_get(url).await?).into_owned())
}

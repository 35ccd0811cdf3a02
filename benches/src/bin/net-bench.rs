//! `net-bench`: the storage network's figures on loopback, side by side
//! with the local-only gateway, in one run (docs/BENCHMARKS.md §9).
//!
//! 1. **Local-only PUT**: `cairn gateway` without a ledger over a fresh
//!    data dir; one object (1 GiB by default) PUT, streamed from memory in
//!    1 MiB chunks generated on the fly.
//! 2. **Placement**: `cairn devnet --no-demo` (one validator, six
//!    `cairn-node` providers, the gateway: real processes); the same PUT,
//!    then the time until the object's manifest is on the ledger, i.e.
//!    every piece transferred, countersigned and published. Placement rate
//!    = bytes / (PUT + placement).
//! 3. **Retrieval**: the devnet restarted with `--hot-cache-bytes 0`, so
//!    the gateway holds no copy; GET of the object through S3 with every
//!    provider up, then with two of the six killed: time to first byte and
//!    rate. Every block is checked against its CID on the way.
//! 4. **Decode and verify** in this process: the erasure decoder
//!    rebuilding stripes with two data shards missing, plus SHA-256 over
//!    every decoded byte (what block verification costs), over a 256 MiB
//!    stream laid out as an upload on 8 MiB sectors.
//!
//! Binaries: `$CAIRN_BIN` (`cairn`), else `$CARGO_TARGET_DIR/debug/cairn`
//! (default target `~/.cache/cairn/target`); `cairn-node` and
//! `cairn-validator` beside it. Build them first:
//! `cargo build -p cairn-client -p cairn-node -p cairn-deal-market --bins`.
//!
//! Run: `cargo run -p cairn-benches --bin net-bench -- [--mib N]`.
//! `CAIRN_BENCH_DIR` sets where the temporary state goes;
//! `CAIRN_BENCH_KEEP=1` keeps it (logs under `devnet/logs`).

#[path = "support/devnet.rs"]
mod devnet;

use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use bytes::Bytes;
use cairn_benches::data::ChunkedObject;
use cairn_benches::s3::{S3Client, full};
use cairn_erasure::{Encoder, Layout, StripeDecoder};
use http::Method;
use http_body_util::BodyExt;
use sha2::{Digest, Sha256};

use devnet::{BUCKET, Devnet, KEY, MIB, cairn_bin, http_json, kill_node, put, spawn, terminate};

fn main() -> Result<()> {
    let mut mib: u64 = 1024;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--mib" => mib = args.next().context("--mib N")?.parse()?,
            other => bail!("unknown argument {other:?} (usage: net-bench [--mib N])"),
        }
    }
    let size = mib * MIB;
    let cairn = cairn_bin()?;
    let base = std::env::var_os("CAIRN_BENCH_DIR").map_or_else(std::env::temp_dir, PathBuf::from);
    let dir = base.join(format!("cairn-net-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    println!("net-bench: {mib} MiB object, binaries {}", cairn.display());

    // 1. Local-only.
    let local = {
        let s3 = free_addr()?;
        let mut gw = spawn(
            Command::new(&cairn)
                .arg("gateway")
                .arg("--data-dir")
                .arg(dir.join("local"))
                .args(["--s3-addr", &s3.to_string()])
                .args(["--http-addr", &free_addr()?.to_string()])
                .args(["--metrics-addr", &free_addr()?.to_string()])
                .env_remove("CAIRN_CONFIG")
                .env_remove("CAIRN_LEDGER")
                .env("CAIRN_S3_ACCESS_KEY", "bench")
                .env("CAIRN_S3_SECRET_KEY", "bench-secret"),
            &dir.join("local.log"),
        )?;
        wait_port(s3, Duration::from_secs(30))?;
        let client = S3Client::new(s3, "bench", "bench-secret", "us-east-1");
        let r = rt.block_on(put(&client, size));
        terminate(&mut gw);
        r?
    };
    println!(
        "local-only PUT          {:>8.1} MB/s  ({:.1} s)",
        mbps(size, local.0),
        local.0.as_secs_f64()
    );

    // 2. Placement on the devnet.
    let net = dir.join("devnet");
    let mut devnet = Devnet::start(&cairn, &net, &["--no-seal"])?;
    let client = devnet.client()?;
    let (put_time, cid) = rt.block_on(put(&client, size))?;
    let started = Instant::now();
    let ledger = devnet.endpoints["ledger"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    loop {
        let m: serde_json::Value = rt.block_on(http_json(&format!("{ledger}/manifests/{cid}")))?;
        if m.as_array().is_some_and(|a| !a.is_empty()) {
            break;
        }
        ensure!(
            started.elapsed() < Duration::from_secs(3600),
            "not placed in an hour; see {}/logs/gateway.log",
            net.display()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let placed = started.elapsed();
    let deals: serde_json::Value =
        rt.block_on(http_json(&format!("{ledger}/deals?label={cid}")))?;
    let deals = deals.as_array().map_or(0, Vec::len);
    println!(
        "devnet PUT              {:>8.1} MB/s  ({:.1} s)",
        mbps(size, put_time),
        put_time.as_secs_f64()
    );
    println!(
        "placement (PUT+publish) {:>8.1} MB/s  ({:.1} s after the PUT; {deals} deals)  = {:.0}% of local-only",
        mbps(size, put_time + placed),
        placed.as_secs_f64(),
        100.0 * local.0.as_secs_f64() / (put_time + placed).as_secs_f64()
    );
    devnet.stop();

    // 3. Retrieval with no hot copy.
    let mut devnet = Devnet::start(&cairn, &net, &["--no-seal", "--hot-cache-bytes", "0"])?;
    let log = net.join("logs/gateway.log");
    let t = Instant::now();
    while !std::fs::read_to_string(&log)
        .unwrap_or_default()
        .lines()
        .any(|l| l.contains("hot copies evicted"))
    {
        ensure!(
            t.elapsed() < Duration::from_secs(120),
            "no eviction in 120 s"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let client = devnet.client()?;
    let all = rt.block_on(get(&client, size))?;
    println!(
        "GET, 6 of 6 providers   {:>8.1} MB/s  ({:.1} s), first byte {:.1} ms",
        mbps(size, all.1),
        all.1.as_secs_f64(),
        all.0.as_secs_f64() * 1e3
    );
    for i in [1, 4] {
        kill_node(&net, i)?;
    }
    let two_down = rt.block_on(get(&client, size))?;
    println!(
        "GET, 4 of 6 providers   {:>8.1} MB/s  ({:.1} s), first byte {:.1} ms",
        mbps(size, two_down.1),
        two_down.1.as_secs_f64(),
        two_down.0.as_secs_f64() * 1e3
    );
    devnet.stop();

    // 4. Decode and verify in process.
    let (copy, decode) = decode_rate(256 * MIB)?;
    println!("decode+verify, all data shards   {copy:>8.1} MB/s");
    println!("decode+verify, 2 data shards lost {decode:>7.1} MB/s");
    if std::env::var_os("CAIRN_BENCH_KEEP").is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    } else {
        println!("state kept in {}", dir.display());
    }
    Ok(())
}

fn mbps(bytes: u64, t: Duration) -> f64 {
    bytes as f64 / 1e6 / t.as_secs_f64()
}

fn free_addr() -> Result<SocketAddr> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?)
}

fn wait_port(addr: SocketAddr, limit: Duration) -> Result<()> {
    let t = Instant::now();
    while std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
        ensure!(t.elapsed() < limit, "nothing listens on {addr}");
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(())
}

/// GET of the object, every byte compared; returns (first byte, total).
async fn get(client: &Arc<S3Client>, size: u64) -> Result<(Duration, Duration)> {
    let mut conn = client.connect().await?;
    let object = ChunkedObject::new(size, MIB as usize, 0xC0FFEE);
    let t = Instant::now();
    let resp = conn
        .send(Method::GET, BUCKET, Some(KEY), full(Bytes::new()), 0)
        .await?;
    ensure!(resp.status().is_success(), "GET answered {}", resp.status());
    let mut body = resp.into_body();
    let mut first = None;
    let mut at = 0u64;
    let mut expected = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        if first.is_none() && !data.is_empty() {
            first = Some(t.elapsed());
        }
        expected.clear();
        let mut need = data.len();
        let mut pos = at;
        while need > 0 {
            let chunk = object.chunk(pos / MIB).context("past the end")?;
            let off = (pos % MIB) as usize;
            let n = need.min(chunk.len() - off);
            expected.extend_from_slice(&chunk[off..off + n]);
            need -= n;
            pos += n as u64;
        }
        ensure!(data[..] == expected[..], "bytes differ at {at}");
        at += data.len() as u64;
    }
    ensure!(at == size, "GET returned {at} of {size} bytes");
    Ok((first.unwrap_or_default(), t.elapsed()))
}

/// (all data shards, two data shards lost) decode + SHA-256 rates in MB/s
/// over `len` bytes laid out for 8 MiB sectors, 4+2.
fn decode_rate(len: u64) -> Result<(f64, f64)> {
    let layout = Layout::plan(len, 4, 2, 8 * MIB, 42)?;
    let mut shards: Vec<Vec<Vec<u8>>> = (0..layout.segments())
        .map(|_| vec![Vec::new(); layout.shards()])
        .collect();
    let mut enc = Encoder::new(layout);
    let data = cairn_benches::data::pseudo_random(MIB as usize, 7);
    let mut sink = |c: cairn_erasure::Chunk<'_>| {
        shards[c.segment as usize][usize::from(c.shard)].extend_from_slice(c.bytes);
        Ok(())
    };
    let mut left = len;
    while left > 0 {
        let n = left.min(MIB) as usize;
        enc.write(&data[..n], &mut sink)?;
        left -= n as u64;
    }
    enc.finish()?;
    let mut rates = Vec::new();
    for lost in [&[][..], &[0u8, 1][..]] {
        let mut dec = StripeDecoder::new(layout);
        let mut out = Vec::new();
        let mut hasher = Sha256::new();
        let t = Instant::now();
        for j in 0..layout.segments() {
            for s in 0..layout.stripes(j) {
                let r = layout.stripe_in_piece(j, s);
                let refs: Vec<Option<&[u8]>> = (0..layout.shards())
                    .map(|i| {
                        (!lost.contains(&(i as u8)))
                            .then(|| &shards[j as usize][i][r.start as usize..r.end as usize])
                    })
                    .collect();
                out.clear();
                dec.decode(j, s, &refs, &mut out)?;
                hasher.update(&out);
            }
        }
        std::hint::black_box(hasher.finalize());
        rates.push(mbps(len, t.elapsed()));
    }
    Ok((rates[0], rates[1]))
}

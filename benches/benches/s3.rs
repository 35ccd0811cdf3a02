//! S3 throughput: Cairn's gateway against s3s-fs, same client, same run.
//!
//! Both servers run in this process on loopback ports, each over a fresh
//! temporary directory on disk per run: Cairn's gateway
//! (`cairn_gateway::server::run` over a `cairn_store::Store`) and s3s-fs,
//! the plain-filesystem S3 server built on the same `s3s` protocol crate,
//! served the way its `main.rs` serves it. Each run measures, in order:
//!
//! 1. PUT of one big object (1 GiB), streamed in 1 MiB chunks generated on
//!    the fly, `x-amz-content-sha256: UNSIGNED-PAYLOAD`;
//! 2. GET of it, read and dropped, bytes counted;
//! 3. PUT of N small objects (10,000 × 4 KiB) over C keep-alive
//!    connections (16), each connection one request at a time;
//! 4. GET of them, same connections.
//!
//! Runs alternate the targets (Cairn, s3s-fs, Cairn, ...) so drift in the
//! machine hits both alike; the table shows the median of the runs.
//! Servers get a 2-worker tokio runtime, the client its own single thread.
//!
//! Environment: `CAIRN_BENCH_QUICK=1` (64 MiB, 500 objects, 1 run, a smoke
//! test), `CAIRN_BENCH_BIG_MIB`, `CAIRN_BENCH_SMALL_COUNT`,
//! `CAIRN_BENCH_CONCURRENCY`, `CAIRN_BENCH_RUNS`, `CAIRN_BENCH_DIR` (where
//! the temporary stores go; default the system temp dir),
//! `CAIRN_BENCH_TARGETS` (`cairn`, `s3s-fs` or `all`, for profiling one),
//! `CAIRN_BENCH_SERVER_NODELAY=1` (TCP_NODELAY on the servers' sockets,
//! which neither server sets itself: see docs/BENCHMARKS.md).
//!
//! Run with `cargo bench -p cairn-benches --bench s3`. Without `--bench`
//! (as `cargo test --benches` runs it) it does the quick sizes, as a test.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use cairn_benches::data::{ChunkedObject, pseudo_random, small_object};
use cairn_benches::s3::{ClientError, Connection, S3Client, full, streamed};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder as ConnBuilder;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

const ACCESS_KEY: &str = "cairn-bench";
const SECRET_KEY: &str = "cairn-bench-secret";
const REGION: &str = "us-east-1";
const BUCKET: &str = "bench";
const MIB: u64 = 1 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Cairn,
    S3sFs,
}

impl Target {
    fn name(self) -> &'static str {
        match self {
            Target::Cairn => "Cairn gateway",
            Target::S3sFs => "s3s-fs 0.14",
        }
    }
}

#[derive(Debug)]
struct Config {
    big: u64,
    chunk: usize,
    small_count: u64,
    small_size: usize,
    concurrency: usize,
    runs: usize,
    dir: PathBuf,
    server_nodelay: bool,
    targets: Vec<Target>,
}

fn env_u64(name: &str) -> Result<Option<u64>> {
    match std::env::var(name) {
        Ok(v) => {
            Ok(Some(v.parse().with_context(|| {
                format!("{name}={v:?} is not a number")
            })?))
        }
        Err(_) => Ok(None),
    }
}

impl Config {
    /// `bench_mode`: started by `cargo bench` (which passes `--bench`);
    /// otherwise (`cargo test --benches`) the quick sizes are used.
    fn from_env(bench_mode: bool) -> Result<Config> {
        let quick = !bench_mode
            || std::env::var("CAIRN_BENCH_QUICK").is_ok_and(|v| v != "0" && !v.is_empty());
        let (big_mib, small_count, runs) = if quick {
            (64, 500, 1)
        } else {
            (1024, 10_000, 3)
        };
        let config = Config {
            big: env_u64("CAIRN_BENCH_BIG_MIB")?.unwrap_or(big_mib) * MIB,
            chunk: MIB as usize,
            small_count: env_u64("CAIRN_BENCH_SMALL_COUNT")?.unwrap_or(small_count),
            small_size: 4096,
            concurrency: env_u64("CAIRN_BENCH_CONCURRENCY")?.unwrap_or(16).max(1) as usize,
            runs: env_u64("CAIRN_BENCH_RUNS")?.unwrap_or(runs).max(1) as usize,
            dir: std::env::var_os("CAIRN_BENCH_DIR").map_or_else(std::env::temp_dir, PathBuf::from),
            targets: match std::env::var("CAIRN_BENCH_TARGETS").as_deref() {
                Ok("cairn") => vec![Target::Cairn],
                Ok("s3s-fs") => vec![Target::S3sFs],
                Ok("" | "all") | Err(_) => vec![Target::Cairn, Target::S3sFs],
                Ok(other) => bail!("CAIRN_BENCH_TARGETS={other:?}: expected cairn, s3s-fs or all"),
            },
            server_nodelay: std::env::var("CAIRN_BENCH_SERVER_NODELAY")
                .is_ok_and(|v| v != "0" && !v.is_empty()),
        };
        Ok(config)
    }
}

/// One server, running until `stop` fires.
struct Server {
    addr: SocketAddr,
    stop: oneshot::Sender<()>,
    task: JoinHandle<Result<()>>,
}

/// A loopback listener. With `nodelay`, TCP_NODELAY is set on the listening
/// socket, which Linux copies to every accepted socket: the servers' own
/// accept loops leave Nagle on.
fn bind(nodelay: bool) -> Result<TcpListener> {
    let socket = tokio::net::TcpSocket::new_v4()?;
    socket.set_nodelay(nodelay)?;
    socket.bind(SocketAddr::from(([127, 0, 0, 1], 0)))?;
    Ok(socket.listen(1024)?)
}

async fn start(target: Target, dir: &Path, nodelay: bool) -> Result<Server> {
    let (stop, stopped) = oneshot::channel::<()>();
    let shutdown = async move {
        let _ = stopped.await;
    };
    match target {
        Target::Cairn => {
            let store_dir = dir.to_path_buf();
            let store =
                tokio::task::spawn_blocking(move || cairn_store::Store::open(store_dir)).await??;
            let listeners = cairn_gateway::server::Listeners {
                s3: bind(nodelay)?,
                http: bind(nodelay)?,
                metrics: bind(nodelay)?,
                control: None,
            };
            let addr = listeners.s3.local_addr()?;
            let config = cairn_gateway::server::GatewayConfig {
                access_key: ACCESS_KEY.into(),
                secret_key: SECRET_KEY.into(),
                domains: Vec::new(),
                s3: cairn_gateway::s3::S3Settings::default(),
            };
            let task = tokio::spawn(async move {
                cairn_gateway::server::run(store, config, listeners, shutdown)
                    .await
                    .context("Cairn gateway")
            });
            Ok(Server { addr, stop, task })
        }
        Target::S3sFs => {
            let fs = s3s_fs::FileSystem::new(dir).map_err(|e| anyhow::anyhow!("s3s-fs: {e:?}"))?;
            let mut builder = s3s::service::S3ServiceBuilder::new(fs);
            builder.set_auth(s3s::auth::SimpleAuth::from_single(ACCESS_KEY, SECRET_KEY));
            let service = builder.build();
            let listener = bind(nodelay)?;
            let addr = listener.local_addr()?;
            let task = tokio::spawn(serve_s3s_fs(listener, service, shutdown));
            Ok(Server { addr, stop, task })
        }
    }
}

/// s3s-fs's own `main.rs` loop, with a shutdown future instead of ctrl-c.
async fn serve_s3s_fs(
    listener: TcpListener,
    service: s3s::service::S3Service,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<()> {
    let http = ConnBuilder::new(TokioExecutor::new());
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let socket = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((socket, _)) => socket,
                Err(_) => continue,
            },
            () = &mut shutdown => break,
        };
        let conn = graceful.watch(
            http.serve_connection(TokioIo::new(socket), service.clone())
                .into_owned(),
        );
        tokio::spawn(async move {
            let _ = conn.await;
        });
    }
    graceful.shutdown().await;
    Ok(())
}

/// One figure of a run (MB/s or objects/s).
type Metric<'a> = &'a dyn Fn(&RunResult) -> f64;

#[derive(Debug, Clone, Copy)]
struct RunResult {
    put_big: Duration,
    get_big: Duration,
    put_small: Duration,
    get_small: Duration,
}

async fn connections(client: &Arc<S3Client>, n: usize) -> Result<Vec<Connection>, ClientError> {
    let mut conns = Vec::with_capacity(n);
    for _ in 0..n {
        conns.push(client.connect().await?);
    }
    Ok(conns)
}

/// Runs `op(conn, i)` for i in 0..count, each connection taking the next
/// index when its previous request is done.
async fn fan_out(
    conns: &mut [Connection],
    count: u64,
    op: impl AsyncFn(&mut Connection, u64) -> Result<(), ClientError>,
) -> Result<Duration> {
    let next = AtomicU64::new(0);
    let started = Instant::now();
    futures::future::try_join_all(conns.iter_mut().map(|conn| {
        let (next, op) = (&next, &op);
        async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= count {
                    return Ok::<(), ClientError>(());
                }
                op(&mut *conn, i).await?;
            }
        }
    }))
    .await?;
    Ok(started.elapsed())
}

async fn measure(
    config: &Config,
    addr: SocketAddr,
    big: &ChunkedObject,
    small_base: &[u8],
) -> Result<RunResult> {
    let client = S3Client::new(addr, ACCESS_KEY, SECRET_KEY, REGION);
    let mut conn = client.connect().await?;
    conn.create_bucket(BUCKET).await?;

    let body = streamed(futures::stream::iter(big.chunks()));
    let started = Instant::now();
    conn.put(BUCKET, "big", body, big.len()).await?;
    let put_big = started.elapsed();

    let started = Instant::now();
    let got = conn.get(BUCKET, "big").await?;
    let get_big = started.elapsed();
    if got != big.len() {
        bail!("GET big returned {got} bytes, expected {}", big.len());
    }
    drop(conn);

    let mut conns = connections(&client, config.concurrency).await?;
    let size = small_base.len() as u64;
    let put_small = fan_out(
        &mut conns,
        config.small_count,
        async |conn: &mut Connection, i| {
            conn.put(
                BUCKET,
                &format!("small/{i:05}"),
                full(small_object(small_base, i)),
                size,
            )
            .await
        },
    )
    .await?;
    let get_small = fan_out(
        &mut conns,
        config.small_count,
        async |conn: &mut Connection, i| {
            let got = conn.get(BUCKET, &format!("small/{i:05}")).await?;
            if got != size {
                return Err(ClientError::Status {
                    method: http::Method::GET,
                    path: format!("/{BUCKET}/small/{i:05}"),
                    status: http::StatusCode::OK,
                    body: format!("short body: {got} of {size} bytes"),
                });
            }
            Ok(())
        },
    )
    .await?;
    Ok(RunResult {
        put_big,
        get_big,
        put_small,
        get_small,
    })
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    match xs.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => xs[n / 2],
        n => (xs[n / 2 - 1] + xs[n / 2]) / 2.0,
    }
}

fn main() -> Result<()> {
    // `cargo bench` passes `--bench` and any filter; run only when the
    // filter (if any) names this harness.
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    if !filters.is_empty()
        && !filters
            .iter()
            .any(|f| f.starts_with("s3") || "s3".starts_with(f.as_str()))
    {
        return Ok(());
    }
    let config = Config::from_env(std::env::args().any(|a| a == "--bench"))?;
    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("server")
        .enable_all()
        .build()?;
    let client_rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;

    let big = ChunkedObject::new(config.big, config.chunk, 0xB16);
    let small_base = pseudo_random(config.small_size, 0x5A11);
    eprintln!(
        "s3 bench: PUT/GET {} MiB in {} KiB chunks, PUT/GET {} x {} B over {} connections, {} run(s), stores under {}",
        config.big / MIB,
        config.chunk >> 10,
        config.small_count,
        config.small_size,
        config.concurrency,
        config.runs,
        config.dir.display()
    );

    let mut results: Vec<(Target, RunResult)> = Vec::new();
    for run in 0..config.runs {
        for &target in &config.targets {
            let dir = tempfile::Builder::new()
                .prefix("cairn-bench-s3-")
                .tempdir_in(&config.dir)?;
            let server = server_rt.block_on(start(target, dir.path(), config.server_nodelay))?;
            let result = client_rt.block_on(measure(&config, server.addr, &big, &small_base));
            let _ = server.stop.send(());
            server_rt.block_on(server.task)??;
            let result = result.with_context(|| format!("{} run {}", target.name(), run + 1))?;
            eprintln!(
                "run {} {:<14} PUT big {:>8.1} MB/s  GET big {:>8.1} MB/s  PUT small {:>8.0} obj/s  GET small {:>8.0} obj/s",
                run + 1,
                target.name(),
                mb_per_s(config.big, result.put_big),
                mb_per_s(config.big, result.get_big),
                per_s(config.small_count, result.put_small),
                per_s(config.small_count, result.get_small),
            );
            results.push((target, result));
            drop(dir);
        }
    }

    let med = |target: Target, f: &dyn Fn(&RunResult) -> f64| {
        median(
            results
                .iter()
                .filter(|(t, _)| *t == target)
                .map(|(_, r)| f(r))
                .collect(),
        )
    };
    let rows: [(String, Metric); 4] = [
        (
            format!("PUT {} MiB object (MB/s)", config.big / MIB),
            &|r| mb_per_s(config.big, r.put_big),
        ),
        (
            format!("GET {} MiB object (MB/s)", config.big / MIB),
            &|r| mb_per_s(config.big, r.get_big),
        ),
        (
            format!(
                "PUT {} × {} KiB (objects/s)",
                config.small_count,
                config.small_size >> 10
            ),
            &|r| per_s(config.small_count, r.put_small),
        ),
        (
            format!(
                "GET {} × {} KiB (objects/s)",
                config.small_count,
                config.small_size >> 10
            ),
            &|r| per_s(config.small_count, r.get_small),
        ),
    ];
    println!();
    println!(
        "Median of {} run(s); {} client connection(s) for small objects; MB = 10^6 bytes.",
        config.runs, config.concurrency
    );
    println!();
    println!(
        "| operation | {} | {} | Cairn / s3s-fs |",
        Target::Cairn.name(),
        Target::S3sFs.name()
    );
    println!("| --- | ---: | ---: | ---: |");
    for (label, f) in rows {
        let (c, s) = (med(Target::Cairn, f), med(Target::S3sFs, f));
        println!("| {label} | {c:.1} | {s:.1} | {:.2} |", c / s);
    }
    Ok(())
}

fn mb_per_s(bytes: u64, took: Duration) -> f64 {
    bytes as f64 / 1e6 / took.as_secs_f64()
}

fn per_s(count: u64, took: Duration) -> f64 {
    count as f64 / took.as_secs_f64()
}

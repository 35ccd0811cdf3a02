//! What the devnet benches share: the binaries, a `cairn devnet` child
//! with its endpoints, a streamed S3 PUT, JSON over plain HTTP.

// Each bench uses part of this file.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use bytes::Bytes;
use cairn_benches::data::ChunkedObject;
use cairn_benches::s3::{S3Client, streamed};
use http::Method;
use http_body_util::BodyExt;

/// 1 MiB.
pub const MIB: u64 = 1 << 20;
/// The bucket objects go to.
pub const BUCKET: &str = "bench";
/// The object's key.
pub const KEY: &str = "object.bin";

/// `cairn`: `$CAIRN_BIN`, else `$CARGO_TARGET_DIR/debug/cairn`.
pub fn cairn_bin() -> Result<PathBuf> {
    if let Some(p) = std::env::var_os("CAIRN_BIN") {
        return Ok(PathBuf::from(p));
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/cairn/target")))
        .context("set CAIRN_BIN")?;
    let p = target.join("debug/cairn");
    ensure!(
        p.is_file(),
        "{} missing: cargo build -p cairn-client -p cairn-node -p cairn-deal-market --bins",
        p.display()
    );
    Ok(p)
}

/// A child with its output in `log`.
pub fn spawn(cmd: &mut Command, log: &Path) -> Result<Child> {
    let f = std::fs::File::create(log)?;
    cmd.stdout(f.try_clone()?)
        .stderr(f)
        .stdin(Stdio::null())
        .spawn()
        .with_context(|| format!("spawning {cmd:?}"))
}

/// SIGTERM, then (after a minute) SIGKILL.
pub fn terminate(child: &mut Child) {
    if let Ok(Some(_)) = child.try_wait() {
        return;
    }
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(60) {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// `cairn devnet` as a child process.
pub struct Devnet {
    child: Child,
    /// Its `endpoints.json`.
    pub endpoints: serde_json::Value,
}

impl Devnet {
    /// Starts it in `dir` on free ports with `extra` flags; waits for
    /// its endpoints.
    pub fn start(cairn: &Path, dir: &Path, extra: &[&str]) -> Result<Devnet> {
        std::fs::create_dir_all(dir)?;
        let ep = dir.join("endpoints.json");
        let _ = std::fs::remove_file(&ep);
        let any = "127.0.0.1:0";
        let child = spawn(
            Command::new(cairn)
                .arg("devnet")
                .arg("--dir")
                .arg(dir)
                .args(["--no-demo", "--s3-addr", any, "--http-addr", any])
                .args([
                    "--ledger-port",
                    "0",
                    "--p2p-port",
                    "0",
                    "--metrics-port",
                    "0",
                ])
                .args(extra)
                .env_remove("CAIRN_CONFIG")
                .env_remove("CAIRN_LEDGER")
                .env_remove("CAIRN_WALLET")
                .env_remove("CAIRN_S3_ACCESS_KEY")
                .env_remove("CAIRN_S3_SECRET_KEY"),
            &dir.join("devnet.out"),
        )?;
        let mut d = Devnet {
            child,
            endpoints: serde_json::Value::Null,
        };
        let t = Instant::now();
        while !ep.is_file() {
            if let Ok(Some(s)) = d.child.try_wait() {
                bail!("devnet exited {s}; see {}/devnet.out", dir.display());
            }
            ensure!(t.elapsed() < Duration::from_secs(900), "devnet not up");
            std::thread::sleep(Duration::from_millis(200));
        }
        d.endpoints = serde_json::from_slice(&std::fs::read(&ep)?)?;
        Ok(d)
    }

    /// An S3 client for its gateway.
    pub fn client(&self) -> Result<Arc<S3Client>> {
        let e = &self.endpoints;
        let s3 = e["s3"].as_str().unwrap_or_default();
        let addr: SocketAddr = s3.trim_start_matches("http://").parse()?;
        Ok(S3Client::new(
            addr,
            e["access_key"].as_str().unwrap_or_default(),
            e["secret_key"].as_str().unwrap_or_default(),
            "us-east-1",
        ))
    }

    /// Stops it and its children.
    pub fn stop(&mut self) {
        terminate(&mut self.child);
    }
}

impl Drop for Devnet {
    fn drop(&mut self) {
        self.stop();
    }
}

/// SIGKILLs node `i` of the devnet in `dir`.
pub fn kill_node(dir: &Path, i: usize) -> Result<()> {
    let home = dir.join("nodes").join(i.to_string());
    let home = home.to_string_lossy();
    for p in std::fs::read_dir("/proc")? {
        let p = p?;
        let Ok(cmd) = std::fs::read(p.path().join("cmdline")) else {
            continue;
        };
        let args: Vec<&[u8]> = cmd.split(|b| *b == 0).collect();
        if args.first().is_some_and(|a| a.ends_with(b"cairn-node"))
            && args.iter().any(|a| *a == home.as_bytes())
        {
            let pid = p.file_name().to_string_lossy().into_owned();
            Command::new("kill").args(["-KILL", &pid]).status()?;
            return Ok(());
        }
    }
    bail!("no cairn-node process for {home}")
}

/// PUT of `size` pseudo-random bytes; returns the time and the CID.
pub async fn put(client: &Arc<S3Client>, size: u64) -> Result<(Duration, String)> {
    let mut conn = client.connect().await?;
    conn.create_bucket(BUCKET).await.ok();
    let object = ChunkedObject::new(size, MIB as usize, 0xC0FFEE);
    let chunks = futures::stream::iter(object.chunks());
    let t = Instant::now();
    let resp = conn
        .send(Method::PUT, BUCKET, Some(KEY), streamed(chunks), size)
        .await?;
    let took = t.elapsed();
    let cid = resp
        .headers()
        .get("x-cairn-cid")
        .and_then(|v| v.to_str().ok())
        .context("no x-cairn-cid")?
        .to_owned();
    let _ = resp.into_body().collect().await;
    Ok((took, cid))
}

/// `GET url` as JSON.
pub async fn http_json(url: &str) -> Result<serde_json::Value> {
    Ok(serde_json::from_slice(&http_get(url).await?)?)
}

/// `GET url`'s body.
pub async fn http_get(url: &str) -> Result<Bytes> {
    let rest = url.trim_start_matches("http://");
    let (host, path) = rest.split_once('/').context("url")?;
    let stream = tokio::net::TcpStream::connect(host).await?;
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await?;
    tokio::spawn(conn);
    let req = http::Request::get(format!("/{path}"))
        .header(http::header::HOST, host)
        .body(http_body_util::Empty::<Bytes>::new())?;
    let resp = sender.send_request(req).await?;
    Ok(resp.into_body().collect().await?.to_bytes())
}

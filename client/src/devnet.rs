//! `cairn devnet`: everything on 127.0.0.1, with a demonstration.
//!
//! Today the devnet is the gateway on its embedded store (the provider
//! network, ledger and proving arrive with later releases and will join it
//! here). It starts S3 on :9000, the IPFS gateway on :8080 and metrics on
//! :9100, prints every endpoint and credential, then proves the path end to
//! end: it stores a sample file through S3, reads it back through S3, and
//! fetches it by CID as a verified CAR and as plain bytes, checking each
//! answer against the bytes it sent. State persists in `--dir`.

use std::collections::HashMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail, ensure};
use bytes::Bytes;
use cairn_dag::car::CarReader;
use cairn_dag::reader::FileReader;
use cairn_dag::{Profile, file_cid};
use cairn_gateway::s3::{CID_HEADER, S3Settings};
use cairn_gateway::server::{self, GatewayConfig, Listeners};
use cid::Cid;
use clap::Args;
use http::Method;
use tokio::net::TcpListener;

use crate::local::open_store;
use crate::s3client::{S3Client, http_get};

/// Flags of `cairn devnet`.
#[derive(Debug, Args)]
pub struct DevnetArgs {
    /// Where the devnet keeps its state (created if missing).
    #[arg(long, default_value = "devnet")]
    dir: PathBuf,
    /// S3 listen address.
    #[arg(long, default_value = "127.0.0.1:9000")]
    s3_addr: String,
    /// HTTP gateway listen address.
    #[arg(long, default_value = "127.0.0.1:8080")]
    http_addr: String,
    /// Metrics listen address.
    #[arg(long, default_value = "127.0.0.1:9100")]
    metrics_addr: String,
    /// Run the demonstration, then stop (for scripts and CI).
    #[arg(long)]
    once: bool,
}

/// Runs the devnet.
pub fn run(args: DevnetArgs) -> Result<()> {
    std::fs::create_dir_all(&args.dir)
        .with_context(|| format!("creating {}", args.dir.display()))?;
    let (access_key, secret_key) = credentials(&args.dir)?;
    let store_dir = args.dir.join("gateway");
    let store = open_store(&store_dir)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let bind = |a: String| async move {
            TcpListener::bind(&a)
                .await
                .with_context(|| format!("binding {a}"))
        };
        let listeners = Listeners {
            s3: bind(args.s3_addr).await?,
            http: bind(args.http_addr).await?,
            metrics: bind(args.metrics_addr).await?,
            control: Some(
                cairn_gateway::control::bind(&store_dir).context("binding the control socket")?,
            ),
        };
        let addrs = listeners.addrs()?;
        let config = GatewayConfig {
            access_key: access_key.clone(),
            secret_key: secret_key.clone(),
            domains: Vec::new(),
            s3: S3Settings::default(),
        };
        let (stop_tx, mut stop_rx) = tokio::sync::watch::channel(false);
        let gateway = tokio::spawn(server::run(store, config, listeners, async move {
            let _ = stop_rx.wait_for(|s| *s).await;
        }));
        println!("Cairn devnet: the gateway on its embedded store");
        println!(
            "  S3 endpoint    http://{}  (path-style, region us-east-1)",
            addrs.s3
        );
        println!("  access key     {access_key}");
        println!("  secret key     {secret_key}");
        println!("  HTTP gateway   http://{}/ipfs/<cid>", addrs.http);
        println!("  metrics        http://{}/metrics", addrs.metrics);
        println!("  state          {}", args.dir.display());
        println!();
        let client = S3Client {
            endpoint: addrs.s3.to_string(),
            access_key,
            secret_key,
            region: "us-east-1".into(),
        };
        let demo = demonstrate(&client, &addrs.http.to_string()).await;
        match &demo {
            Ok(()) => println!("\nround trip OK"),
            Err(e) => eprintln!("\nround trip FAILED: {e:#}"),
        }
        if !args.once && demo.is_ok() {
            println!("serving; Ctrl-C stops");
            let _ = std::io::stdout().flush();
            let _ = tokio::signal::ctrl_c().await;
        }
        let _ = stop_tx.send(true);
        gateway.await.context("gateway task")??;
        demo
    })
}

fn credentials(dir: &Path) -> Result<(String, String)> {
    let path = dir.join("credentials");
    if let Ok(text) = std::fs::read_to_string(&path) {
        let mut lines = text.lines();
        if let (Some(a), Some(s)) = (lines.next(), lines.next()) {
            return Ok((a.to_owned(), s.to_owned()));
        }
    }
    let mut random = [0u8; 30];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut random))
        .context("reading /dev/urandom")?;
    let access = format!("CAIRN{}", hex::encode(&random[..8]).to_uppercase());
    let secret = hex::encode(&random[8..]);
    std::fs::write(&path, format!("{access}\n{secret}\n"))
        .with_context(|| format!("writing {}", path.display()))?;
    Ok((access, secret))
}

fn sample() -> Vec<u8> {
    // 3 MiB + 1 byte: four leaves and a root under the default profile.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..(3 << 20) + 1)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

async fn step<T>(what: &str, f: impl std::future::Future<Output = Result<T>>) -> Result<T> {
    let started = Instant::now();
    let out = f.await.with_context(|| what.to_owned())?;
    println!(
        "  ok  {what:<58} {:>7.1} ms",
        started.elapsed().as_secs_f64() * 1e3
    );
    Ok(out)
}

async fn demonstrate(s3: &S3Client, http: &str) -> Result<()> {
    let data = sample();
    let expected = file_cid(Profile::default(), &data);
    println!(
        "demonstration: a {} byte sample file, CID {expected}",
        data.len()
    );
    step("CreateBucket demo", async {
        let resp = s3.send(Method::PUT, "demo", None, Bytes::new()).await?;
        ensure!(
            resp.status.is_success() || resp.status.as_u16() == 409,
            "CreateBucket answered {}",
            resp.status
        );
        Ok(())
    })
    .await?;
    let cid = step(
        "PutObject demo/sample.bin (x-cairn-cid = local CID)",
        async {
            let resp = s3
                .send_ok(
                    Method::PUT,
                    "demo",
                    Some("sample.bin"),
                    Bytes::from(data.clone()),
                )
                .await?;
            let cid = resp
                .headers
                .get(CID_HEADER)
                .and_then(|v| v.to_str().ok())
                .context("no x-cairn-cid header")?
                .to_owned();
            ensure!(
                cid == expected.to_string(),
                "gateway says {cid}, local build says {expected}"
            );
            Ok(cid)
        },
    )
    .await?;
    step("GetObject demo/sample.bin (bytes identical)", async {
        let resp = s3
            .send_ok(Method::GET, "demo", Some("sample.bin"), Bytes::new())
            .await?;
        ensure!(
            resp.body.as_ref() == data.as_slice(),
            "GetObject returned different bytes"
        );
        Ok(())
    })
    .await?;
    step("GET /ipfs/<cid>?format=car (every block verified)", async {
        let resp = http_get(http, &format!("/ipfs/{cid}?format=car")).await?;
        ensure!(resp.status.is_success(), "answered {}", resp.status);
        let mut reader = CarReader::new(std::io::Cursor::new(resp.body.to_vec()))?;
        let mut blocks = HashMap::new();
        while let Some(b) = reader.next_block()? {
            blocks.insert(b.cid, b.data);
        }
        let summary = reader.finish()?;
        let root: Cid = cid.parse()?;
        ensure!(
            summary.roots == vec![root],
            "CAR roots are {:?}",
            summary.roots
        );
        let mut bytes = Vec::with_capacity(data.len());
        for piece in FileReader::new(&blocks, root) {
            bytes.extend_from_slice(&piece?);
        }
        ensure!(bytes == data, "the CAR's file differs from the sample");
        Ok(())
    })
    .await?;
    step("GET /ipfs/<cid> (plain bytes identical)", async {
        let resp = http_get(http, &format!("/ipfs/{cid}")).await?;
        ensure!(resp.status.is_success(), "answered {}", resp.status);
        if resp.body.as_ref() != data.as_slice() {
            bail!("the gateway's bytes differ from the sample");
        }
        Ok(())
    })
    .await?;
    Ok(())
}

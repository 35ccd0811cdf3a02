//! `cairn gateway`: S3 on :9000, the IPFS trustless gateway on :8080 and
//! metrics on 127.0.0.1:9100, over the store in `--data-dir`.
//!
//! With a ledger named (`--ledger`, `$CAIRN_LEDGER` or the config's
//! `ledger`), every object PUT is also placed on the storage network in the
//! background, paid from the wallet, and local copies beyond
//! `--hot-cache-bytes` are evicted once placed (reads then come from the
//! providers).

use std::path::PathBuf;

use anyhow::{Context, Result};
use cairn_dag::Profile;
use cairn_gateway::s3::S3Settings;
use cairn_gateway::server::{self, GatewayConfig, Listeners};
use clap::Args;
use tokio::net::TcpListener;

use crate::config::ConfigFile;
use crate::local::open_store;

/// Flags of `cairn gateway`.
#[derive(Debug, Args)]
pub struct GatewayArgs {
    /// Data directory.
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// S3 listen address [default: 127.0.0.1:9000].
    #[arg(long)]
    s3_addr: Option<String>,
    /// Trustless HTTP gateway listen address [default: 127.0.0.1:8080].
    #[arg(long)]
    http_addr: Option<String>,
    /// Prometheus metrics listen address [default: 127.0.0.1:9100].
    #[arg(long)]
    metrics_addr: Option<String>,
    /// Virtual-host base domain (repeatable): BUCKET.DOMAIN addresses a bucket.
    #[arg(long = "domain")]
    domains: Vec<String>,
    /// Profile for buckets created without one.
    #[arg(long)]
    default_profile: Option<Profile>,
    /// Bytes of local object copies kept once their deals are published
    /// (only with a ledger) [default: keep all].
    #[arg(long)]
    hot_cache_bytes: Option<u64>,
}

/// How long one libp2p request may take.
const REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// Runs the gateway until Ctrl-C or SIGTERM; `ledger` and `wallet` are the
/// global flags.
pub fn run(
    args: GatewayArgs,
    config: &ConfigFile,
    ledger: Option<&str>,
    wallet: Option<&std::path::Path>,
) -> Result<()> {
    let g = &config.gateway;
    let access_key = std::env::var("CAIRN_S3_ACCESS_KEY")
        .ok()
        .or_else(|| g.access_key.clone());
    let secret_key = std::env::var("CAIRN_S3_SECRET_KEY")
        .ok()
        .or_else(|| g.secret_key.clone());
    let (Some(access_key), Some(secret_key)) = (access_key, secret_key) else {
        anyhow::bail!(
            "no S3 credentials: set CAIRN_S3_ACCESS_KEY and CAIRN_S3_SECRET_KEY, or access_key and secret_key under [gateway] in the config"
        );
    };
    let default_profile = match (args.default_profile, &g.default_profile) {
        (Some(p), _) => p,
        (None, Some(name)) => name.parse().with_context(|| "[gateway] default_profile")?,
        (None, None) => Profile::default(),
    };
    let mut domains = args.domains.clone();
    domains.extend(g.domains.iter().cloned());
    let gateway_config = GatewayConfig {
        access_key,
        secret_key,
        domains,
        s3: S3Settings {
            default_profile,
            bucket_profiles: config.bucket_profiles(),
        },
    };
    let addr = |flag: &Option<String>, file: &Option<String>, default: &str| {
        flag.clone()
            .or_else(|| file.clone())
            .unwrap_or_else(|| default.to_owned())
    };
    let s3_addr = addr(&args.s3_addr, &g.s3_addr, "127.0.0.1:9000");
    let http_addr = addr(&args.http_addr, &g.http_addr, "127.0.0.1:8080");
    let metrics_addr = addr(&args.metrics_addr, &g.metrics_addr, "127.0.0.1:9100");
    let data_dir = config.data_dir(args.data_dir.as_deref())?;
    let store = open_store(&data_dir)?;
    let ledger = ledger.map(str::to_owned).or_else(|| config.ledger.clone());
    let network = match &ledger {
        None => None,
        Some(url) => {
            let wallet_path = crate::wallet::path(wallet, config.wallet.as_deref())?;
            let wallet = cairn_types::keys::Keypair::load(&wallet_path).with_context(|| {
                format!(
                    "the gateway pays for placement from {}: create it with `cairn wallet new`",
                    wallet_path.display()
                )
            })?;
            let policy = cairn_gateway::net::place::Policy::default();
            Some((url.clone(), std::sync::Arc::new(wallet), policy))
        }
    };
    let hot_limit = args.hot_cache_bytes.or(g.hot_cache_bytes);

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let result = runtime.block_on(async move {
        let bind = |a: String, what: &'static str| async move {
            TcpListener::bind(&a)
                .await
                .with_context(|| format!("binding the {what} address {a}"))
        };
        let listeners = Listeners {
            s3: bind(s3_addr, "S3").await?,
            http: bind(http_addr, "HTTP gateway").await?,
            metrics: bind(metrics_addr, "metrics").await?,
            control: Some(cairn_gateway::control::bind(&data_dir).with_context(|| {
                format!("binding the control socket in {}", data_dir.display())
            })?),
        };
        let addrs = listeners.addrs()?;
        let network = match network {
            None => None,
            Some((url, wallet, policy)) => {
                let ledger = cairn_types::ledger::LedgerClient::new(&url)
                    .map_err(|e| anyhow::anyhow!("ledger {url}: {e}"))?;
                let p2p = cairn_types::p2p::Client::spawn(
                    libp2p::identity::Keypair::generate_ed25519(),
                    REQUEST_TIMEOUT,
                )
                .map_err(|e| anyhow::anyhow!("starting libp2p: {e}"))?;
                tracing::info!(ledger = %url, wallet = %wallet.address(), hot_cache_bytes = ?hot_limit, "placing objects on the storage network");
                Some(server::Network {
                    worker: cairn_gateway::net::worker::WorkerConfig {
                        placer: cairn_gateway::net::place::Placer {
                            ledger,
                            p2p,
                            wallet,
                        },
                        bucket_policies: config.bucket_policies(&policy),
                        default_policy: policy,
                        dir: data_dir.join("placement"),
                        hot_limit,
                        poll: std::time::Duration::from_millis(250),
                    },
                })
            }
        };
        tracing::info!(
            s3 = %format!("http://{}", addrs.s3),
            http = %format!("http://{}", addrs.http),
            metrics = %format!("http://{}/metrics", addrs.metrics),
            data_dir = %data_dir.display(),
            "cairn gateway ready"
        );
        server::serve(store, gateway_config, listeners, network, shutdown_signal()).await?;
        let _ = std::fs::remove_file(cairn_gateway::control::socket_path(&data_dir));
        tracing::info!("cairn gateway stopped");
        Ok(())
    });
    // A placement spool still walking a large DAG on a blocking thread
    // must not hold the exit: its work is redone from the queue next time.
    runtime.shutdown_timeout(std::time::Duration::from_secs(5));
    result
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

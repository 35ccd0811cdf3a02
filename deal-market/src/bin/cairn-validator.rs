//! `cairn-validator`: `testnet` writes a local network's genesis and
//! validator homes; `run` runs one validator until SIGTERM or Ctrl-C.

use std::path::PathBuf;

use anyhow::Context as _;
use cairn_deal_market::config::{
    DEMO_BALANCE, Home, KeyFiles, ParamsFile, Ports, read_json, write_testnet_funded,
};
use cairn_deal_market::node;
use cairn_ledger::Params;
use cairn_proofs::sector::SealProof;
use cairn_proofs::snark::params;
use clap::{Parser, Subcommand};
use commonware_runtime::Runner as _;

#[derive(Debug, Parser)]
#[command(
    name = "cairn-validator",
    about = "A validator of Cairn's deal-market ledger"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Write DIR/genesis.json, DIR/accounts.json (funded demo accounts with
    /// their secret keys) and DIR/0..N-1/validator.json on loopback ports.
    Testnet {
        /// Number of validators.
        #[arg(long, default_value_t = 4)]
        validators: usize,
        /// Output directory.
        #[arg(long)]
        dir: PathBuf,
        /// Number of funded demo accounts.
        #[arg(long, default_value_t = 4)]
        accounts: usize,
        /// Each demo account's genesis balance.
        #[arg(long, default_value_t = DEMO_BALANCE)]
        balance: u128,
        /// First API port (validator i listens on it + i).
        #[arg(long, default_value_t = 26657)]
        api_port: u16,
        /// First p2p port (validator i listens on it + i).
        #[arg(long, default_value_t = 27656)]
        p2p_port: u16,
        /// First metrics port (validator i listens on it + i).
        #[arg(long, default_value_t = 9100)]
        metrics_port: u16,
        /// Pick free loopback ports instead of the bases above.
        #[arg(long)]
        free_ports: bool,
        /// Blocks per ledger epoch.
        #[arg(long, default_value_t = 10)]
        blocks_per_epoch: u64,
        /// The ledger's rules from a JSON file (the `params` object of a
        /// genesis file); overrides --blocks-per-epoch.
        #[arg(long)]
        params: Option<PathBuf>,
        /// Sector sizes providers may register, comma-separated (`2KiB`,
        /// `8MiB`, `512MiB`...), or `none`. Genesis pins the digests of
        /// their verifying keys, taken from the parameter cache
        /// (generated there first if missing: minutes, once per machine).
        #[arg(long, default_value = "2KiB")]
        sector_sizes: String,
        /// The Groth16 parameter cache ($CAIRN_PARAMS_DIR, else
        /// ~/.cache/cairn/params).
        #[arg(long)]
        params_dir: Option<PathBuf>,
    },
    /// Run the validator whose home is DIR (holding validator.json).
    Run {
        /// The validator's home, e.g. DIR/0 of a testnet.
        #[arg(long)]
        home: PathBuf,
    },
}

fn main() -> anyhow::Result<()> {
    // commonware logs every span at info; its warnings are what an
    // operator needs by default (RUST_LOG overrides).
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,commonware=warn")),
        )
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .init();
    match Cli::parse().command {
        Command::Testnet {
            validators,
            dir,
            accounts,
            balance,
            api_port,
            p2p_port,
            metrics_port,
            free_ports,
            blocks_per_epoch,
            params: params_file,
            sector_sizes,
            params_dir,
        } => {
            let ports = if free_ports {
                Ports::Free
            } else {
                Ports::Base {
                    api: api_port,
                    p2p: p2p_port,
                    metrics: metrics_port,
                }
            };
            let params = match params_file {
                Some(path) => read_json::<ParamsFile>(&path)?
                    .params()
                    .with_context(|| format!("{}", path.display()))?,
                None => Params {
                    blocks_per_epoch,
                    ..Params::devnet()
                },
            };
            let params_dir = params_dir.unwrap_or_else(params::default_dir);
            let mut keys = Vec::new();
            for size in sector_sizes.split(',').map(str::trim) {
                if size.is_empty() || size == "none" {
                    continue;
                }
                let proof: SealProof = size
                    .parse()
                    .with_context(|| format!("--sector-sizes: {size}"))?;
                let mut say = |l: &str| eprintln!("cairn-validator testnet: {l}");
                let porep = params::porep_vk_file(&params_dir, proof, &mut say)
                    .with_context(|| format!("PoRep keys for {size}"))?;
                let window_post =
                    params::window_post_vk_file(&params_dir, proof.window_post(), &mut say)
                        .with_context(|| format!("WindowPoSt keys for {size}"))?;
                keys.push(KeyFiles {
                    proof,
                    porep,
                    window_post,
                });
            }
            let g = write_testnet_funded(
                &dir,
                validators,
                (accounts, balance),
                ports,
                params,
                &keys,
                &mut commonware_utils::sys_rng(),
            )
            .with_context(|| format!("writing a testnet in {}", dir.display()))?;
            println!("genesis   {}", dir.join("genesis.json").display());
            println!(
                "accounts  {} (secret keys: a demo network only)",
                dir.join("accounts.json").display()
            );
            for (i, v) in g.validators.iter().enumerate() {
                println!(
                    "validator {i}: home {}  api http://{}  p2p {}",
                    dir.join(i.to_string()).display(),
                    v.api,
                    v.p2p
                );
            }
            Ok(())
        }
        Command::Run { home } => {
            let h = Home::load(&home)
                .with_context(|| format!("loading the validator home {}", home.display()))?;
            let cfg = commonware_runtime::tokio::Config::new()
                .with_storage_directory(home.join("consensus"));
            let runner = commonware_runtime::tokio::Runner::new(cfg);
            runner.start(|context| async move {
                node::run(context, h, shutdown_signal())
                    .await
                    .context("validator stopped")
            })
        }
    }
}

/// Resolves on SIGTERM or Ctrl-C.
async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = ctrl_c => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = ctrl_c.await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

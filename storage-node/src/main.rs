//! `cairn-node`: the storage provider daemon and its operator commands.

use std::path::PathBuf;

use anyhow::{Context, Result};
use cairn_node::config::{Home, NodeConfig};
use cairn_node::store::PieceStore;
use clap::{Parser, Subcommand};

mod ops;

/// A Cairn storage provider.
#[derive(Debug, Parser)]
#[command(name = "cairn-node", version, about)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Write a new home: config.toml, owner and worker keys, libp2p identity.
    Init(InitArgs),
    /// Run the node from its home until Ctrl-C or SIGTERM.
    Run {
        /// The node's home.
        #[arg(long)]
        home: PathBuf,
    },
    /// The node's deals.
    Deals {
        #[command(subcommand)]
        cmd: DealsCmd,
    },
    /// The node's sectors (from its sealing journal).
    Sectors {
        #[command(subcommand)]
        cmd: SectorsCmd,
    },
    /// WindowPoSt deadlines and faults (from the ledger).
    Proving {
        #[command(subcommand)]
        cmd: ProvingCmd,
    },
    /// The owner's and worker's accounts.
    Wallet {
        #[command(subcommand)]
        cmd: WalletCmd,
    },
}

#[derive(Debug, clap::Args)]
struct View {
    /// The node's home.
    #[arg(long)]
    home: PathBuf,
    /// JSON instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Subcommand)]
enum SectorsCmd {
    /// Every sector with its state, deals and CommR.
    List(View),
    /// One sector: its record, files and the ledger's view.
    Status {
        /// The sector number.
        number: u64,
        #[command(flatten)]
        view: View,
    },
}

#[derive(Debug, Subcommand)]
enum ProvingCmd {
    /// The proving period's deadlines: windows, sectors, last proofs.
    Deadlines(View),
    /// Faulty and recovering sectors, with the node's reason.
    Faults(View),
}

#[derive(Debug, Subcommand)]
enum WalletCmd {
    /// Balances, escrow and collateral.
    Balance(View),
}

#[derive(Debug, Subcommand)]
enum DealsCmd {
    /// Every proposal the node accepted, with its state.
    List {
        /// The node's home.
        #[arg(long)]
        home: PathBuf,
        /// One JSON array instead of a table.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, clap::Args)]
struct InitArgs {
    /// Where to write the home.
    #[arg(long)]
    home: PathBuf,
    /// The validator API to follow.
    #[arg(long, default_value = "http://127.0.0.1:26657")]
    ledger: String,
    /// libp2p listen addresses (repeat the flag for several).
    #[arg(long = "listen")]
    listen: Vec<String>,
    /// Prometheus metrics address.
    #[arg(long, default_value = "127.0.0.1:9101")]
    metrics_addr: String,
    /// Sector size (one genesis allows), e.g. 8MiB or 2KiB.
    #[arg(long, default_value = "8MiB")]
    sector_size: String,
    /// Lowest price per padded byte per epoch.
    #[arg(long, default_value_t = 1)]
    price: u64,
    /// Padded bytes of deals to take, e.g. 100GiB.
    #[arg(long, default_value = "64GiB")]
    capacity: String,
    /// Collateral to lock at registration.
    #[arg(long, default_value_t = 10_000_000)]
    collateral: u64,
    /// Market escrow to keep for deals' provider collateral.
    #[arg(long, default_value_t = 10_000_000)]
    escrow: u64,
    /// Epochs a deal's start must leave for sealing.
    #[arg(long, default_value_t = 360)]
    start_delay: u64,
    /// Epochs a partly filled sector waits for more pieces.
    #[arg(long)]
    seal_wait: Option<u64>,
    /// Do not seal or prove: store and serve pieces only (their deals are
    /// cancelled at their start).
    #[arg(long)]
    no_seal: bool,
}

fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,libp2p=warn".into()),
        )
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match cli.cmd {
        Cmd::Init(a) => init(a),
        Cmd::Run { home } => run(home),
        Cmd::Deals {
            cmd: DealsCmd::List { home, json },
        } => deals_list(home, json),
        Cmd::Sectors {
            cmd: SectorsCmd::List(v),
        } => ops::sectors_list(&v.home, v.json),
        Cmd::Sectors {
            cmd: SectorsCmd::Status { number, view },
        } => ops::sectors_status(&view.home, number, view.json),
        Cmd::Proving {
            cmd: ProvingCmd::Deadlines(v),
        } => ops::proving_deadlines(&v.home, v.json),
        Cmd::Proving {
            cmd: ProvingCmd::Faults(v),
        } => ops::proving_faults(&v.home, v.json),
        Cmd::Wallet {
            cmd: WalletCmd::Balance(v),
        } => ops::wallet_balance(&v.home, v.json),
    }
}

fn init(a: InitArgs) -> Result<()> {
    let mut cfg = NodeConfig {
        ledger: a.ledger,
        metrics_addr: a.metrics_addr,
        sector_size: a.sector_size,
        price_per_byte_epoch: a.price,
        capacity: a.capacity,
        collateral: a.collateral,
        escrow: a.escrow,
        start_delay: a.start_delay,
        ..NodeConfig::default()
    };
    // The furthest start the node accepts covers its own ask; the ledger
    // still refuses deals past its `max_deal_start_delay`.
    cfg.max_start_delay = cfg.max_start_delay.max(a.start_delay);
    // Sealing must finish inside the time deals leave for it.
    cfg.sealing.lead = cfg.sealing.lead.min(a.start_delay * 2 / 3);
    if let Some(w) = a.seal_wait {
        cfg.sealing.max_wait = w;
    }
    cfg.sealing.enabled = !a.no_seal;
    if !a.listen.is_empty() {
        cfg.listen = a.listen;
    }
    let home = Home::init(&a.home, &cfg)?;
    let owner = cairn_types::keys::Keypair::load(&home.path(&cfg.owner_key))?;
    let worker = cairn_types::keys::Keypair::load(&home.path(&cfg.worker_key))?;
    println!("home      {}", a.home.display());
    println!(
        "owner     {} (fund it: registration locks {} collateral, deals {} of escrow)",
        owner.address(),
        cfg.collateral,
        cfg.escrow
    );
    println!("worker    {}", worker.address());
    println!("start it  cairn-node run --home {}", a.home.display());
    Ok(())
}

fn run(home: PathBuf) -> Result<()> {
    let home =
        Home::load(&home).with_context(|| format!("loading the node at {}", home.display()))?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    rt.block_on(async move {
        let shutdown = async {
            #[cfg(unix)]
            {
                let mut term =
                    match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                    {
                        Ok(s) => s,
                        Err(e) => {
                            tracing::error!("cannot watch SIGTERM: {e}");
                            let _ = tokio::signal::ctrl_c().await;
                            return;
                        }
                    };
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            #[cfg(not(unix))]
            let _ = tokio::signal::ctrl_c().await;
            tracing::info!("stopping");
        };
        cairn_node::host::run(home, shutdown).await
    })?;
    // A sealing phase still running on a blocking thread is abandoned: its
    // output is written atomically, so the journal reruns it next start.
    rt.shutdown_timeout(std::time::Duration::from_secs(2));
    Ok(())
}

fn deals_list(home: PathBuf, json: bool) -> Result<()> {
    let home = Home::load(&home)?;
    let records = PieceStore::read_only_records(&home.data_dir())?.unwrap_or_default();
    // Which sector each deal is sealed in, and that sector's state.
    let sectors: std::collections::BTreeMap<u64, (u64, &'static str)> =
        cairn_node::sealing::journal::load_read_only(&home.data_dir())?
            .values()
            .flat_map(|r| {
                r.sector
                    .pieces
                    .iter()
                    .map(|p| (p.deal, (r.sector.number, r.sector.state.name())))
                    .collect::<Vec<_>>()
            })
            .collect();
    // Deals the node could not seal, with the reason. The report is
    // advisory: one that cannot be read is named, not fatal.
    let unsealable = cairn_node::sealing::journal::load_unsealable(&home.data_dir())
        .unwrap_or_else(|e| {
            eprintln!("warning: {e}");
            Default::default()
        });
    let deal_id = |s: &cairn_node::store::ProposalState| match s {
        cairn_node::store::ProposalState::Published(d)
        | cairn_node::store::ProposalState::Ended(d) => Some(d.0),
        _ => None,
    };
    if json {
        let v: Vec<_> = records
            .iter()
            .map(|r| {
                let p = &r.deal.proposal;
                serde_json::json!({
                    "proposal": r.deal.id().to_string(),
                    "state": r.state.name(),
                    "deal_id": match r.state {
                        cairn_node::store::ProposalState::Published(d)
                        | cairn_node::store::ProposalState::Ended(d) => Some(d.0),
                        _ => None,
                    },
                    "piece": p.piece.to_string(),
                    "piece_size": p.piece_size,
                    "received": r.received,
                    "client": p.client.to_string(),
                    "label": String::from_utf8_lossy(&p.label),
                    "start": p.start.0,
                    "end": p.end.0,
                    "sector": deal_id(&r.state).and_then(|d| sectors.get(&d)).map(|s| s.0),
                    "sector_state": deal_id(&r.state).and_then(|d| sectors.get(&d)).map(|s| s.1),
                    "unsealable": deal_id(&r.state).and_then(|d| unsealable.get(&d)),
                })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(());
    }
    println!(
        "{:<18} {:<13} {:>8} {:>10} {:>12} {:>14}  label",
        "proposal", "state", "deal", "size", "received", "sector"
    );
    for r in &records {
        let p = &r.deal.proposal;
        let deal = match r.state {
            cairn_node::store::ProposalState::Published(d)
            | cairn_node::store::ProposalState::Ended(d) => d.0.to_string(),
            _ => "-".into(),
        };
        let d = deal_id(&r.state);
        let sector = match (
            d.and_then(|d| sectors.get(&d)),
            d.and_then(|d| unsealable.get(&d)),
        ) {
            (Some((n, st)), _) => format!("{n} {st}"),
            (None, Some(_)) => "unsealable".to_owned(),
            (None, None) => "-".to_owned(),
        };
        println!(
            "{:<18} {:<13} {:>8} {:>10} {:>12} {:>14}  {}",
            &r.deal.id().to_string()[..16],
            r.state.name(),
            deal,
            p.piece_size,
            r.received,
            sector,
            String::from_utf8_lossy(&p.label)
        );
    }
    for r in &records {
        if let Some(why) = deal_id(&r.state).and_then(|d| unsealable.get(&d)) {
            println!("unsealable: {why}");
        }
    }
    Ok(())
}

//! `cairn`: store files and read them back by CID; run the S3 and IPFS
//! gateway; hold a ledger wallet and talk to a validator.
//!
//! Commands that touch the store open `--data-dir` directly. Output meant
//! for scripts (CIDs) goes to stdout alone; progress and logs go to stderr.

mod commp;
mod config;
mod devnet;
mod gateway;
mod ledger_api;
mod ledger_cmd;
mod local;
mod network;
mod progress;
mod remote;
mod s3client;
mod wallet;

use std::path::PathBuf;

use anyhow::Result;
use cairn_dag::Profile;
use clap::{Parser, Subcommand};

/// Cairn: content-addressed storage with an S3 face.
#[derive(Debug, Parser)]
#[command(name = "cairn", version, about)]
struct Cli {
    /// Config file (TOML). Default: $CAIRN_CONFIG, else ~/.config/cairn/config.toml if present.
    #[arg(long, global = true, env = "CAIRN_CONFIG")]
    config: Option<PathBuf>,
    /// The validator's API. Default: $CAIRN_LEDGER, else the config's `ledger`, else http://127.0.0.1:26657.
    #[arg(long, global = true, env = "CAIRN_LEDGER")]
    ledger: Option<String>,
    /// The wallet file. Default: $CAIRN_WALLET, else the config's `wallet`, else ~/.config/cairn/wallet.json.
    #[arg(long, global = true, env = "CAIRN_WALLET")]
    wallet: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Add a file (or with -r a directory) and print its root CID.
    Add {
        /// File or directory to add.
        path: PathBuf,
        /// UnixFS profile: unixfs-v1-2025 (default), kubo-legacy (alias unixfs-v0-2015).
        #[arg(long, default_value_t = Profile::default())]
        profile: Profile,
        /// Compute the CID only; store nothing.
        #[arg(long)]
        only_hash: bool,
        /// Add a directory recursively.
        #[arg(short = 'r', long)]
        recursive: bool,
        /// With -r, include files and directories whose names start with '.' (skipped by default, as kubo does).
        #[arg(long)]
        hidden: bool,
        /// Data directory. Default: $CAIRN_DATA_DIR, the config's data_dir, or ~/.local/share/cairn.
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
    /// Write the file with this CID to OUT, verifying every block.
    Get {
        /// Root CID of the file.
        cid: String,
        /// Output path.
        #[arg(short = 'o', long)]
        output: PathBuf,
        /// Data directory.
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
    /// Where an upload's shards are: provider, deal and deal state per shard.
    Status {
        /// Root CID.
        cid: String,
        /// Data directory (for a placement still in progress).
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// One JSON object: {"cid", "k", "m", "shards": [{"index", "provider", "deal_id", "state"}]}.
        #[arg(long)]
        json: bool,
    },
    /// Place a DAG from the local store with storage providers: erasure
    /// coded, one deal per piece, published on the ledger with its manifest.
    Place {
        /// Root CID (as `cairn add` printed it).
        cid: String,
        /// Data shards.
        #[arg(long, default_value_t = 4)]
        k: u8,
        /// Parity shards.
        #[arg(long, default_value_t = 2)]
        m: u8,
        /// Deal duration in epochs.
        #[arg(long, default_value_t = 2_000)]
        duration: u64,
        /// Highest price accepted per padded byte per epoch.
        #[arg(long, default_value_t = 10)]
        max_price: u128,
        /// Data directory.
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// One JSON object instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Print a file's Filecoin piece commitment: piece CIDs, padded and unpadded size.
    Commp {
        /// The file (the piece's payload).
        file: PathBuf,
        /// One JSON object: piece_cid, piece_cid_v2, padded_size, unpadded_size.
        #[arg(long)]
        json: bool,
    },
    /// CAR v1 import and export.
    Car {
        #[command(subcommand)]
        command: CarCommand,
    },
    /// Bucket administration.
    Bucket {
        #[command(subcommand)]
        command: BucketCommand,
    },
    /// Serve S3 (SigV4) and the IPFS trustless gateway on the local store.
    Gateway(gateway::GatewayArgs),
    /// Run everything on 127.0.0.1 and demonstrate a round trip.
    Devnet(devnet::DevnetArgs),
    /// The ledger wallet: keys, balance, transfers.
    Wallet {
        #[command(flatten)]
        output: ledger_cmd::Output,
        #[command(subcommand)]
        command: ledger_cmd::WalletCommand,
    },
    /// The deal market: escrow and deals.
    Market {
        #[command(flatten)]
        output: ledger_cmd::Output,
        #[command(subcommand)]
        command: ledger_cmd::MarketCommand,
    },
    /// The ledger's chain.
    Chain {
        #[command(flatten)]
        output: ledger_cmd::Output,
        #[command(subcommand)]
        command: ledger_cmd::ChainCommand,
    },
}

#[derive(Debug, Subcommand)]
enum CarCommand {
    /// Write the DAG under CID as a CAR v1 (to stdout unless -o).
    Export {
        /// Root CID.
        cid: String,
        /// Output file.
        #[arg(short = 'o', long)]
        output: Option<PathBuf>,
        /// Data directory.
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
    /// Import a CAR, checking every block and the DAG's completeness; prints its roots.
    Import {
        /// The CAR file.
        file: PathBuf,
        /// Data directory.
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
enum BucketCommand {
    /// Create a bucket with a UnixFS profile.
    Create {
        /// Bucket name.
        name: String,
        /// UnixFS profile for the bucket's objects.
        #[arg(long, default_value_t = Profile::default())]
        profile: Profile,
        /// Data shards of the bucket's placements (with --m; default: the gateway's).
        #[arg(long, requires = "m")]
        k: Option<u8>,
        /// Parity shards.
        #[arg(long, requires = "k")]
        m: Option<u8>,
        /// Deal duration in epochs [default: 2000].
        #[arg(long)]
        duration: Option<u64>,
        /// Highest price per padded byte per epoch [default: 10].
        #[arg(long)]
        max_price: Option<u128>,
        /// Data directory.
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("CAIRN_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    match run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<()> {
    let config = config::ConfigFile::load(cli.config.as_deref())?;
    let cli_ledger = LedgerFlags {
        ledger: cli.ledger,
        wallet: cli.wallet,
    };
    match cli.command {
        Command::Add {
            path,
            profile,
            only_hash,
            recursive,
            hidden,
            data_dir,
        } => {
            let dir = config.data_dir(data_dir.as_deref())?;
            local::add(&path, profile, only_hash, recursive, hidden, &dir)
        }
        Command::Get {
            cid,
            output,
            data_dir,
        } => {
            let dir = config.data_dir(data_dir.as_deref())?;
            // With --ledger (or CAIRN_LEDGER), content absent here comes
            // from the providers the ledger names.
            match (&cli_ledger.ledger, cid.parse::<cid::Cid>()) {
                (Some(ledger), Ok(c)) if !network::held_locally(&dir, &c) => {
                    network::get(&c, &output, ledger)
                }
                _ => local::get(&cid, &output, &dir),
            }
        }
        Command::Status {
            cid,
            data_dir,
            json,
        } => {
            let settings = ledger_context(&cli_ledger, &config, ledger_cmd::Output { json })?;
            network::status(
                &cid,
                &config.data_dir(data_dir.as_deref())?,
                &settings.ledger,
                json,
            )
        }
        Command::Place {
            cid,
            k,
            m,
            duration,
            max_price,
            data_dir,
            json,
        } => {
            let settings = ledger_context(&cli_ledger, &config, ledger_cmd::Output { json })?;
            network::place(network::PlaceArgs {
                cid: &cid,
                data_dir: &config.data_dir(data_dir.as_deref())?,
                ledger: &settings.ledger,
                wallet: &settings.wallet,
                policy: cairn_gateway::net::place::Policy {
                    k,
                    m,
                    duration,
                    max_price_per_byte_epoch: max_price,
                    ..Default::default()
                },
                json,
            })
        }
        Command::Car {
            command:
                CarCommand::Export {
                    cid,
                    output,
                    data_dir,
                },
        } => local::car_export(
            &cid,
            output.as_deref(),
            &config.data_dir(data_dir.as_deref())?,
        ),
        Command::Car {
            command: CarCommand::Import { file, data_dir },
        } => local::car_import(&file, &config.data_dir(data_dir.as_deref())?),
        Command::Bucket {
            command:
                BucketCommand::Create {
                    name,
                    profile,
                    k,
                    m,
                    duration,
                    max_price,
                    data_dir,
                },
        } => {
            let placement = bucket_placement(k, m, duration, max_price)?;
            local::bucket_create(
                &name,
                profile,
                placement,
                &config.data_dir(data_dir.as_deref())?,
            )
        }
        Command::Commp { file, json } => commp::run(&file, json),
        Command::Gateway(args) => gateway::run(
            args,
            &config,
            cli_ledger.ledger.as_deref(),
            cli_ledger.wallet.as_deref(),
        ),
        Command::Devnet(args) => devnet::run(args),
        Command::Wallet { output, command } => {
            ledger_cmd::wallet(&ledger_context(&cli_ledger, &config, output)?, command)
        }
        Command::Market { output, command } => {
            ledger_cmd::market(&ledger_context(&cli_ledger, &config, output)?, command)
        }
        Command::Chain { output, command } => {
            ledger_cmd::chain(&ledger_context(&cli_ledger, &config, output)?, command)
        }
    }
}

/// A bucket's placement settings from `cairn bucket create` flags: none
/// given is the gateway's defaults; any given fills the rest from them.
fn bucket_placement(
    k: Option<u8>,
    m: Option<u8>,
    duration: Option<u64>,
    max_price: Option<u128>,
) -> Result<Option<cairn_store::BucketPlacement>> {
    if k.is_none() && m.is_none() && duration.is_none() && max_price.is_none() {
        return Ok(None);
    }
    let d = cairn_gateway::net::place::Policy::default();
    let p = cairn_store::BucketPlacement {
        k: k.unwrap_or(d.k),
        m: m.unwrap_or(d.m),
        duration: duration.unwrap_or(d.duration),
        max_price: max_price.unwrap_or(d.max_price_per_byte_epoch),
    };
    config::check_placement(&p)?;
    Ok(Some(p))
}

/// The global ledger flags (already merged with their environment variables).
#[derive(Debug)]
struct LedgerFlags {
    ledger: Option<String>,
    wallet: Option<PathBuf>,
}

fn ledger_context(
    flags: &LedgerFlags,
    config: &config::ConfigFile,
    output: ledger_cmd::Output,
) -> Result<ledger_cmd::Settings> {
    Ok(ledger_cmd::Settings {
        wallet: wallet::path(flags.wallet.as_deref(), config.wallet.as_deref())?,
        ledger: flags
            .ledger
            .clone()
            .or_else(|| config.ledger.clone())
            .unwrap_or_else(|| ledger_api::DEFAULT_LEDGER.to_owned()),
        json: output.json,
    })
}

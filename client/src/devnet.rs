//! `cairn devnet`: the whole network on 127.0.0.1, as real processes, with
//! a demonstration.
//!
//! The devnet runs the same binaries an operator runs, so what works here
//! works across machines: `--validators` `cairn-validator` processes (the
//! ledger), `--nodes` `cairn-node` storage providers, and this executable
//! as `cairn gateway` (S3 + the IPFS trustless gateway) with a funded
//! wallet, so every object PUT through S3 is erasure coded and placed with
//! the providers in the background.
//!
//! Everything lives in `--dir` and a second run resumes it: the chain
//! (`net/`, written once by `cairn-validator testnet`), the node homes
//! (`nodes/i/`), the gateway's store and wallet (`gateway/`), the S3
//! credentials (`credentials`) and one log per process (`logs/`). Funding
//! steps read the ledger and only top up what is missing.
//!
//! Once everything answers, the devnet prints every endpoint and
//! credential, then (unless `--no-demo`) stores a sample file through S3,
//! reads it back through S3 and by CID (as a verified CAR and as plain
//! bytes), waits for the gateway to publish the sample's manifest on the
//! ledger and prints its deals. It then supervises the processes until
//! Ctrl-C or SIGTERM (with `--once`, it stops right after the
//! demonstration), reporting any that exits, and stops them in order:
//! gateway, nodes, validators.
//!
//! Children run in their own process groups, so a Ctrl-C in the terminal
//! reaches the devnet alone and the shutdown order holds.

use std::collections::HashMap;
use std::io::{IsTerminal as _, Write as _};
use std::net::{SocketAddr, ToSocketAddrs as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail, ensure};
use bytes::Bytes;
use cairn_dag::car::CarReader;
use cairn_dag::reader::FileReader;
use cairn_dag::{Profile, file_cid};
use cairn_gateway::s3::CID_HEADER;
use cairn_ledger::Amount;
use cairn_ledger::tx::TxBody;
use cairn_types::keys::Keypair;
use cairn_types::ledger::{DealInfo, LedgerClient, Submitted};
use cid::Cid;
use clap::Args;
use http::Method;
use serde::Deserialize;
use serde_json::Value;

use crate::s3client::{S3Client, http_get};

/// How often children and the ledger are polled.
const POLL: Duration = Duration::from_millis(500);
/// How long a child gets between SIGTERM and SIGKILL.
const STOP_GRACE: Duration = Duration::from_secs(10);
/// Log lines shown when a child exits.
const TAIL_LINES: usize = 20;
/// Collateral and deal escrow each node locks (`cairn-node init`).
const NODE_COLLATERAL: u64 = 5_000;
const NODE_ESCROW: u64 = 5_000;
/// A node's owner gets `OWNER_FUNDING` from genesis account 0 when its
/// balance is under `OWNER_MIN_BALANCE`.
const OWNER_FUNDING: Amount = 1_000_000;
const OWNER_MIN_BALANCE: Amount = 100_000;
/// The free client escrow the gateway's wallet keeps for its deals.
const GATEWAY_ESCROW: Amount = 50_000_000;
/// The nodes' ask per padded byte per epoch. Zero: a devnet's demo
/// accounts could not pay a 4+2 placement of a few MiB for the gateway's
/// default deal duration at any non-zero price.
const NODE_PRICE: u64 = 0;
/// Shards of a default placement (4 data + 2 parity), each on its own node.
const PLACEMENT_SHARDS: usize = 6;

/// Flags of `cairn devnet`.
#[derive(Debug, Args)]
pub struct DevnetArgs {
    /// Where the devnet keeps its state (created if missing; a second run resumes it).
    #[arg(long, default_value = "devnet")]
    dir: PathBuf,
    /// Storage nodes (`cairn-node`) to run.
    #[arg(long, default_value_t = 6)]
    nodes: usize,
    /// Validators (`cairn-validator`); used when the chain is first created.
    #[arg(long, default_value_t = 1)]
    validators: usize,
    /// S3 listen address (port 0: any free port).
    #[arg(long, default_value = "127.0.0.1:9000")]
    s3_addr: String,
    /// HTTP gateway listen address (port 0: any free port).
    #[arg(long, default_value = "127.0.0.1:8080")]
    http_addr: String,
    /// First validator API port (validator i listens on it + i). With 0
    /// (or a p2p or metrics port of 0) the validators take free ports.
    #[arg(long, default_value_t = 26657)]
    ledger_port: u16,
    /// First validator p2p port (validator i listens on it + i).
    #[arg(long, default_value_t = 27656)]
    p2p_port: u16,
    /// First metrics port: the validators take it and up, the nodes the
    /// next ones, the gateway the one after (0: free ports).
    #[arg(long, default_value_t = 9100)]
    metrics_port: u16,
    /// The sector size the chain allows and the nodes seal (2KiB, 8MiB, ...).
    #[arg(long, default_value = "8MiB")]
    sector_size: String,
    /// Blocks per ledger epoch (when the chain is first created). With
    /// ~1 s blocks, 10 gives providers' default sealing allowance (360
    /// epochs) about an hour before a deal must be active.
    #[arg(long, default_value_t = 10)]
    blocks_per_epoch: u64,
    /// Run the demonstration, then stop everything (for scripts and CI).
    #[arg(long)]
    once: bool,
    /// Skip the demonstration.
    #[arg(long)]
    no_demo: bool,
    /// Bytes of local copies the gateway keeps once objects are placed
    /// (0: evict every placed object; reads then come from the providers)
    /// [default: keep all].
    #[arg(long)]
    hot_cache_bytes: Option<u64>,
}

/// Runs the devnet until Ctrl-C or SIGTERM (or, with `--once`, until the
/// demonstration is done).
pub fn run(args: DevnetArgs) -> Result<()> {
    let bins = Binaries::find()?;
    let logs = args.dir.join("logs");
    std::fs::create_dir_all(&logs).with_context(|| format!("creating {}", logs.display()))?;
    // Written again once everything answers.
    let _ = std::fs::remove_file(args.dir.join("endpoints.json"));
    let chain = prepare_chain(&args, &bins)?;
    let credentials = s3_credentials(&args.dir)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    runtime.block_on(async move {
        let mut children = Children::default();
        // Listened to from here on: a Ctrl-C while starting stops the
        // children too.
        let mut signal = std::pin::pin!(shutdown_signal());
        let outcome = tokio::select! {
            r = session(&args, &bins, &chain, &credentials, &mut children) => Some(r),
            () = &mut signal => None,
        };
        let result = match outcome {
            None => {
                eprintln!("\ninterrupted");
                Ok(())
            }
            Some(Err(e)) => Err(e),
            Some(Ok(demo)) => {
                if !args.once {
                    println!("serving; Ctrl-C stops");
                    let _ = std::io::stdout().flush();
                    loop {
                        tokio::select! {
                            () = &mut signal => break,
                            () = tokio::time::sleep(POLL) => {
                                for report in children.reap() {
                                    eprintln!("\n{report}\n(the others keep running)");
                                }
                            }
                        }
                    }
                }
                demo
            }
        };
        children.stop();
        println!(
            "stopped; state kept in {} (run again to resume)",
            args.dir.display()
        );
        result
    })
}

/// Starts everything, prints the endpoints and runs the demonstration.
/// The outer error is a failed start; the inner result is the demo's
/// (`Ok` when skipped).
async fn session(
    args: &DevnetArgs,
    bins: &Binaries,
    chain: &Chain,
    credentials: &(String, String),
    children: &mut Children,
) -> Result<Result<()>> {
    let endpoints = start(args, bins, chain, credentials, children).await?;
    print_endpoints(args, &endpoints);
    if args.no_demo {
        return Ok(Ok(()));
    }
    let demo = run_demo(&endpoints, &args.dir.join("logs"), children).await;
    match &demo {
        Ok(()) => println!("\nround trip OK"),
        Err(e) => eprintln!("\nround trip FAILED: {e:#}"),
    }
    Ok(demo)
}

/// Where the three binaries are.
#[derive(Debug)]
struct Binaries {
    validator: PathBuf,
    node: PathBuf,
    /// This executable, run as `cairn gateway`.
    cairn: PathBuf,
}

impl Binaries {
    fn find() -> Result<Self> {
        let cairn = std::env::current_exe().context("finding the cairn executable")?;
        Ok(Self {
            validator: find_bin("CAIRN_VALIDATOR_BIN", "cairn-validator", &cairn)?,
            node: find_bin("CAIRN_NODE_BIN", "cairn-node", &cairn)?,
            cairn,
        })
    }
}

/// `$env`, else `name` beside `exe`, else `name` on `PATH`.
fn find_bin(env: &str, name: &str, exe: &Path) -> Result<PathBuf> {
    if let Some(p) = std::env::var_os(env) {
        let p = PathBuf::from(p);
        ensure!(p.is_file(), "{env}={} is not a file", p.display());
        return Ok(p);
    }
    let file = format!("{name}{}", std::env::consts::EXE_SUFFIX);
    if let Some(dir) = exe.parent()
        && dir.join(&file).is_file()
    {
        return Ok(dir.join(&file));
    }
    if let Some(path) = std::env::var_os("PATH")
        && let Some(found) = std::env::split_paths(&path)
            .map(|d| d.join(&file))
            .find(|p| p.is_file())
    {
        return Ok(found);
    }
    bail!(
        "{name} not found: not in ${env}, not beside {}, not on PATH \
         (build every binary with `cargo build --release --bins` and run target/release/cairn)",
        exe.display()
    )
}

/// The chain's validator homes and funded demo accounts, as written by
/// `cairn-validator testnet`.
#[derive(Debug)]
struct Chain {
    homes: Vec<(PathBuf, ValidatorHome)>,
    accounts: Vec<Keypair>,
}

/// The fields of a validator's `validator.json` the devnet needs.
#[derive(Debug, Deserialize)]
struct ValidatorHome {
    api_listen: SocketAddr,
    metrics_listen: SocketAddr,
}

#[derive(Debug, Deserialize)]
struct GenesisValidators {
    validators: Vec<Value>,
}

#[derive(Debug, Deserialize)]
struct DemoAccount {
    secret_key: String,
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
}

/// Writes the chain with `cairn-validator testnet` if `DIR/net` has none,
/// then reads its homes and accounts.
fn prepare_chain(args: &DevnetArgs, bins: &Binaries) -> Result<Chain> {
    let net = args.dir.join("net");
    let genesis = net.join("genesis.json");
    if !genesis.is_file() {
        ensure!(args.validators >= 1, "--validators must be at least 1");
        println!(
            "creating a {}-validator chain in {} (the first time on this machine, \
             this generates Groth16 parameters for {} sectors: minutes)",
            args.validators,
            net.display(),
            args.sector_size
        );
        let mut cmd = Command::new(&bins.validator);
        cmd.arg("testnet")
            .args(["--validators", &args.validators.to_string()])
            .arg("--dir")
            .arg(&net)
            .args(["--accounts", "2", "--sector-sizes", &args.sector_size])
            .args(["--blocks-per-epoch", &args.blocks_per_epoch.to_string()]);
        if args.ledger_port == 0 || args.p2p_port == 0 || args.metrics_port == 0 {
            cmd.arg("--free-ports");
        } else {
            cmd.args(["--api-port", &args.ledger_port.to_string()])
                .args(["--p2p-port", &args.p2p_port.to_string()])
                .args(["--metrics-port", &args.metrics_port.to_string()]);
        }
        // Its progress (parameter generation) goes straight to the terminal.
        let status = cmd
            .stdin(Stdio::null())
            .status()
            .with_context(|| format!("running {}", command_line(&cmd)))?;
        ensure!(
            status.success(),
            "`{}` failed ({status})",
            command_line(&cmd)
        );
    }
    let count = read_json::<GenesisValidators>(&genesis)?.validators.len();
    if count != args.validators {
        println!(
            "{} holds a {count}-validator chain; --validators {} applies to a new one \
             (delete {} to start over)",
            net.display(),
            args.validators,
            args.dir.display()
        );
    }
    let broken = || {
        format!(
            "an interrupted setup? delete {} and run again",
            net.display()
        )
    };
    let mut homes = Vec::with_capacity(count);
    for i in 0..count {
        let home = net.join(i.to_string());
        let v: ValidatorHome = read_json(&home.join("validator.json")).with_context(broken)?;
        homes.push((home, v));
    }
    ensure!(
        !homes.is_empty(),
        "{} names no validator",
        genesis.display()
    );
    let accounts_file = net.join("accounts.json");
    let accounts = read_json::<Vec<DemoAccount>>(&accounts_file)
        .with_context(broken)?
        .iter()
        .map(|a| -> Result<Keypair> {
            let secret = hex::decode(a.secret_key.trim())
                .ok()
                .and_then(|v| <[u8; 32]>::try_from(v).ok())
                .with_context(|| {
                    format!(
                        "{}: a secret_key is not 64 hex digits",
                        accounts_file.display()
                    )
                })?;
            Ok(Keypair::from_secret(secret))
        })
        .collect::<Result<Vec<_>>>()?;
    ensure!(
        accounts.len() >= 2,
        "{} holds {} accounts; the devnet needs 2 (one funds the nodes, one is the gateway's wallet)",
        accounts_file.display(),
        accounts.len()
    );
    Ok(Chain { homes, accounts })
}

/// `CAIRN_S3_ACCESS_KEY` / `CAIRN_S3_SECRET_KEY` when both are set, else
/// the pair kept in `DIR/credentials` (made on the first run).
fn s3_credentials(dir: &Path) -> Result<(String, String)> {
    match (
        std::env::var("CAIRN_S3_ACCESS_KEY"),
        std::env::var("CAIRN_S3_SECRET_KEY"),
    ) {
        (Ok(a), Ok(s)) if !a.is_empty() && !s.is_empty() => Ok((a, s)),
        _ => credentials(dir),
    }
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

/// What the started devnet serves.
#[derive(Debug)]
struct Endpoints {
    /// Validator 0's API, which the nodes and the gateway use.
    ledger: String,
    /// Every validator's API.
    ledgers: Vec<String>,
    /// `(who, host:port)` of every `/metrics`.
    metrics: Vec<(String, String)>,
    s3: String,
    http: String,
    access_key: String,
    secret_key: String,
    wallet: PathBuf,
    wallet_address: String,
}

/// Starts the validators, the nodes and the gateway, funding what needs it,
/// and waits until each answers.
async fn start(
    args: &DevnetArgs,
    bins: &Binaries,
    chain: &Chain,
    (access_key, secret_key): &(String, String),
    children: &mut Children,
) -> Result<Endpoints> {
    let logs = args.dir.join("logs");
    let mut metrics = Vec::new();

    // The validators.
    let mut ledgers = Vec::new();
    for (i, (home, v)) in chain.homes.iter().enumerate() {
        ensure_free(&v.api_listen.to_string(), "a validator API")?;
        children.spawn(
            Role::Validator,
            format!("validator-{i}"),
            Command::new(&bins.validator)
                .args(["run", "--home"])
                .arg(home),
            logs.join(format!("validator-{i}.log")),
        )?;
        ledgers.push(format!("http://{}", v.api_listen));
        metrics.push((format!("validator {i}"), v.metrics_listen.to_string()));
    }
    let url = ledgers.first().context("no validator")?.clone();
    let ledger = LedgerClient::new(&url)?;
    let wait = Waiting::start(
        format!("ledger at {url}: waiting for the first block"),
        Duration::from_secs(120),
        logs.join("validator-0.log").display().to_string(),
    );
    let status = loop {
        let now = match ledger.status().await {
            Ok(s) if s.height >= 1 => break s,
            Ok(s) => format!("height {}", s.height),
            Err(_) => "API not answering yet".to_owned(),
        };
        wait.tick(children, &now).await?;
    };
    wait.done(&format!("height {}", status.height));
    let chain_id = status.chain_id;

    // The storage nodes: homes, owners funded by account 0, processes.
    if args.nodes < PLACEMENT_SHARDS {
        eprintln!(
            "note: a placement puts {PLACEMENT_SHARDS} shards on distinct nodes; \
             with {} the gateway cannot place uploads",
            args.nodes
        );
    }
    let validators = chain.homes.len();
    let mut owners = Vec::with_capacity(args.nodes);
    let mut homes = Vec::with_capacity(args.nodes);
    for i in 0..args.nodes {
        let home = args.dir.join("nodes").join(i.to_string());
        let addr = metrics_addr(args.metrics_port, validators + i)?;
        let p2p = node_p2p_port(args.p2p_port, validators + i)?;
        init_node(bins, &home, &url, &args.sector_size, &addr, p2p)?;
        let owner_file = home.join("owner.json");
        let owner =
            Keypair::load(&owner_file).with_context(|| format!("loading node {i}'s owner key"))?;
        metrics.push((
            format!("node {i}"),
            configured_metrics_addr(&home).unwrap_or(addr),
        ));
        owners.push(owner);
        homes.push(home);
    }
    let funder = chain.accounts.first().context("no genesis account 0")?;
    let mut nonce = ledger.account(&funder.address()).await?.nonce;
    for (i, owner) in owners.iter().enumerate() {
        let account = ledger.account(&owner.address()).await?;
        if account.balance < OWNER_MIN_BALANCE {
            submit(
                &ledger,
                funder,
                chain_id,
                &mut nonce,
                TxBody::Transfer {
                    to: owner.address(),
                    amount: OWNER_FUNDING,
                },
                &format!("funding node {i}'s owner {}", owner.address()),
            )
            .await?;
        }
    }
    for (i, home) in homes.iter().enumerate() {
        children.spawn(
            Role::Node,
            format!("node-{i}"),
            Command::new(&bins.node)
                .args(["run", "--home"])
                .arg(home)
                .env_remove("CAIRN_NODE_LEDGER")
                .env_remove("CAIRN_NODE_LISTEN")
                .env_remove("CAIRN_NODE_METRICS_ADDR")
                .env_remove("CAIRN_NODE_DATA_DIR"),
            logs.join(format!("node-{i}.log")),
        )?;
    }

    // The gateway's wallet (genesis account 1) and its client escrow,
    // while the nodes register.
    let gateway_dir = args.dir.join("gateway");
    std::fs::create_dir_all(&gateway_dir)
        .with_context(|| format!("creating {}", gateway_dir.display()))?;
    let wallet_file = gateway_dir.join("wallet.json");
    if !wallet_file.is_file() {
        chain
            .accounts
            .get(1)
            .context("no genesis account 1")?
            .save(&wallet_file)?;
    }
    let wallet = Keypair::load(&wallet_file)?;
    let account = ledger.account(&wallet.address()).await?;
    if account.escrow.free < GATEWAY_ESCROW {
        let add = GATEWAY_ESCROW - account.escrow.free;
        ensure!(
            account.balance >= add,
            "the gateway's wallet {} has {} free escrow and {} balance; it needs {GATEWAY_ESCROW} escrow",
            wallet.address(),
            account.escrow.free,
            account.balance
        );
        let mut nonce = account.nonce;
        submit(
            &ledger,
            &wallet,
            chain_id,
            &mut nonce,
            TxBody::EscrowAdd { amount: add },
            &format!("depositing {add} escrow for the gateway's wallet"),
        )
        .await?;
    }

    let wait = Waiting::start(
        format!("storage nodes: waiting for {} to register", owners.len()),
        Duration::from_secs(120),
        logs.join("node-*.log").display().to_string(),
    );
    loop {
        let now = match nodes_ready(&ledger, &owners).await {
            Ok(n) if n == owners.len() => break,
            Ok(n) => format!("{n}/{} registered with escrow", owners.len()),
            Err(e) => format!("{e:#}"),
        };
        wait.tick(children, &now).await?;
    }
    wait.done(&format!("{} registered", owners.len()));

    // The gateway: this executable as `cairn gateway`.
    let s3 = concrete_addr(&args.s3_addr)?;
    let http = concrete_addr(&args.http_addr)?;
    ensure_free(&s3, "S3")?;
    ensure_free(&http, "the HTTP gateway")?;
    let gateway_metrics = metrics_addr(args.metrics_port, validators + args.nodes)?;
    metrics.push(("gateway".to_owned(), gateway_metrics.clone()));
    children.spawn(
        Role::Gateway,
        "gateway".to_owned(),
        Command::new(&bins.cairn)
            .arg("gateway")
            .arg("--data-dir")
            .arg(gateway_dir.join("data"))
            .args(["--s3-addr", &s3, "--http-addr", &http])
            .args(["--metrics-addr", &gateway_metrics, "--ledger", &url])
            .arg("--wallet")
            .arg(&wallet_file)
            .args(
                args.hot_cache_bytes
                    .map(|b| vec!["--hot-cache-bytes".to_owned(), b.to_string()])
                    .unwrap_or_default(),
            )
            .env_remove("CAIRN_CONFIG")
            .env_remove("CAIRN_LEDGER")
            .env_remove("CAIRN_WALLET")
            .env("CAIRN_S3_ACCESS_KEY", access_key)
            .env("CAIRN_S3_SECRET_KEY", secret_key),
        logs.join("gateway.log"),
    )?;
    let wait = Waiting::start(
        format!("gateway: waiting for S3 on {s3}"),
        Duration::from_secs(60),
        logs.join("gateway.log").display().to_string(),
    );
    while tokio::net::TcpStream::connect(&s3).await.is_err() {
        wait.tick(children, "not listening yet").await?;
    }
    wait.done("listening");

    Ok(Endpoints {
        ledger: url,
        ledgers,
        metrics,
        s3,
        http,
        access_key: access_key.clone(),
        secret_key: secret_key.clone(),
        wallet_address: wallet.address().to_string(),
        wallet: wallet_file,
    })
}

/// `cairn-node init` unless `home` already holds a node.
fn init_node(
    bins: &Binaries,
    home: &Path,
    ledger: &str,
    sector_size: &str,
    metrics: &str,
    p2p_port: u16,
) -> Result<()> {
    if home.join("config.toml").is_file() {
        return Ok(());
    }
    let mut cmd = Command::new(&bins.node);
    cmd.arg("init")
        .arg("--home")
        .arg(home)
        .args(["--ledger", ledger, "--sector-size", sector_size])
        .args(["--metrics-addr", metrics])
        .args(["--listen", &format!("/ip4/127.0.0.1/tcp/{p2p_port}")])
        .args([
            "--listen",
            &format!("/ip4/127.0.0.1/udp/{p2p_port}/quic-v1"),
        ])
        .args(["--price", &NODE_PRICE.to_string()])
        .args(["--collateral", &NODE_COLLATERAL.to_string()])
        .args(["--escrow", &NODE_ESCROW.to_string()]);
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("running {}", command_line(&cmd)))?;
    ensure!(
        out.status.success(),
        "`{}` failed ({}; if a run was interrupted here, delete {} and run again):\n{}",
        command_line(&cmd),
        out.status,
        home.display(),
        String::from_utf8_lossy(&out.stderr).trim_end()
    );
    Ok(())
}

/// Node `offset`'s libp2p port (TCP and QUIC): `base + offset`, or with
/// base 0 a port free now. Written into the node's config at init, so a
/// restarted devnet's providers keep the addresses the ledger lists.
fn node_p2p_port(base: u16, offset: usize) -> Result<u16> {
    if base == 0 {
        let l = std::net::TcpListener::bind("127.0.0.1:0").context("finding a free port")?;
        return Ok(l.local_addr()?.port());
    }
    u16::try_from(usize::from(base) + offset)
        .ok()
        .context("--p2p-port plus the validators and nodes runs past 65535")
}

/// The `metrics_addr` a node home's `config.toml` names.
fn configured_metrics_addr(home: &Path) -> Option<String> {
    let text = std::fs::read_to_string(home.join("config.toml")).ok()?;
    let table: toml::Table = toml::from_str(&text).ok()?;
    table.get("metrics_addr")?.as_str().map(str::to_owned)
}

/// How many of `owners` own a registered provider whose owner has its deal
/// escrow.
async fn nodes_ready(ledger: &LedgerClient, owners: &[Keypair]) -> Result<usize> {
    let providers = ledger.providers().await?;
    let mut ready = 0;
    for owner in owners {
        let address = owner.address();
        let hex = address.to_string();
        let registered = providers.iter().any(|p| p.owner == hex);
        if registered && ledger.account(&address).await?.escrow.free >= Amount::from(NODE_ESCROW) {
            ready += 1;
        }
    }
    Ok(ready)
}

/// Signs `body` at `*nonce`, submits it and checks its receipt; advances
/// the nonce once the ledger admitted it.
async fn submit(
    ledger: &LedgerClient,
    key: &Keypair,
    chain_id: u64,
    nonce: &mut u64,
    body: TxBody,
    what: &str,
) -> Result<()> {
    let tx = key.sign_tx(chain_id, *nonce, body);
    let answer = ledger.submit(&tx).await.with_context(|| what.to_owned())?;
    match &answer {
        // Admitted: it lands in a coming block (the waits below see it).
        Submitted::Pending(_) => eprintln!("{what}: admitted, not final yet"),
        _ => {
            answer.events().map_err(|e| anyhow!("{what}: {e}"))?;
        }
    }
    *nonce += 1;
    Ok(())
}

/// `127.0.0.1:(base + offset)`, or a free port when `base` is 0.
fn metrics_addr(base: u16, offset: usize) -> Result<String> {
    if base == 0 {
        return concrete_addr("127.0.0.1:0");
    }
    let port = u16::try_from(offset)
        .ok()
        .and_then(|o| base.checked_add(o))
        .with_context(|| format!("metrics port {base} + {offset} is past 65535"))?;
    Ok(format!("127.0.0.1:{port}"))
}

/// `addr`, with port 0 replaced by a port free now (so it can be printed
/// and probed).
fn concrete_addr(addr: &str) -> Result<String> {
    let sa = addr
        .to_socket_addrs()
        .with_context(|| format!("address {addr}"))?
        .next()
        .with_context(|| format!("address {addr} resolves to nothing"))?;
    if sa.port() != 0 {
        return Ok(addr.to_owned());
    }
    let listener =
        std::net::TcpListener::bind(sa).with_context(|| format!("finding a free port on {sa}"))?;
    Ok(listener.local_addr()?.to_string())
}

/// Fails if something already accepts connections on `addr` (say, a devnet
/// still running), which would otherwise answer in place of the new process.
fn ensure_free(addr: &str, what: &str) -> Result<()> {
    let addrs = addr
        .to_socket_addrs()
        .with_context(|| format!("{what} address {addr}"))?;
    for a in addrs {
        if std::net::TcpStream::connect_timeout(&a, Duration::from_millis(300)).is_ok() {
            bail!(
                "something already listens on {a} ({what}): another devnet still running? \
                 stop it, or pick other ports"
            );
        }
    }
    Ok(())
}

fn print_endpoints(args: &DevnetArgs, e: &Endpoints) {
    // For scripts and tests: the same, as JSON, once everything answers.
    let json = serde_json::json!({
        "s3": format!("http://{}", e.s3),
        "access_key": e.access_key,
        "secret_key": e.secret_key,
        "http": format!("http://{}", e.http),
        "ledger": e.ledger,
        "ledgers": e.ledgers,
        "metrics": e.metrics.iter().map(|(who, addr)| serde_json::json!({"who": who, "url": format!("http://{addr}/metrics")})).collect::<Vec<_>>(),
        "wallet": e.wallet,
    });
    let path = args.dir.join("endpoints.json");
    if let Err(err) = std::fs::write(&path, format!("{json:#}\n")) {
        eprintln!("writing {}: {err}", path.display());
    }
    println!();
    println!(
        "Cairn devnet on 127.0.0.1: {} validator(s), {} storage node(s), the gateway",
        e.ledgers.len(),
        args.nodes
    );
    println!(
        "  S3 endpoint     http://{}  (path-style, region us-east-1)",
        e.s3
    );
    println!("  access key      {}", e.access_key);
    println!("  secret key      {}", e.secret_key);
    println!("  HTTP gateway    http://{}/ipfs/<cid>", e.http);
    for (i, url) in e.ledgers.iter().enumerate() {
        let label = if i == 0 { "ledger API" } else { "" };
        println!("  {label:<15} {url}  (validator {i})");
    }
    for (i, (who, addr)) in e.metrics.iter().enumerate() {
        let label = if i == 0 { "metrics" } else { "" };
        println!("  {label:<15} http://{addr}/metrics  ({who})");
    }
    println!(
        "  gateway wallet  {}  (address {})",
        e.wallet.display(),
        e.wallet_address
    );
    println!("  state           {}", args.dir.display());
    println!("  logs            {}", args.dir.join("logs").display());
    println!();
    println!("try it:");
    println!(
        "  export AWS_ACCESS_KEY_ID={} AWS_SECRET_ACCESS_KEY={} AWS_DEFAULT_REGION=us-east-1",
        e.access_key, e.secret_key
    );
    println!(
        "  aws --endpoint-url http://{} s3 mb s3://demo      # once; the demonstration makes it",
        e.s3
    );
    println!("  aws --endpoint-url http://{} s3 cp FILE s3://demo/", e.s3);
    println!("  cairn add --only-hash FILE       # the CID the gateway gives FILE");
    println!("  cairn status <CID> --ledger {}", e.ledger);
    println!("  curl http://{}/ipfs/<cid>", e.http);
    println!();
    let _ = std::io::stdout().flush();
}

/// The S3 and by-CID round trip, then the sample's placement on the ledger.
async fn run_demo(e: &Endpoints, logs: &Path, children: &mut Children) -> Result<()> {
    let client = S3Client {
        endpoint: e.s3.clone(),
        access_key: e.access_key.clone(),
        secret_key: e.secret_key.clone(),
        region: "us-east-1".into(),
    };
    let cid = demonstrate(&client, &e.http).await?;

    let ledger = LedgerClient::new(&e.ledger)?;
    let wait = Waiting::start(
        "placement: waiting for the sample's manifest on the ledger",
        Duration::from_secs(120),
        format!(
            "{} and {}",
            logs.join("gateway.log").display(),
            logs.join("node-*.log").display()
        ),
    );
    loop {
        let now = match ledger
            .get_as::<Vec<Value>>(&format!("/manifests/{cid}"))
            .await
        {
            Ok(m) if !m.is_empty() => break,
            Ok(_) => "not published yet".to_owned(),
            Err(err) => err.to_string(),
        };
        wait.tick(children, &now).await?;
    }
    wait.done("published");
    let deals: Vec<DealInfo> = ledger
        .get_as(&format!("/deals?label={cid}"))
        .await
        .context("reading the sample's deals")?;
    ensure!(
        !deals.is_empty(),
        "the manifest is published but no deal is"
    );
    println!("deals for {cid}:");
    println!("    deal  provider  state       piece");
    for d in &deals {
        println!(
            "  {:>6}  {:>8}  {:<10}  {}",
            d.id, d.provider, d.state, d.piece
        );
    }
    Ok(())
}

/// A child's part in the devnet: the order it stops in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Validator,
    Node,
    Gateway,
}

/// One child process and its log.
#[derive(Debug)]
struct Proc {
    role: Role,
    name: String,
    child: Child,
    log: PathBuf,
    /// How it exited, once seen.
    exited: Option<String>,
}

impl Proc {
    /// Records the exit if it happened; true once it has.
    fn poll_exited(&mut self) -> bool {
        if self.exited.is_some() {
            return true;
        }
        match self.child.try_wait() {
            Ok(Some(status)) => self.exited = Some(status.to_string()),
            Ok(None) => return false,
            Err(e) => self.exited = Some(format!("unknown: {e}")),
        }
        true
    }

    /// Asks it to stop (SIGTERM), as an operator's `kill` would.
    fn terminate(&mut self) {
        #[cfg(unix)]
        {
            let _ = Command::new("kill")
                .args(["-TERM", &self.child.id().to_string()])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
        #[cfg(not(unix))]
        {
            let _ = self.child.kill();
        }
    }

    /// What to say when it exited on its own.
    fn report(&self) -> String {
        format!(
            "{} exited ({}); the last {TAIL_LINES} lines of {}:\n{}",
            self.name,
            self.exited.as_deref().unwrap_or("?"),
            self.log.display(),
            tail(&self.log, TAIL_LINES)
        )
    }
}

/// The last `n` lines of a log, indented.
fn tail(path: &Path, n: usize) -> String {
    let bytes = std::fs::read(path).unwrap_or_default();
    let text = String::from_utf8_lossy(&bytes);
    let lines: Vec<&str> = text.lines().collect();
    let skip = lines.len().saturating_sub(n);
    lines
        .iter()
        .skip(skip)
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every child the devnet started; stops them when dropped.
#[derive(Debug, Default)]
struct Children {
    procs: Vec<Proc>,
}

impl Children {
    /// Starts `cmd` in its own process group, stdout and stderr appended
    /// to `log`.
    fn spawn(&mut self, role: Role, name: String, cmd: &mut Command, log: PathBuf) -> Result<()> {
        let line = command_line(cmd);
        let mut out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .with_context(|| format!("opening {}", log.display()))?;
        writeln!(out, "--- cairn devnet starts: {line}")
            .with_context(|| format!("writing {}", log.display()))?;
        let err = out
            .try_clone()
            .with_context(|| format!("opening {}", log.display()))?;
        cmd.stdin(Stdio::null()).stdout(out).stderr(err);
        #[cfg(unix)]
        {
            use std::os::unix::process::CommandExt as _;
            cmd.process_group(0);
        }
        let child = cmd.spawn().with_context(|| format!("starting {line}"))?;
        self.procs.push(Proc {
            role,
            name,
            child,
            log,
            exited: None,
        });
        Ok(())
    }

    /// Reports of the children that exited since the last call.
    fn reap(&mut self) -> Vec<String> {
        let mut reports = Vec::new();
        for p in &mut self.procs {
            if p.exited.is_none() && p.poll_exited() {
                reports.push(p.report());
            }
        }
        reports
    }

    /// Stops the gateway, then the nodes, then the validators: SIGTERM,
    /// then SIGKILL for any still running after [`STOP_GRACE`].
    fn stop(&mut self) {
        for (role, what) in [
            (Role::Gateway, "the gateway"),
            (Role::Node, "the storage nodes"),
            (Role::Validator, "the validators"),
        ] {
            for p in &mut self.procs {
                p.poll_exited();
            }
            let mut running: Vec<&mut Proc> = self
                .procs
                .iter_mut()
                .filter(|p| p.role == role && p.exited.is_none())
                .collect();
            if running.is_empty() {
                continue;
            }
            eprintln!("stopping {what}");
            for p in running.iter_mut() {
                p.terminate();
            }
            let deadline = Instant::now() + STOP_GRACE;
            while !running.is_empty() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(100));
                running.retain_mut(|p| !p.poll_exited());
            }
            for p in running {
                eprintln!(
                    "{} did not stop within {} s; killing it",
                    p.name,
                    STOP_GRACE.as_secs()
                );
                let _ = p.child.kill();
                p.exited = Some(match p.child.wait() {
                    Ok(status) => status.to_string(),
                    Err(e) => format!("unknown: {e}"),
                });
            }
        }
    }
}

impl Drop for Children {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A command as a shell would show it (without its environment, which may
/// hold the S3 secret).
fn command_line(cmd: &Command) -> String {
    std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(|s| s.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// A bounded wait with a progress line on stderr (rewritten in place on a
/// terminal); it fails early if a child exits.
#[derive(Debug)]
struct Waiting {
    what: String,
    /// The logs to read when it fails.
    logs: String,
    started: Instant,
    timeout: Duration,
    tty: bool,
}

impl Waiting {
    fn start(what: impl Into<String>, timeout: Duration, logs: impl Into<String>) -> Self {
        let w = Self {
            what: what.into(),
            logs: logs.into(),
            started: Instant::now(),
            timeout,
            tty: std::io::stderr().is_terminal(),
        };
        if !w.tty {
            eprintln!("{} ...", w.what);
        }
        w
    }

    /// One more round: fails if a child exited or the time is up, else
    /// shows `status` and sleeps [`POLL`].
    async fn tick(&self, children: &mut Children, status: &str) -> Result<()> {
        let exited = children.reap();
        if !exited.is_empty() {
            self.end_line();
            bail!("{}: {}", self.what, exited.join("\n"));
        }
        let elapsed = self.started.elapsed();
        if elapsed >= self.timeout {
            self.end_line();
            bail!(
                "{}: not done after {} s ({status}); see {}",
                self.what,
                self.timeout.as_secs(),
                self.logs
            );
        }
        if self.tty {
            eprint!("\r{}: {status} ({} s)\x1b[K", self.what, elapsed.as_secs());
            let _ = std::io::stderr().flush();
        }
        tokio::time::sleep(POLL).await;
        Ok(())
    }

    fn done(&self, status: &str) {
        let secs = self.started.elapsed().as_secs_f64();
        if self.tty {
            eprintln!("\r{}: {status} ({secs:.1} s)\x1b[K", self.what);
        } else {
            eprintln!("{}: {status} ({secs:.1} s)", self.what);
        }
    }

    fn end_line(&self) {
        if self.tty {
            eprintln!();
        }
    }
}

/// Resolves on Ctrl-C, SIGTERM or SIGHUP (a closed terminal), so the
/// children, in their own process groups, are always stopped.
async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let (Ok(mut term), Ok(mut hup)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::hangup()),
        ) else {
            let _ = ctrl_c.await;
            return;
        };
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
            _ = hup.recv() => {},
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
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

/// Stores the sample through S3 and reads it back through S3 and by CID;
/// returns its CID.
async fn demonstrate(s3: &S3Client, http: &str) -> Result<String> {
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
    Ok(cid)
}

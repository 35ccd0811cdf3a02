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

use std::io::Write as _;
use std::net::ToSocketAddrs as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail, ensure};
use cairn_ledger::Amount;
use cairn_ledger::tx::TxBody;
use cairn_types::keys::Keypair;
use cairn_types::ledger::{LedgerClient, Submitted};
use clap::Args;

mod chain;
mod children;
mod demo;

use chain::*;
use children::*;
use demo::*;

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
/// The free client escrow the gateway's wallet keeps for its deals: about
/// 4 GiB of padded pieces for the default 2,000 epochs at the nodes' ask.
const GATEWAY_ESCROW: Amount = 10_000_000_000_000;
/// Each genesis demo account's balance: enough for the gateway's escrow
/// many times over (deals pay by the padded byte and epoch).
pub(super) const DEVNET_BALANCE: Amount = 1_000_000_000_000_000_000;
/// The nodes' ask per padded byte per epoch: the smallest that pays.
const NODE_PRICE: u64 = 1;
/// Epochs a partly filled sector waits for more pieces on a devnet: the
/// pieces of one upload arrive together, so sealing starts within seconds.
const SEAL_WAIT: u64 = 10;

/// Epochs (about seconds: a devnet epoch is one block) a node asks between
/// a deal's publication and its start, by sector size: every node's
/// Commit 2 runs one at a time on a shared machine (30-45 s on two cores
/// at 2 KiB as at 8 MiB: the circuit's size barely changes), and six
/// nodes' sealing must fit.
fn start_delay(sector_size: &str) -> u64 {
    match cairn_node_size(sector_size) {
        Some(s) if s <= 32 << 20 => 420,
        _ => 850,
    }
}

/// `"8MiB"` → bytes (the sizes `cairn-node init` takes).
fn cairn_node_size(s: &str) -> Option<u64> {
    let s = s.trim();
    let i = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (n, unit) = s.split_at(i);
    let mul: u64 = match unit.trim() {
        "" | "B" => 1,
        "KiB" => 1 << 10,
        "MiB" => 1 << 20,
        "GiB" => 1 << 30,
        _ => return None,
    };
    n.parse::<u64>().ok()?.checked_mul(mul)
}
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
    /// Blocks per ledger epoch (when the chain is first created). With one
    /// (~1 s epochs), a stored file is sealed, proven and paid within
    /// minutes: see docs/ledger.md, "Devnet timing".
    #[arg(long, default_value_t = 1)]
    blocks_per_epoch: u64,
    /// Run the demonstration, then stop everything (for scripts and CI).
    #[arg(long)]
    once: bool,
    /// Skip the demonstration.
    #[arg(long)]
    no_demo: bool,
    /// Nodes store and serve pieces but do not seal or prove them (their
    /// deals are cancelled at their start); set when the nodes are first
    /// created. For network tests and benchmarks that place many sectors'
    /// worth of data.
    #[arg(long)]
    no_seal: bool,
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
        init_node(
            bins,
            &home,
            &url,
            &args.sector_size,
            &addr,
            p2p,
            !args.no_seal,
        )?;
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
    seal: bool,
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
        .args(["--escrow", &NODE_ESCROW.to_string()])
        .args(["--start-delay", &start_delay(sector_size).to_string()])
        .args(["--seal-wait", &SEAL_WAIT.to_string()]);
    if !seal {
        cmd.arg("--no-seal");
    }
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
        let ip = std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);
        let ports = cairn_types::ports::free_ports(ip, 1).context("finding a free port")?;
        return ports.first().copied().context("no free port");
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

/// `addr`, with port 0 replaced by a port free now, below the ephemeral
/// range (`cairn_types::ports`), so it can be printed and probed, and no
/// connection the devnet's processes open takes it first.
fn concrete_addr(addr: &str) -> Result<String> {
    let sa = addr
        .to_socket_addrs()
        .with_context(|| format!("address {addr}"))?
        .next()
        .with_context(|| format!("address {addr} resolves to nothing"))?;
    if sa.port() != 0 {
        return Ok(addr.to_owned());
    }
    let ports = cairn_types::ports::free_ports(sa.ip(), 1)
        .with_context(|| format!("finding a free port on {}", sa.ip()))?;
    let port = ports.first().copied().context("no free port")?;
    Ok(std::net::SocketAddr::new(sa.ip(), port).to_string())
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

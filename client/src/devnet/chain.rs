//! The devnet's binaries, its chain (written once by `cairn-validator
//! testnet`) and its S3 credentials.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail, ensure};
use cairn_types::keys::Keypair;
use serde::Deserialize;

use std::net::SocketAddr;

use serde_json::Value;

use super::DevnetArgs;
use super::children::command_line;

/// Where the three binaries are.
#[derive(Debug)]
pub(super) struct Binaries {
    pub(super) validator: PathBuf,
    pub(super) node: PathBuf,
    /// This executable, run as `cairn gateway`.
    pub(super) cairn: PathBuf,
}

impl Binaries {
    pub(super) fn find() -> Result<Self> {
        let cairn = std::env::current_exe().context("finding the cairn executable")?;
        Ok(Self {
            validator: find_bin("CAIRN_VALIDATOR_BIN", "cairn-validator", &cairn)?,
            node: find_bin("CAIRN_NODE_BIN", "cairn-node", &cairn)?,
            cairn,
        })
    }
}

/// `$env`, else `name` beside `exe`, else `name` on `PATH`.
pub(super) fn find_bin(env: &str, name: &str, exe: &Path) -> Result<PathBuf> {
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
pub(super) struct Chain {
    pub(super) homes: Vec<(PathBuf, ValidatorHome)>,
    pub(super) accounts: Vec<Keypair>,
}

/// The fields of a validator's `validator.json` the devnet needs.
#[derive(Debug, Deserialize)]
pub(super) struct ValidatorHome {
    pub(super) api_listen: SocketAddr,
    pub(super) metrics_listen: SocketAddr,
}

#[derive(Debug, Deserialize)]
pub(super) struct GenesisValidators {
    pub(super) validators: Vec<Value>,
}

#[derive(Debug, Deserialize)]
pub(super) struct DemoAccount {
    pub(super) secret_key: String,
}

pub(super) fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
}

/// The devnet's ledger rules (docs/ledger.md, "Devnet timing"): epochs of
/// one block (about a second), a two-minute proving period of four
/// 30-epoch deadlines (a window outlasts another node's Commit 2 on the
/// same cores), a 5-epoch seed wait, and ten minutes to prove-commit (six
/// nodes' Commit 2 queue on one machine).
pub(super) fn devnet_params(blocks_per_epoch: u64) -> serde_json::Value {
    serde_json::json!({
        "blocks_per_epoch": blocks_per_epoch.max(1),
        "deadlines_per_period": 4,
        "deadline_window": 30,
        "min_deal_duration": 120,
        "max_deal_duration": 100_000,
        "max_deal_start_delay": 1_000,
        "seed_wait": 5,
        "max_prove_commit_wait": 600,
        "max_ticket_age": 600,
        "min_precommit_deposit": "100",
        "min_provider_collateral": "1000",
        "fault_fee": "50",
        "max_consecutive_faults": 10,
        "reward_per_epoch": "1000",
    })
}

/// Writes the chain with `cairn-validator testnet` if `DIR/net` has none,
/// then reads its homes and accounts.
pub(super) fn prepare_chain(args: &DevnetArgs, bins: &Binaries) -> Result<Chain> {
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
        std::fs::create_dir_all(&args.dir)
            .with_context(|| format!("creating {}", args.dir.display()))?;
        let params = args.dir.join("params.json");
        std::fs::write(
            &params,
            serde_json::to_vec_pretty(&devnet_params(args.blocks_per_epoch))?,
        )
        .with_context(|| format!("writing {}", params.display()))?;
        let mut cmd = Command::new(&bins.validator);
        cmd.arg("testnet")
            .args(["--validators", &args.validators.to_string()])
            .arg("--dir")
            .arg(&net)
            .args(["--accounts", "2", "--sector-sizes", &args.sector_size])
            .args(["--balance", &super::DEVNET_BALANCE.to_string()])
            .arg("--params")
            .arg(&params);
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
pub(super) fn s3_credentials(dir: &Path) -> Result<(String, String)> {
    match (
        std::env::var("CAIRN_S3_ACCESS_KEY"),
        std::env::var("CAIRN_S3_SECRET_KEY"),
    ) {
        (Ok(a), Ok(s)) if !a.is_empty() && !s.is_empty() => Ok((a, s)),
        _ => credentials(dir),
    }
}

pub(super) fn credentials(dir: &Path) -> Result<(String, String)> {
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

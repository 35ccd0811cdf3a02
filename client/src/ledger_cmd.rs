//! `cairn wallet`, `cairn market` and `cairn chain`: the ledger from the
//! command line.
//!
//! Each command reads the wallet (wallet.rs) and/or asks a validator's API
//! (ledger_api.rs); transactions are signed here with the account's nonce
//! and the chain id the validator reports, and the command waits for the
//! receipt. A refusal, whether at admission or in the finalized block, is
//! printed with its reason and makes the command exit non-zero. `--json`
//! prints the API's JSON (or, for wallet commands, the wallet's public
//! part) on stdout instead of text.

use std::io::BufRead as _;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use cairn_ledger::codec::Encode as _;
use cairn_ledger::tx::TxBody;
use clap::{Args, Subcommand};
use serde_json::{Value, json};

use crate::ledger_api::{LedgerApi, Submitted};
use crate::wallet::{self, Wallet};

/// Output options shared by the ledger commands.
#[derive(Debug, Args)]
pub struct Output {
    /// Print machine-readable JSON on stdout.
    #[arg(long, global = true)]
    pub json: bool,
}

/// `cairn wallet ...`.
#[derive(Debug, Subcommand)]
pub enum WalletCommand {
    /// Generate a new key and write the wallet file (mode 0600).
    New {
        /// Replace an existing wallet file (its key is lost).
        #[arg(long)]
        force: bool,
    },
    /// Write a wallet file for an existing secret key, e.g. a testnet's demo
    /// account from its accounts.json.
    Import {
        /// The ed25519 secret key: 64 hex digits, or `-` to read it from stdin.
        #[arg(long)]
        secret_key: String,
        /// Replace an existing wallet file (its key is lost).
        #[arg(long)]
        force: bool,
    },
    /// Print the wallet's address and public key.
    Show,
    /// Print the balance, nonce and escrow of the wallet's account or ADDRESS.
    Balance {
        /// Another account (40 hex digits).
        address: Option<String>,
    },
    /// Transfer AMOUNT to TO and print the receipt.
    Send {
        /// The receiver's address (40 hex digits).
        to: String,
        /// The amount (a decimal integer).
        amount: u128,
    },
}

/// `cairn market ...`.
#[derive(Debug, Subcommand)]
pub enum MarketCommand {
    /// Move tokens between the wallet's balance and its market escrow.
    Escrow {
        #[command(subcommand)]
        command: EscrowCommand,
    },
    /// List deals (by default the wallet's, as client).
    Deals {
        /// Deals of this client address.
        #[arg(long)]
        client: Option<String>,
        /// Deals of this provider id.
        #[arg(long)]
        provider: Option<u64>,
        /// Deals with this label (e.g. a root CID).
        #[arg(long)]
        label: Option<String>,
    },
}

/// `cairn market escrow ...`.
#[derive(Debug, Subcommand)]
pub enum EscrowCommand {
    /// Move AMOUNT from the balance into escrow.
    Add {
        /// The amount (a decimal integer).
        amount: u128,
    },
    /// Move AMOUNT of unlocked escrow back to the balance.
    Withdraw {
        /// The amount (a decimal integer).
        amount: u128,
    },
}

/// `cairn chain ...`.
#[derive(Debug, Subcommand)]
pub enum ChainCommand {
    /// Height, epoch, state root, validators and mempool of the validator.
    Status,
}

/// Where the commands find the wallet and the validator.
#[derive(Debug)]
pub struct Settings {
    /// The wallet file.
    pub wallet: PathBuf,
    /// The validator's API base URL.
    pub ledger: String,
    /// Print JSON.
    pub json: bool,
}

impl Settings {
    fn api(&self) -> Result<LedgerApi> {
        LedgerApi::new(&self.ledger)
    }

    fn print(&self, v: &Value) -> Result<()> {
        println!("{}", serde_json::to_string_pretty(v)?);
        Ok(())
    }
}

/// Runs a `cairn wallet` command.
pub fn wallet(cx: &Settings, cmd: WalletCommand) -> Result<()> {
    match cmd {
        WalletCommand::New { force } => {
            let w = Wallet::generate(cx.wallet.clone());
            w.save(force)?;
            show(cx, &w, true)
        }
        WalletCommand::Import { secret_key, force } => {
            let secret = if secret_key == "-" {
                let mut line = String::new();
                std::io::stdin()
                    .lock()
                    .read_line(&mut line)
                    .context("reading the secret key from stdin")?;
                line
            } else {
                secret_key
            };
            let w = Wallet::import(&secret, cx.wallet.clone())?;
            w.save(force)?;
            show(cx, &w, true)
        }
        WalletCommand::Show => show(cx, &Wallet::load(&cx.wallet)?, false),
        WalletCommand::Balance { address } => {
            let addr = match address {
                Some(a) => wallet::parse_address(&a)?,
                None => Wallet::load(&cx.wallet)?.address(),
            };
            let v = cx.api()?.get(&format!("/accounts/{addr}"))?;
            if cx.json {
                return cx.print(&v);
            }
            let escrow = &v["escrow"];
            for (k, val) in [
                ("address", &v["address"]),
                ("balance", &v["balance"]),
                ("nonce", &v["nonce"]),
                ("escrow free", &escrow["free"]),
                ("escrow locked", &escrow["locked"]),
            ] {
                println!("{k:<14} {}", text(val));
            }
            Ok(())
        }
        WalletCommand::Send { to, amount } => {
            let to = wallet::parse_address(&to)?;
            transact(cx, TxBody::Transfer { to, amount })
        }
    }
}

fn show(cx: &Settings, w: &Wallet, written: bool) -> Result<()> {
    let v = json!({
        "address": w.address().to_string(),
        "public_key": hex::encode(w.public_key().0),
        "path": w.path().display().to_string(),
    });
    if cx.json {
        return cx.print(&v);
    }
    println!("address     {}", w.address());
    println!("public key  {}", hex::encode(w.public_key().0));
    if written {
        eprintln!("wrote {} (mode 0600)", w.path().display());
    }
    Ok(())
}

/// Runs a `cairn market` command.
pub fn market(cx: &Settings, cmd: MarketCommand) -> Result<()> {
    match cmd {
        MarketCommand::Escrow {
            command: EscrowCommand::Add { amount },
        } => transact(cx, TxBody::EscrowAdd { amount }),
        MarketCommand::Escrow {
            command: EscrowCommand::Withdraw { amount },
        } => transact(cx, TxBody::EscrowWithdraw { amount }),
        MarketCommand::Deals {
            client,
            provider,
            label,
        } => {
            let mut query = Vec::new();
            let client = match client {
                Some(c) => Some(wallet::parse_address(&c)?),
                // No filter at all: the wallet's own deals.
                None if provider.is_none() && label.is_none() => {
                    Some(Wallet::load(&cx.wallet)?.address())
                }
                None => None,
            };
            if let Some(c) = client {
                query.push(format!("client={c}"));
            }
            if let Some(p) = provider {
                query.push(format!("provider={p}"));
            }
            if let Some(l) = label {
                query.push(format!("label={}", percent_encode(&l)));
            }
            let v = cx.api()?.get(&format!("/deals?{}", query.join("&")))?;
            if cx.json {
                return cx.print(&v);
            }
            deals_table(&v)
        }
    }
}

/// Runs a `cairn chain` command.
pub fn chain(cx: &Settings, cmd: ChainCommand) -> Result<()> {
    match cmd {
        ChainCommand::Status => {
            let api = cx.api()?;
            let v = api.get("/status")?;
            if cx.json {
                return cx.print(&v);
            }
            println!("{:<11} {}", "validator", api.url());
            for k in [
                "chain_id",
                "height",
                "epoch",
                "state_root",
                "digest",
                "validators",
                "mempool",
            ] {
                println!("{k:<11} {}", text(&v[k]));
            }
            Ok(())
        }
    }
}

/// Signs `body` with the wallet at the account's next nonce, submits it and
/// reports the receipt; a refusal is an error.
fn transact(cx: &Settings, body: TxBody) -> Result<()> {
    let w = Wallet::load(&cx.wallet)?;
    let api = cx.api()?;
    let status = api.get("/status")?;
    let chain_id = status["chain_id"]
        .as_u64()
        .with_context(|| format!("{}/status has no chain_id: {status}", api.url()))?;
    let account = api.get(&format!("/accounts/{}", w.address()))?;
    let nonce = account["nonce"]
        .as_u64()
        .with_context(|| format!("{}/accounts has no nonce: {account}", api.url()))?;
    let tx = w.sign(chain_id, nonce, body);
    let hash = hex::encode(tx.hash());
    let answer = api.submit(&tx.to_bytes())?;
    let (Submitted::Receipt(v) | Submitted::Refused(v) | Submitted::Pending(v)) = &answer;
    if cx.json {
        cx.print(v)?;
    }
    match answer {
        Submitted::Pending(_) => bail!(
            "tx {hash} was admitted but not finalized in the validator's wait; \
             its outcome is not known yet: GET {}/tx/{hash}",
            api.url()
        ),
        Submitted::Refused(v) => bail!(
            "the ledger refused tx {hash}: {} (nothing changed)",
            text(&v["refusal"])
        ),
        Submitted::Receipt(v) if v["ok"].as_bool() != Some(true) => bail!(
            "the ledger refused tx {hash} in the block at height {}: {} (nothing changed but the nonce)",
            text(&v["height"]),
            text(&v["refusal"])
        ),
        Submitted::Receipt(v) => {
            if !cx.json {
                println!("tx {hash} finalized at height {}", text(&v["height"]));
                for e in v["events"].as_array().into_iter().flatten() {
                    println!("  {}", event_line(e));
                }
            }
            Ok(())
        }
    }
}

/// A JSON scalar as plain text (strings without quotes).
fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "-".to_owned(),
        other => other.to_string(),
    }
}

/// An event as `Kind key=value ...`.
fn event_line(e: &Value) -> String {
    let mut line = text(&e["kind"]);
    if let Some(fields) = e.as_object() {
        for (k, v) in fields.iter().filter(|(k, _)| *k != "kind") {
            line.push_str(&format!(" {k}={}", text(v)));
        }
    }
    line
}

fn deals_table(v: &Value) -> Result<()> {
    let deals = v
        .as_array()
        .with_context(|| format!("the deal list is not a list: {v}"))?;
    if deals.is_empty() {
        eprintln!("no deals");
        return Ok(());
    }
    let cols = [
        ("id", "id"),
        ("provider", "provider"),
        ("client", "client"),
        ("piece size", "piece_size"),
        ("start", "start"),
        ("end", "end"),
        ("price/epoch", "price_per_epoch"),
        ("state", "state"),
        ("paid", "paid"),
    ];
    let rows: Vec<Vec<String>> = deals
        .iter()
        .map(|d| cols.iter().map(|(_, k)| text(&d[*k])).collect())
        .collect();
    let widths: Vec<usize> = cols
        .iter()
        .enumerate()
        .map(|(i, (h, _))| {
            rows.iter()
                .filter_map(|r| r.get(i))
                .map(String::len)
                .chain([h.len()])
                .max()
                .unwrap_or_default()
        })
        .collect();
    let line = |cells: Vec<&str>| {
        cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_owned()
    };
    println!("{}", line(cols.iter().map(|(h, _)| *h).collect()));
    for r in &rows {
        println!("{}", line(r.iter().map(String::as_str).collect()));
    }
    Ok(())
}

/// Percent-encodes a query value (everything but unreserved characters).
fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_percent_encoded_and_events_flattened() {
        assert_eq!(percent_encode("bafy-1._~"), "bafy-1._~");
        assert_eq!(percent_encode("a b&c=d/é"), "a%20b%26c%3Dd%2F%C3%A9");
        let e = json!({"kind": "Transferred", "amount": "5", "to": "ab"});
        assert_eq!(event_line(&e), "Transferred amount=5 to=ab");
        assert_eq!(text(&Value::Null), "-");
        assert_eq!(text(&json!(3)), "3");
    }
}

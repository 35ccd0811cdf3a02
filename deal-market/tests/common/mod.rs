//! Real `cairn-validator` processes on loopback for the multi-process
//! tests: writing a testnet, starting and killing validators, the HTTP
//! API, and signing transactions with the demo accounts' keys.

#![allow(dead_code)] // each test binary uses its own part

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail, ensure};
use cairn_ledger::codec::Encode as _;
use cairn_ledger::ids::{Address, PublicKey, Signature, signing_bytes};
use cairn_ledger::tx::{SignedTx, TX_DOMAIN, Tx, TxBody};
use ed25519_dalek::{Signer as _, SigningKey};
use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_cairn-validator");

/// One validator process and its API.
pub struct Validator {
    pub home: PathBuf,
    pub api: String,
    child: Option<Child>,
}

impl Validator {
    pub fn start(&mut self) -> anyhow::Result<()> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.home.join("validator.log"))?;
        let child = Command::new(BIN)
            .args(["run", "--home"])
            .arg(&self.home)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .context("spawn cairn-validator run")?;
        self.child = Some(child);
        Ok(())
    }

    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill(); // SIGKILL
            let _ = c.wait();
        }
    }

    pub fn get(&self, path: &str) -> anyhow::Result<Value> {
        let r = reqwest::blocking::Client::new()
            .get(format!("{}{path}", self.api))
            .timeout(Duration::from_secs(5))
            .send()?;
        ensure!(r.status().is_success(), "GET {path}: {}", r.status());
        Ok(r.json()?)
    }

    pub fn height(&self) -> Option<u64> {
        self.get("/status").ok()?.get("height")?.as_u64()
    }

    pub fn epoch(&self) -> Option<u64> {
        self.get("/status").ok()?.get("epoch")?.as_u64()
    }

    /// Submits `tx` and waits for its receipt (the API answers once the
    /// block holding it is finalized).
    pub fn submit(&self, tx: &SignedTx) -> anyhow::Result<Value> {
        let r = reqwest::blocking::Client::new()
            .post(format!("{}/tx", self.api))
            .body(hex::encode(tx.to_bytes()))
            .timeout(Duration::from_secs(60))
            .send()?;
        let status = r.status();
        let receipt: Value = r.json()?;
        // 422: the ledger refuses it; the body is the refusal's receipt.
        ensure!(
            status.is_success() || status.as_u16() == 422,
            "POST /tx: {status} {receipt}"
        );
        ensure!(
            receipt.get("ok").is_some(),
            "POST /tx: no receipt: {receipt}"
        );
        Ok(receipt)
    }
}

impl Drop for Validator {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Runs `cairn-validator testnet` into `dir` with `args` and returns its
/// validators (not started), each with its own API address.
pub fn testnet(dir: &Path, validators: usize, args: &[&str]) -> anyhow::Result<Vec<Validator>> {
    let out = Command::new(BIN)
        .args(["testnet", "--free-ports", "--validators"])
        .arg(validators.to_string())
        .args(args)
        .arg("--dir")
        .arg(dir)
        .output()?;
    ensure!(
        out.status.success(),
        "testnet: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (0..validators)
        .map(|i| {
            let home = dir.join(i.to_string());
            let file: Value = serde_json::from_slice(&std::fs::read(home.join("validator.json"))?)?;
            let api = format!("http://{}", file["api_listen"].as_str().unwrap_or_default());
            Ok(Validator {
                home,
                api,
                child: None,
            })
        })
        .collect()
}

pub fn wait_for(what: &str, timeout: Duration, mut ok: impl FnMut() -> bool) -> anyhow::Result<()> {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    bail!("timed out after {timeout:?} waiting for {what}")
}

/// The last lines of every validator's log, for a failure message.
pub fn logs(vs: &[Validator]) -> String {
    vs.iter()
        .map(|v| {
            let t = std::fs::read_to_string(v.home.join("validator.log")).unwrap_or_default();
            // Without the frames of a stack trace (a validator that exits
            // with an error under RUST_BACKTRACE), which would push its
            // error out of the tail.
            let frame = |l: &str| {
                let l = l.trim_start();
                l.starts_with("Stack backtrace:")
                    || l.starts_with("at ")
                    || l.split_once(": ").is_some_and(|(n, _)| {
                        !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())
                    })
            };
            let tail: Vec<&str> = t.lines().rev().filter(|l| !frame(l)).take(15).collect();
            format!(
                "--- {} ---\n{}",
                v.home.display(),
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Demo account `i` of a testnet (`accounts.json`): its key and address.
pub fn demo_account(dir: &Path, i: usize) -> anyhow::Result<(SigningKey, Address)> {
    let accounts: Value = serde_json::from_slice(&std::fs::read(dir.join("accounts.json"))?)?;
    let sk = accounts[i]["secret_key"].as_str().context("secret key")?;
    let sk: [u8; 32] = hex::decode(sk)?
        .try_into()
        .map_err(|_| anyhow::anyhow!("key length"))?;
    let key = SigningKey::from_bytes(&sk);
    let addr = PublicKey(key.verifying_key().to_bytes()).address();
    Ok((key, addr))
}

/// `body` signed by `key` at `nonce` on chain 1 (the testnet's).
pub fn sign(key: &SigningKey, nonce: u64, body: TxBody) -> SignedTx {
    let tx = Tx {
        chain_id: 1,
        nonce,
        signer: PublicKey(key.verifying_key().to_bytes()),
        body,
    };
    let signature = Signature(
        key.sign(&signing_bytes(TX_DOMAIN, &tx.to_bytes()))
            .to_bytes(),
    );
    SignedTx { tx, signature }
}

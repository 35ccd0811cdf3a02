//! Four real `cairn-validator` processes on loopback: they finalize
//! blocks; a transfer submitted through one API is applied on all; one
//! validator is killed (SIGKILL) and the other three keep finalizing; it
//! restarts from its disk and catches up to the same state root.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail, ensure};
use cairn_ledger::codec::Encode as _;
use cairn_ledger::ids::{Address, PublicKey, Signature, signing_bytes};
use cairn_ledger::tx::{SignedTx, TX_DOMAIN, Tx, TxBody};
use ed25519_dalek::{Signer as _, SigningKey};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_cairn-validator");

struct Validator {
    home: PathBuf,
    api: String,
    child: Option<Child>,
}

impl Validator {
    fn start(&mut self) -> anyhow::Result<()> {
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

    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill(); // SIGKILL
            let _ = c.wait();
        }
    }

    fn get(&self, path: &str) -> anyhow::Result<Value> {
        let r = reqwest::blocking::Client::new()
            .get(format!("{}{path}", self.api))
            .timeout(Duration::from_secs(5))
            .send()?;
        ensure!(r.status().is_success(), "GET {path}: {}", r.status());
        Ok(r.json()?)
    }

    fn height(&self) -> Option<u64> {
        self.get("/status").ok()?.get("height")?.as_u64()
    }
}

impl Drop for Validator {
    fn drop(&mut self) {
        self.kill();
    }
}

fn wait_for(what: &str, timeout: Duration, mut ok: impl FnMut() -> bool) -> anyhow::Result<()> {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    bail!("timed out after {timeout:?} waiting for {what}")
}

fn logs(vs: &[Validator]) -> String {
    vs.iter()
        .map(|v| {
            let t = std::fs::read_to_string(v.home.join("validator.log")).unwrap_or_default();
            let tail: Vec<&str> = t.lines().rev().take(15).collect();
            format!(
                "--- {} ---\n{}",
                v.home.display(),
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn transfer(dir: &Path, to_index: usize, amount: u128) -> anyhow::Result<(SignedTx, Address)> {
    let accounts: Value = serde_json::from_slice(&std::fs::read(dir.join("accounts.json"))?)?;
    let sk = accounts[0]["secret_key"].as_str().context("secret key")?;
    let sk: [u8; 32] = hex::decode(sk)?
        .try_into()
        .map_err(|_| anyhow::anyhow!("key length"))?;
    let key = SigningKey::from_bytes(&sk);
    let to: [u8; 20] = hex::decode(accounts[to_index]["address"].as_str().context("address")?)?
        .try_into()
        .map_err(|_| anyhow::anyhow!("address length"))?;
    let tx = Tx {
        chain_id: 1,
        nonce: 0,
        signer: PublicKey(key.verifying_key().to_bytes()),
        body: TxBody::Transfer {
            to: Address(to),
            amount,
        },
    };
    let signature = Signature(
        key.sign(&signing_bytes(TX_DOMAIN, &tx.to_bytes()))
            .to_bytes(),
    );
    Ok((SignedTx { tx, signature }, Address(to)))
}

#[test]
fn four_validators_finalize_survive_a_crash_and_catch_up() -> anyhow::Result<()> {
    let t0 = Instant::now();
    let tmp = tempfile::tempdir()?;
    let dir = tmp.path().join("net");
    let out = Command::new(BIN)
        .args([
            "testnet",
            "--validators",
            "4",
            "--free-ports",
            "--blocks-per-epoch",
            "5",
            "--dir",
        ])
        .arg(&dir)
        .output()?;
    ensure!(
        out.status.success(),
        "testnet: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let genesis: Value = serde_json::from_slice(&std::fs::read(dir.join("genesis.json"))?)?;
    let mut vs: Vec<Validator> = (0..4)
        .map(|i| Validator {
            home: dir.join(i.to_string()),
            api: format!(
                "http://{}",
                genesis["validators"][i]["api"].as_str().unwrap_or_default()
            ),
            child: None,
        })
        .collect();
    // The genesis lists validators in key order, homes by index: map each
    // home to its own API address.
    for v in &mut vs {
        let home: Value = serde_json::from_slice(&std::fs::read(v.home.join("validator.json"))?)?;
        v.api = format!("http://{}", home["api_listen"].as_str().unwrap_or_default());
    }
    for v in &mut vs {
        v.start()?;
    }

    // 1. All four finalize.
    wait_for(
        "height 3 on all validators",
        Duration::from_secs(40),
        || vs.iter().all(|v| v.height().is_some_and(|h| h >= 3)),
    )
    .with_context(|| logs(&vs))?;
    eprintln!("finalizing after {:?}", t0.elapsed());

    // 2. A transfer through validator 1's API is applied.
    let (tx, to) = transfer(&dir, 1, 12_345)?;
    let submitted = Instant::now();
    let r = reqwest::blocking::Client::new()
        .post(format!("{}/tx", vs[1].api))
        .body(hex::encode(tx.to_bytes()))
        .timeout(Duration::from_secs(40))
        .send()?;
    let status = r.status();
    let receipt: Value = r.json()?;
    ensure!(status.is_success(), "POST /tx: {status} {receipt}");
    ensure!(receipt["ok"] == Value::Bool(true), "receipt: {receipt}");
    assert_eq!(receipt["events"][0]["kind"], "Transferred", "{receipt}");
    assert_eq!(receipt["events"][0]["to"], hex::encode(to.0), "{receipt}");
    assert_eq!(receipt["events"][0]["amount"], "12345", "{receipt}");
    let included = receipt["height"].as_u64().context("receipt height")?;
    eprintln!(
        "transfer finalized in block {included}, {:?} after submission",
        submitted.elapsed()
    );
    wait_for(
        "validator 2 at the transfer's height",
        Duration::from_secs(20),
        || vs[2].height().is_some_and(|h| h >= included),
    )?;
    let acc = vs[2].get(&format!("/accounts/{}", hex::encode(to.0)))?;
    assert_eq!(
        acc["balance"],
        Value::String((1_000_000_000u128 + 12_345).to_string())
    );
    let by_hash = vs[3].get(&format!("/tx/{}", hex::encode(tx.hash())));
    // Validator 3 may lag a block; it has it once at that height.
    if vs[3].height().is_some_and(|h| h >= included) {
        assert_eq!(by_hash?["height"].as_u64(), Some(included));
    }

    // 3. Kill validator 3; the other three keep finalizing.
    vs[3].kill();
    let before = vs[0].height().context("height of 0")?;
    // Long enough that the restarted validator needs marshal's backfill,
    // not only the certificates of the views it rejoins in.
    let gap = 8;
    wait_for(
        "blocks without validator 3",
        Duration::from_secs(40),
        || {
            vs[..3]
                .iter()
                .all(|v| v.height().is_some_and(|h| h >= before + gap))
        },
    )
    .with_context(|| logs(&vs))?;
    eprintln!(
        "3 validators finalized {before}..{} after {:?}",
        before + gap,
        t0.elapsed()
    );

    // 4. Restart it: it recovers from disk and catches up.
    vs[3].start()?;
    let target = vs[0].height().context("height of 0")?;
    wait_for("validator 3 to catch up", Duration::from_secs(40), || {
        vs[3].height().is_some_and(|h| h >= target)
    })
    .with_context(|| logs(&vs))?;
    let roots: Vec<Value> = vs
        .iter()
        .map(|v| {
            v.get(&format!("/blocks/{target}"))
                .map(|b| b["state_root"].clone())
        })
        .collect::<anyhow::Result<_>>()?;
    assert!(
        roots.iter().all(|r| r == &roots[0] && r.is_string()),
        "roots differ: {roots:?}"
    );
    eprintln!("validator 3 caught up to {target} after {:?}", t0.elapsed());
    Ok(())
}

//! A real one-validator testnet and real `cairn-node` processes on
//! loopback, for the node's integration tests.
//!
//! `cairn-validator` is another package's binary: it is taken from
//! `$CAIRN_VALIDATOR_BIN`, else from beside this test's executable
//! (target/debug/), where `cargo test --workspace` puts it.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use cairn_ledger::tx::TxBody;
use cairn_types::keys::Keypair;
use cairn_types::ledger::{LedgerClient, ProviderInfo};
use serde_json::Value;

pub fn validator_bin() -> PathBuf {
    let bin = match std::env::var_os("CAIRN_VALIDATOR_BIN") {
        Some(p) => PathBuf::from(p),
        None => std::env::current_exe()
            .ok()
            .and_then(|exe| Some(exe.parent()?.parent()?.join("cairn-validator")))
            .unwrap_or_default(),
    };
    assert!(
        bin.is_file(),
        "cairn-validator not found at {}: build it with \
         `cargo build -p cairn-deal-market --bin cairn-validator` or set CAIRN_VALIDATOR_BIN",
        bin.display()
    );
    bin
}

/// A child process, killed when dropped.
pub struct Proc {
    pub child: Child,
    pub log: PathBuf,
}

impl Proc {
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Sends SIGTERM and waits (bounded) for the exit status.
    pub fn terminate(&mut self) -> Option<std::process::ExitStatus> {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(s)) = self.child.try_wait() {
                return Some(s);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn spawn(cmd: &mut Command, log: PathBuf) -> Proc {
    let f = std::fs::File::create(&log).unwrap_or_else(|e| panic!("{}: {e}", log.display()));
    let child = cmd
        .stdout(Stdio::null())
        .stderr(f)
        .spawn()
        .unwrap_or_else(|e| panic!("spawning {cmd:?}: {e}"));
    Proc { child, log }
}

/// A running one-validator testnet whose genesis allows 2 KiB sectors.
pub struct Testnet {
    pub dir: PathBuf,
    pub url: String,
    pub ledger: LedgerClient,
    pub validator: Proc,
    /// Demo accounts' keys, funded at genesis.
    pub accounts: Vec<Keypair>,
    pub chain_id: u64,
}

pub fn read_json(p: &Path) -> Value {
    let bytes = std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

impl Testnet {
    pub async fn start(dir: &Path) -> Testnet {
        let bin = validator_bin();
        let net = dir.join("net");
        let out = Command::new(&bin)
            .args([
                "testnet",
                "--validators",
                "1",
                "--free-ports",
                "--blocks-per-epoch",
                "2",
            ])
            .args(["--sector-sizes", "2KiB", "--dir"])
            .arg(&net)
            .output()
            .unwrap_or_else(|e| panic!("running {}: {e}", bin.display()));
        assert!(
            out.status.success(),
            "testnet: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let home = net.join("0");
        let config = read_json(&home.join("validator.json"));
        let url = format!(
            "http://{}",
            config["api_listen"].as_str().unwrap_or_default()
        );
        let accounts = read_json(&net.join("accounts.json"))
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|a| {
                let secret = hex::decode(a["secret_key"].as_str().unwrap_or_default()).unwrap();
                Keypair::from_secret(secret.try_into().unwrap())
            })
            .collect();
        let validator = spawn(
            Command::new(&bin).args(["run", "--home"]).arg(&home),
            dir.join("validator.log"),
        );
        let ledger = LedgerClient::new(&url).unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        let chain_id = loop {
            if let Ok(s) = ledger.status().await
                && s.height >= 1
            {
                break s.chain_id;
            }
            assert!(
                Instant::now() < deadline,
                "no block in 60 s:\n{}",
                validator.log()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        Testnet {
            dir: dir.to_path_buf(),
            url,
            ledger,
            validator,
            accounts,
            chain_id,
        }
    }

    /// Submits `body` from `k` and requires it to take effect.
    pub async fn ok(&self, k: &Keypair, body: TxBody) -> Vec<Value> {
        let nonce = self.ledger.account(&k.address()).await.unwrap().nonce;
        let tx = k.sign_tx(self.chain_id, nonce, body);
        let r = self.ledger.submit(&tx).await.unwrap();
        r.events()
            .map(<[_]>::to_vec)
            .unwrap_or_else(|e| panic!("refused: {e}"))
    }

    /// Waits for the provider owned by `owner` to appear in the registry.
    pub async fn provider_of(&self, owner: &Keypair, node: &Proc) -> ProviderInfo {
        poll("registered", 60, node, || async {
            let ps = self.ledger.providers().await.unwrap();
            ps.into_iter()
                .find(|p| p.owner == owner.address().to_string())
        })
        .await
    }
}

/// Asks `f` every 200 ms until it answers; fails after `secs` seconds,
/// saying what did not happen, with the node's log.
pub async fn poll<T, F, Fut>(what: &str, secs: u64, node: &Proc, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(t) = f().await {
            return t;
        }
        assert!(
            Instant::now() < deadline,
            "not {what} within {secs} s:\n{}",
            node.log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

pub fn node_bin() -> &'static str {
    env!("CARGO_BIN_EXE_cairn-node")
}

/// `cairn-node init` for a 2 KiB-sector node on loopback; returns its home.
pub fn init_node(dir: &Path, name: &str, ledger: &str, extra: &[&str]) -> PathBuf {
    let home = dir.join(name);
    let out = Command::new(node_bin())
        .args(["init", "--home"])
        .arg(&home)
        .args([
            "--ledger",
            ledger,
            "--sector-size",
            "2KiB",
            "--metrics-addr",
            "127.0.0.1:0",
        ])
        .args([
            "--listen",
            "/ip4/127.0.0.1/tcp/0",
            "--listen",
            "/ip4/127.0.0.1/udp/0/quic-v1",
        ])
        // Deal intake is under test here; client/tests/proving.rs seals.
        .arg("--no-seal")
        .args(extra)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "init: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    home
}

pub fn run_node(home: &Path) -> Proc {
    spawn(
        Command::new(node_bin()).args(["run", "--home"]).arg(home),
        home.join("node.log"),
    )
}

pub fn owner_of(home: &Path) -> Keypair {
    Keypair::load(&home.join("owner.json")).unwrap()
}

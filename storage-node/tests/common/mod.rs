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

use cairn_ledger::codec::Encode as _;
use cairn_ledger::tx::{CLIENT_DEAL_DOMAIN, TxBody};
use cairn_ledger::{CommP, DealProposal, Epoch, ProviderId, Signature, SignedDeal};
use cairn_types::keys::Keypair;
use cairn_types::ledger::{LedgerClient, ProviderInfo};
use cairn_types::p2p::Client;
use cairn_types::{ClientDeal, DealRequest, DealResponse};
use libp2p::{Multiaddr, PeerId};
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

pub fn peer_of(p: &ProviderInfo) -> (PeerId, Vec<Multiaddr>) {
    let peer = PeerId::from_bytes(&hex::decode(&p.peer_id).unwrap()).unwrap();
    let addrs = p.multiaddrs.iter().map(|a| a.parse().unwrap()).collect();
    (peer, addrs)
}

/// A client's signed proposal and the bytes it is for.
pub struct Deal {
    pub signed: ClientDeal,
    pub payload: Vec<u8>,
}

/// A 100-epoch deal for `payload` starting 20 epochs after `epoch`,
/// signed by `client`.
pub fn make_deal(
    client: &Keypair,
    provider: u64,
    epoch: u64,
    payload: Vec<u8>,
    label: &str,
) -> Deal {
    let c = cairn_proofs::commp::commp(&payload).unwrap();
    let proposal = DealProposal {
        piece: CommP(c.comm_p),
        piece_size: c.padded_size,
        client: client.address(),
        provider: ProviderId(provider),
        label: label.as_bytes().to_vec(),
        start: Epoch(epoch + 20),
        end: Epoch(epoch + 20 + 100),
        price_per_epoch: u128::from(c.padded_size),
        provider_collateral: 10,
        client_collateral: 0,
    };
    sign(client, proposal, payload)
}

pub fn sign(client: &Keypair, proposal: DealProposal, payload: Vec<u8>) -> Deal {
    let client_sig = client.sign(CLIENT_DEAL_DOMAIN, &proposal.to_bytes());
    Deal {
        signed: ClientDeal {
            proposal,
            client_key: client.public_key(),
            client_sig,
        },
        payload,
    }
}

pub async fn ask(c: &Client, to: &(PeerId, Vec<Multiaddr>), req: DealRequest) -> DealResponse {
    c.deal(to.0, to.1.clone(), req)
        .await
        .unwrap_or_else(|e| panic!("deal request: {e}"))
}

pub async fn ask_epoch(c: &Client, to: &(PeerId, Vec<Multiaddr>)) -> u64 {
    match ask(c, to, DealRequest::Ask).await {
        DealResponse::Ask(a) => a.epoch.0,
        other => panic!("{other:?}"),
    }
}

/// Proposes `d` to `to`, sends its bytes and returns the provider's
/// countersignature.
pub async fn take_deal(c: &Client, to: &(PeerId, Vec<Multiaddr>), d: &Deal) -> Signature {
    let id = d.signed.id();
    ask(c, to, DealRequest::Propose(d.signed.clone())).await;
    ask(
        c,
        to,
        DealRequest::Push {
            deal: id,
            offset: 0,
            data: d.payload.clone(),
        },
    )
    .await;
    match ask(c, to, DealRequest::Finish { deal: id }).await {
        DealResponse::Signed { provider_sig, .. } => provider_sig,
        other => panic!("deal {id} not countersigned: {other:?}"),
    }
}

/// Publishes `d`, countersigned with `provider_sig`, from its client.
pub async fn publish(net: &Testnet, client: &Keypair, d: &Deal, provider_sig: Signature) {
    net.ok(
        client,
        TxBody::PublishDeals {
            deals: vec![SignedDeal {
                proposal: d.signed.proposal.clone(),
                client_key: client.public_key(),
                client_sig: d.signed.client_sig,
                provider_sig,
            }],
            manifest: None,
        },
    )
    .await;
}

/// Rewrites `key = …` lines of the node's `config.toml` to `key = value`
/// (`value` as TOML writes it: `true`, `90`, `"path"`).
pub fn set_config(home: &Path, settings: &[(&str, &str)]) {
    let config = home.join("config.toml");
    let text: String = std::fs::read_to_string(&config)
        .unwrap()
        .lines()
        .map(|l| {
            let key = l.split_once(" = ").map(|(k, _)| k);
            match settings.iter().find(|(k, _)| Some(*k) == key) {
                Some((k, v)) => format!("{k} = {v}"),
                None => l.to_owned(),
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(&config, text).unwrap();
}

/// Waits until the node's owner has `amount` of free escrow (the node
/// deposits it for its deals' collateral).
pub async fn escrow_deposited(net: &Testnet, owner: &Keypair, node: &Proc, amount: u128) {
    poll("escrow deposited", 30, node, || async {
        let a = net.ledger.account(&owner.address()).await.unwrap();
        (a.escrow.free >= amount).then_some(())
    })
    .await;
}

/// A libp2p client for talking to nodes.
pub fn p2p_client() -> Client {
    Client::spawn(
        libp2p::identity::Keypair::generate_ed25519(),
        std::time::Duration::from_secs(20),
    )
    .unwrap()
}

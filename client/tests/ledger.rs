//! `cairn wallet`, `cairn market` and `cairn chain` against a real
//! one-validator testnet: real `cairn-validator` and `cairn` processes,
//! transactions signed by the CLI and finalized by consensus.
//!
//! `cairn-validator` belongs to the cairn-deal-market package, whose binary
//! cargo does not build for this package's tests. It is taken from
//! `$CAIRN_VALIDATOR_BIN`, else from beside this test's own executable
//! (target/debug/), where `cargo test --workspace` (scripts/test.sh) or
//! `cargo build -p cairn-deal-market --bin cairn-validator` puts it.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

fn validator_bin() -> PathBuf {
    // target/debug/deps/ledger-HASH -> target/debug/cairn-validator
    let bin = match std::env::var_os("CAIRN_VALIDATOR_BIN") {
        Some(p) => PathBuf::from(p),
        None => std::env::current_exe()
            .ok()
            .and_then(|exe| Some(exe.parent()?.parent()?.join("cairn-validator")))
            .unwrap_or_default(),
    };
    assert!(
        bin.is_file(),
        "cairn-validator not found at {}: build it first with \
         `cargo build -p cairn-deal-market --bin cairn-validator` (same CARGO_TARGET_DIR), \
         run `cargo test --workspace`, or set CAIRN_VALIDATOR_BIN",
        bin.display()
    );
    bin
}

/// The validator process; killed when dropped.
struct Validator(Child);

impl Drop for Validator {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn cairn(ledger: &str, wallet: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cairn"))
        .args(args)
        .env_remove("CAIRN_CONFIG")
        .env("HOME", wallet.parent().unwrap_or(Path::new("/nonexistent")))
        .env("CAIRN_LEDGER", ledger)
        .env("CAIRN_WALLET", wallet)
        .output()
        .unwrap_or_else(|e| panic!("running cairn: {e}"))
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn ok_json(ledger: &str, wallet: &Path, args: &[&str]) -> Value {
    let out = cairn(ledger, wallet, args);
    assert!(
        out.status.success(),
        "cairn {args:?} failed: {}",
        text(&out.stderr)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("cairn {args:?}: not JSON ({e}): {}", text(&out.stdout)))
}

fn amount(v: &Value) -> u128 {
    v.as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not a decimal amount: {v}"))
}

/// (balance, nonce, escrow free, escrow locked) of ADDRESS.
fn account(ledger: &str, wallet: &Path, address: &str) -> (u128, u64, u128, u128) {
    let v = ok_json(ledger, wallet, &["wallet", "balance", address, "--json"]);
    (
        amount(&v["balance"]),
        v["nonce"].as_u64().unwrap_or(u64::MAX),
        amount(&v["escrow"]["free"]),
        amount(&v["escrow"]["locked"]),
    )
}

#[test]
fn wallet_market_and_chain_commands_against_a_one_validator_testnet() {
    let started = Instant::now();
    let bin = validator_bin();
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let net = dir.path().join("net");
    let out = Command::new(&bin)
        .args(["testnet", "--validators", "1", "--free-ports"])
        .args(["--sector-sizes", "none", "--dir"])
        .arg(&net)
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", bin.display()));
    assert!(out.status.success(), "testnet: {}", text(&out.stderr));
    let home = net.join("0");
    let read_json = |p: &Path| -> Value {
        let bytes = std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
    };
    let config = read_json(&home.join("validator.json"));
    let ledger = format!(
        "http://{}",
        config["api_listen"].as_str().unwrap_or_default()
    );
    let accounts = read_json(&net.join("accounts.json"));
    let (demo_addr, demo_secret, demo_balance) = (
        accounts[0]["address"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        accounts[0]["secret_key"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        amount(&accounts[0]["balance"]),
    );
    let (a, b) = (dir.path().join("a.json"), dir.path().join("b.json"));

    // Before the validator runs, the CLI says so by URL.
    let down = cairn(&ledger, &a, &["chain", "status"]);
    assert!(!down.status.success());
    assert!(
        text(&down.stderr).contains(&format!("validator at {ledger} is unreachable")),
        "{}",
        text(&down.stderr)
    );

    let log = std::fs::File::create(dir.path().join("validator.log"))
        .unwrap_or_else(|e| panic!("validator log: {e}"));
    let _validator = Validator(
        Command::new(&bin)
            .args(["run", "--home"])
            .arg(&home)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("starting the validator: {e}")),
    );
    let validator_log =
        || std::fs::read_to_string(dir.path().join("validator.log")).unwrap_or_default();

    // Ready once it has finalized a block.
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        let out = cairn(&ledger, &a, &["chain", "status", "--json"]);
        if out.status.success() {
            let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
            if v["height"].as_u64().is_some_and(|h| h >= 1) {
                break v;
            }
        }
        assert!(
            Instant::now() < deadline,
            "no finalized block within 60 s; last: {}\n{}",
            text(&out.stderr),
            validator_log()
        );
        std::thread::sleep(Duration::from_millis(300));
    };
    assert_eq!(status["validators"].as_u64(), Some(1), "{status}");
    assert_eq!(
        status["state_root"].as_str().map(str::len),
        Some(64),
        "{status}"
    );
    eprintln!("validator ready after {:?}", started.elapsed());

    // A: the demo account, imported; B: a new key.
    let imported = ok_json(
        &ledger,
        &a,
        &["wallet", "import", "--secret-key", &demo_secret, "--json"],
    );
    assert_eq!(imported["address"].as_str(), Some(demo_addr.as_str()));
    let created = ok_json(&ledger, &b, &["wallet", "new", "--json"]);
    let b_addr = created["address"].as_str().unwrap_or_default().to_owned();
    assert_eq!(b_addr.len(), 40);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&b).map(|m| m.permissions().mode() & 0o777);
        assert_eq!(mode.ok(), Some(0o600));
    }
    let again = cairn(&ledger, &b, &["wallet", "new"]);
    assert!(!again.status.success(), "a second `wallet new` overwrote");
    let shown = ok_json(&ledger, &b, &["wallet", "show", "--json"]);
    assert_eq!(shown["address"].as_str(), Some(b_addr.as_str()));
    // The secret stays in the file.
    let secret = read_json(&b)["secret_key"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert_eq!(secret.len(), 64);
    let human = cairn(&ledger, &b, &["wallet", "show"]);
    assert!(text(&human.stdout).contains(&b_addr));
    assert!(!text(&human.stdout).contains(&secret) && !shown.to_string().contains(&secret));

    // A sends 1000 to B.
    let receipt = ok_json(&ledger, &a, &["wallet", "send", &b_addr, "1000", "--json"]);
    assert_eq!(receipt["ok"].as_bool(), Some(true), "{receipt}");
    assert!(receipt["height"].as_u64().is_some(), "{receipt}");
    assert_eq!(receipt["events"][0]["kind"], "Transferred", "{receipt}");
    assert_eq!(account(&ledger, &a, &b_addr), (1000, 0, 0, 0));
    assert_eq!(
        account(&ledger, &a, &demo_addr),
        (demo_balance - 1000, 1, 0, 0)
    );
    // Without ADDRESS, the wallet's own account.
    let own = ok_json(&ledger, &b, &["wallet", "balance", "--json"]);
    assert_eq!(own["address"].as_str(), Some(b_addr.as_str()));

    // B moves 300 into escrow and takes 100 back.
    let added = ok_json(&ledger, &b, &["market", "escrow", "add", "300", "--json"]);
    assert_eq!(added["events"][0]["kind"], "EscrowAdded", "{added}");
    let human = cairn(&ledger, &b, &["market", "escrow", "withdraw", "100"]);
    assert!(human.status.success(), "{}", text(&human.stderr));
    assert!(
        text(&human.stdout).contains("EscrowWithdrawn amount=100"),
        "{}",
        text(&human.stdout)
    );
    assert_eq!(account(&ledger, &a, &b_addr), (800, 2, 200, 0));

    // More than the balance: refused with the ledger's reason, nothing moves.
    let refused = cairn(&ledger, &b, &["wallet", "send", &demo_addr, "5000"]);
    assert!(!refused.status.success());
    let err = text(&refused.stderr);
    assert!(
        err.contains("the ledger refused") && err.contains("800") && err.contains("5000"),
        "{err}"
    );
    let refused_escrow = cairn(&ledger, &b, &["market", "escrow", "withdraw", "201"]);
    assert!(!refused_escrow.status.success());
    assert!(
        text(&refused_escrow.stderr).contains("the ledger refused"),
        "{}",
        text(&refused_escrow.stderr)
    );
    assert_eq!(account(&ledger, &a, &b_addr), (800, 2, 200, 0));

    // Bad input is named.
    let bad = cairn(&ledger, &a, &["wallet", "send", "xyz", "1"]);
    assert!(
        text(&bad.stderr).contains("malformed address \"xyz\""),
        "{}",
        text(&bad.stderr)
    );
    let missing = cairn(
        &ledger,
        &dir.path().join("none.json"),
        &["wallet", "send", &b_addr, "1"],
    );
    assert!(
        !missing.status.success() && text(&missing.stderr).contains("cairn wallet new"),
        "{}",
        text(&missing.stderr)
    );

    let status = ok_json(&ledger, &a, &["chain", "status", "--json"]);
    assert!(
        status["height"].as_u64().is_some_and(|h| h >= 4),
        "{status}"
    );
    assert!(status["state_root"].is_string(), "{status}");
    assert_eq!(
        ok_json(&ledger, &b, &["market", "deals", "--json"]),
        Value::Array(vec![])
    );
    let by_provider = ok_json(
        &ledger,
        &b,
        &["market", "deals", "--provider", "0", "--json"],
    );
    assert_eq!(by_provider, Value::Array(vec![]));
    eprintln!("done after {:?}", started.elapsed());
}

//! Helpers the client's multi-process tests share: other packages'
//! binaries, child processes killed on drop, the `cairn` command.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use serde_json::Value;

/// `cairn-validator` or `cairn-node`: other packages' binaries, taken from
/// beside this test's executable (target/debug/), where `cargo test
/// --workspace` puts them, or from `env`.
pub fn sibling_bin(env: &str, name: &str) -> PathBuf {
    let bin = std::env::var_os(env).map(PathBuf::from).unwrap_or_else(|| {
        std::env::current_exe()
            .ok()
            .and_then(|exe| Some(exe.parent()?.parent()?.join(name)))
            .unwrap_or_default()
    });
    assert!(
        bin.is_file(),
        "{name} not found at {} (run `cargo test --workspace` or set {env})",
        bin.display()
    );
    bin
}

/// A child process with its log, killed when dropped.
pub struct Proc(pub Child, pub PathBuf);

impl Proc {
    pub fn spawn(cmd: &mut Command, log: PathBuf) -> Proc {
        let f = std::fs::File::create(&log).unwrap();
        Proc(cmd.stdout(Stdio::null()).stderr(f).spawn().unwrap(), log)
    }
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.1).unwrap_or_default()
    }
    pub fn kill(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill();
    }
}

pub fn read_json(p: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

pub fn cairn(args: &[&str], ledger: &str, wallet: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cairn"))
        .args(args)
        .env_remove("CAIRN_CONFIG")
        .env("CAIRN_LEDGER", ledger)
        .env("CAIRN_WALLET", wallet)
        .output()
        .unwrap()
}

pub fn ok(out: Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "{what} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

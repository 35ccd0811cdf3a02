//! Running the `cairn-proofs` binary as a user does: real processes, real
//! folders, output parsed from stdout and stderr.
#![allow(dead_code)]

pub mod porep_sector;
pub mod post_sector;

use std::io::{BufRead, BufReader};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::Duration;

use serde_json::Value;

pub fn fixture() -> Value {
    serde_json::from_str(include_str!(
        "../fixtures/fil-proofs-19.1.0-sdr-vectors.json"
    ))
    .unwrap()
}

/// The fixture's cases for sectors of `size` bytes.
pub fn cases(size: u64) -> Vec<Value> {
    fixture()["sector_sizes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["sector_size"].as_u64() == Some(size))
        .unwrap()["cases"]
        .as_array()
        .unwrap()
        .clone()
}

pub fn s<'a>(v: &'a Value, k: &str) -> &'a str {
    v[k].as_str().unwrap_or_else(|| panic!("{k} missing"))
}

pub fn p(path: &Path) -> String {
    path.to_str().unwrap().to_owned()
}

/// The payload a fixture case names, `len` bytes.
pub fn payload(kind: &str, len: usize) -> Vec<u8> {
    use rand_chacha::ChaCha20Rng;
    use rand_chacha::rand_core::{RngCore, SeedableRng};
    match kind {
        "zeros" => vec![0; len],
        "chacha20" => {
            let mut buf = vec![0; len];
            ChaCha20Rng::from_seed([0x5a; 32]).fill_bytes(&mut buf);
            buf
        }
        other => panic!("unknown data generation {other}"),
    }
}

/// `seal` arguments for a fixture case: its data written to `data`.
pub fn case_args(
    case: &Value,
    size: &str,
    unpadded: usize,
    data: &Path,
    work: &Path,
) -> Vec<String> {
    let inputs = &case["inputs"];
    std::fs::write(data, payload(s(inputs, "data"), unpadded)).unwrap();
    [
        "seal",
        "--sector-size",
        size,
        "--work",
        &p(work),
        "--data",
        &p(data),
        "--prover-id",
        s(inputs, "prover_id_hex"),
        "--sector-id",
        &inputs["sector_id"].as_u64().unwrap().to_string(),
        "--ticket",
        s(inputs, "ticket_hex"),
        "--seed",
        s(inputs, "seed_hex"),
        "--threads",
        "2",
    ]
    .map(str::to_owned)
    .to_vec()
}

pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_cairn-proofs"))
}

pub fn run(args: &[String]) -> Output {
    bin()
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("running cairn-proofs: {e}"))
}

/// Runs to completion and returns the JSON it printed.
pub fn ok(args: &[String]) -> Value {
    let out = run(args);
    assert!(
        out.status.success(),
        "cairn-proofs {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not one JSON object ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

/// Runs, expects failure, returns stderr.
pub fn fails(args: &[String]) -> String {
    let out = run(args);
    assert!(
        !out.status.success(),
        "cairn-proofs {args:?} should have failed; stdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

pub fn strs(v: &Value) -> Vec<&str> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap())
        .collect()
}

/// A running `cairn-proofs`, its stderr read line by line.
pub struct Running {
    child: Child,
    lines: Receiver<String>,
    seen: Vec<String>,
}

impl Running {
    pub fn start(args: &[String]) -> Self {
        let mut child = bin()
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { return };
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        Self {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// Blocks until a stderr line contains `needle`.
    pub fn wait_for(&mut self, needle: &str) {
        loop {
            match self.lines.recv_timeout(Duration::from_secs(120)) {
                Ok(line) => {
                    let hit = line.contains(needle);
                    self.seen.push(line);
                    if hit {
                        return;
                    }
                }
                Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => {
                    panic!("no line with {needle:?}; stderr so far: {:#?}", self.seen)
                }
            }
        }
    }

    /// SIGKILLs the process, checking that it was still running.
    pub fn kill(mut self) -> Vec<String> {
        self.child.kill().unwrap();
        let status = self.child.wait().unwrap();
        assert_eq!(
            status.signal(),
            Some(9),
            "the process ended on its own ({status}) before the kill; stderr: {:#?}",
            self.seen
        );
        self.seen
    }
}

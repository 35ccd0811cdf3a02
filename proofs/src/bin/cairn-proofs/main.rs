//! `cairn-proofs`: seal one sector end to end, resumably (`seal`), and time
//! every sealing phase (`seal-bench`).
//!
//! - [`journal`]: the `seal` command, its journal folder and how a rerun
//!   resumes after a crash; [`job`]: the journal's record of a seal's inputs;
//! - [`bench`]: the `seal-bench` command;
//! - [`data`]: the sector's payload (a file, or a seeded ChaCha20 stream)
//!   and staging it as one piece;
//! - [`machine`]: what `/proc` says about the machine and the process.
//!
//! Results go to stdout as one JSON object (or, for `seal-bench` without
//! `--json`, a table); progress goes to stderr.

mod bench;
mod data;
mod job;
mod journal;
mod machine;

use std::fmt;
use std::str::FromStr;

use clap::{Parser, Subcommand};

/// Filecoin sealing, byte-identical to rust-fil-proofs 19.1.0.
#[derive(Debug, Parser)]
#[command(name = "cairn-proofs", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Seal one sector: stage the data, PreCommit 1 and 2, Commit 1, verify.
    /// Every phase is journalled in --work; rerun the same command after a
    /// crash to resume.
    Seal(journal::SealArgs),
    /// Time every phase of sealing and proving one sector of random data.
    SealBench(bench::BenchArgs),
}

/// 32 bytes given in hex on the command line (prover id, ticket, seed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Hex32(pub [u8; 32]);

impl FromStr for Hex32 {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.strip_prefix("0x").unwrap_or(s);
        let bytes = hex::decode(s).map_err(|e| format!("not hex: {e}"))?;
        let n = bytes.len();
        bytes
            .try_into()
            .map(Hex32)
            .map_err(|_| format!("{n} bytes, expected 32 (64 hex digits)"))
    }
}

impl fmt::Display for Hex32 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

/// Worker threads: `--threads`, else every core.
pub fn threads(arg: Option<usize>) -> usize {
    arg.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1)
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Seal(args) => journal::run(&args),
        Command::SealBench(args) => bench::run(&args),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

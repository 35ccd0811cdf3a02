//! CommP reference vectors from filecoin-proofs 19.1.0 for awkward payload
//! sizes, written as JSON to stdout (committed as
//! `proofs/tests/fixtures/commp-awkward-vectors.json`).
//!
//! A payload of any length becomes a piece the way Filecoin clients make
//! one: zero-extended to the next unpadded piece size 127 × 2^k (at least
//! 127), then `generate_piece_commitment` over those bytes. Payloads: all
//! zeros, and ChaCha20 bytes (rand_chacha 0.3, `ChaCha20Rng::from_seed([0x5a;
//! 32])`, one `fill_bytes` over the payload length).
//!
//! ```sh
//! cd compat && CARGO_TARGET_DIR=$HOME/.cache/cairn/compat-target \
//!   cargo run --release --bin commp_vectors > ../proofs/tests/fixtures/commp-awkward-vectors.json
//! ```

use std::io::Cursor;

use filecoin_proofs::{UnpaddedBytesAmount, generate_piece_commitment};
use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};
use serde_json::json;

fn piece_unpadded(len: u64) -> u64 {
    let mut size = 127u64;
    while size < len {
        size *= 2;
    }
    size
}

fn main() -> anyhow::Result<()> {
    const MIB: u64 = 1 << 20;
    let lens = [
        65u64,
        126,
        127,
        128,
        254,
        255,
        1016,
        1017,
        2032,
        MIB - 1,
        MIB,
        MIB + 1,
        1_040_384, // 127 × 8192: exactly one 1 MiB padded piece
        1_040_385,
    ];
    let mut cases = Vec::new();
    for kind in ["zeros", "chacha20"] {
        for &len in &lens {
            let mut payload = vec![0u8; len as usize];
            if kind == "chacha20" {
                ChaCha20Rng::from_seed([0x5a; 32]).fill_bytes(&mut payload);
            }
            let unpadded = piece_unpadded(len);
            let mut piece = payload.clone();
            piece.resize(unpadded as usize, 0);
            let info =
                generate_piece_commitment(Cursor::new(piece), UnpaddedBytesAmount(unpadded))?;
            cases.push(json!({
                "data": kind,
                "payload_len": len,
                "unpadded_piece_size": unpadded,
                "padded_piece_size": unpadded / 127 * 128,
                "comm_p_hex": hex::encode(info.commitment),
            }));
        }
    }
    let doc = json!({
        "about": {
            "generator": "compat/src/bin/commp_vectors.rs: filecoin-proofs 19.1.0 generate_piece_commitment (default-features = false)",
            "piece": "payload zero-extended to the next 127 x 2^k bytes (at least 127), as Filecoin clients pad a payload into a piece",
            "chacha20": "rand_chacha 0.3.1 ChaCha20Rng::from_seed([0x5a; 32]), one fill_bytes over payload_len bytes",
            "date": "2026-11-25",
        },
        "cases": cases,
    });
    println!("{}", serde_json::to_string_pretty(&doc)?);
    Ok(())
}

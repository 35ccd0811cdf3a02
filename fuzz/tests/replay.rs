//! Replays every committed corpus file through its target, on stable and
//! without libFuzzer: `cd fuzz && cargo test`. A missing or empty corpus
//! directory fails, so a lost corpus cannot pass unnoticed.
//!
//! `cargo test -- --ignored make_seed_corpus` rewrites the generated seeds
//! (see `seeds/mod.rs`); files libFuzzer added are left alone.

mod seeds;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;

fn corpus_dir(target: &str) -> PathBuf {
    let dir = std::env::var("CARGO_MANIFEST_DIR")
        .unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").to_owned());
    PathBuf::from(dir).join("corpus").join(target)
}

fn replay(target: &str, run: fn(&[u8])) {
    let dir = corpus_dir(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("corpus {}: {e}", dir.display()))
        .map(|entry| {
            entry
                .unwrap_or_else(|e| panic!("corpus {}: {e}", dir.display()))
                .path()
        })
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "corpus {} is empty", dir.display());
    let mut failed = Vec::new();
    let verbose = std::env::var_os("CAIRN_FUZZ_VERBOSE").is_some_and(|v| v != "0");
    for file in &files {
        let data = std::fs::read(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        if verbose {
            eprintln!("{target}: {}", file.display());
        }
        if catch_unwind(AssertUnwindSafe(|| run(&data))).is_err() {
            failed.push(file.display().to_string());
        }
    }
    assert!(
        failed.is_empty(),
        "{target}: {} of {} inputs failed:\n{}",
        failed.len(),
        files.len(),
        failed.join("\n")
    );
}

#[test]
fn ledger_tx() {
    replay("ledger_tx", cairn_fuzz::ledger_tx);
}

#[test]
fn groth16_keys() {
    replay("groth16_keys", cairn_fuzz::groth16_keys);
}

#[test]
fn groth16_proof() {
    replay("groth16_proof", cairn_fuzz::groth16_proof);
}

#[test]
fn car_reader() {
    replay("car_reader", cairn_fuzz::car_reader);
}

#[test]
fn dag_pb() {
    replay("dag_pb", cairn_fuzz::dag_pb);
}

#[test]
fn cid_parse() {
    replay("cid_parse", cairn_fuzz::cid_parse);
}

#[test]
fn s3_request() {
    replay("s3_request", cairn_fuzz::s3_request);
}

#[test]
fn proofs_phase_outputs() {
    replay("proofs_phase_outputs", cairn_fuzz::proofs_phase_outputs);
}

#[test]
fn porep_proof() {
    replay("porep_proof", cairn_fuzz::porep_proof);
}

#[test]
fn post_proof() {
    replay("post_proof", cairn_fuzz::post_proof);
}

#[test]
fn piece_cid() {
    replay("piece_cid", cairn_fuzz::piece_cid);
}

/// The proof targets accept only the fixtures' proofs; that oracle is empty
/// unless the fixtures verify, so check that they do, and that a proof
/// from another seed or another randomness does not.
#[test]
fn proof_fixtures_verify() {
    use cairn_fuzz::proofs_fixture::{self, POST_PROOF};
    use cairn_proofs::challenges::PostRandomness;
    use cairn_proofs::{porep, post};

    let fx = proofs_fixture::porep();
    porep::verify(&fx.public, &fx.commit1.partitions)
        .unwrap_or_else(|e| panic!("PoRep fixture: {e}"));
    let mut other_seed = fx.public;
    other_seed.seed[0] ^= 1;
    assert!(
        porep::verify(&other_seed, &fx.commit1.partitions).is_err(),
        "PoRep fixture verifies for another seed"
    );

    let fx = proofs_fixture::post();
    assert_eq!(
        fx.public.len(),
        POST_PROOF.sector_count(),
        "WindowPoSt fixture: one full partition"
    );
    post::verify(POST_PROOF, &fx.randomness, &fx.public, &fx.proof)
        .unwrap_or_else(|e| panic!("WindowPoSt fixture: {e}"));
    let mut other = proofs_fixture::POST_RANDOMNESS;
    other[0] ^= 1;
    let other = PostRandomness::from_chain(other);
    assert!(
        post::verify(POST_PROOF, &other, &fx.public, &fx.proof).is_err(),
        "WindowPoSt fixture verifies for other randomness"
    );
}

#[test]
fn every_target_is_replayed() {
    // A new target must get a corpus and a test above.
    let names: Vec<&str> = cairn_fuzz::TARGETS.iter().map(|(name, _)| *name).collect();
    assert_eq!(
        names,
        [
            "car_reader",
            "dag_pb",
            "cid_parse",
            "s3_request",
            "proofs_phase_outputs",
            "porep_proof",
            "post_proof",
            "piece_cid",
            "groth16_proof",
            "groth16_keys",
            "ledger_tx",
            "validator_block",
            "p2p_messages"
        ]
    );
    for name in names {
        assert!(corpus_dir(name).is_dir(), "no corpus directory for {name}");
    }
}

#[test]
fn validator_block() {
    replay("validator_block", cairn_fuzz::validator_block);
}

#[test]
fn p2p_messages() {
    replay("p2p_messages", cairn_fuzz::p2p_messages);
}

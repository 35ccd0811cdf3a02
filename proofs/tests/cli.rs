//! The `cairn-proofs` binary as a user runs it: `seal` gives filecoin-proofs
//! 19.1.0's CommD, CommR and their CIDs (2 KiB fixture cases, data from a
//! file), `--random-seed` is the documented ChaCha20 stream, short data is
//! zero-filled, bad arguments are refused, and `seal-bench` reports every
//! step. Crashes and resuming: `crash.rs`.

mod common;

use std::fs;

use cairn_proofs::commp::commp;
use cairn_proofs::pieces::{self, PieceInfo};
use common::{case_args, cases, fails, ok, p, s, strs};
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::{RngCore, SeedableRng};

#[test]
fn seal_matches_filecoin_proofs_2kib() {
    let dir = tempfile::tempdir().unwrap();
    for case in cases(2048) {
        let name = s(&case, "name");
        let work = dir.path().join(format!("work-{name}"));
        let data = dir.path().join(format!("data-{name}"));
        let out = ok(&case_args(&case, "2KiB", 2032, &data, &work));
        assert_eq!(out["comm_r"], case["comm_r_hex"], "case {name}: CommR");
        assert_eq!(
            out["comm_r_cid"], case["comm_r_cid"],
            "case {name}: CommR CID"
        );
        assert_eq!(out["comm_d"], case["comm_d_hex"], "case {name}: CommD");
        assert_eq!(
            out["comm_d_cid"], case["comm_d_cid"],
            "case {name}: CommD CID"
        );
        assert_eq!(
            out["piece"]["cid"], case["piece"]["piece_cid"],
            "case {name}: piece"
        );
        assert_eq!(out["verified"], true);
        assert_eq!(strs(&out["run"]), ["stage", "pc1", "pc2", "c1", "verify"]);
        assert!(strs(&out["resumed"]).is_empty());
        // What the journal names, and PC1 and PC2's steps, timed.
        for f in ["job.json", "pc1.bin", "pc2.bin", "c1.bin"] {
            assert!(work.join("journal").join(f).is_file(), "{f}");
        }
        for step in ["tree_d", "labels"] {
            assert!(out["phases"]["pc1"]["steps"][step].is_f64(), "{step}");
        }
        for step in ["tree_c", "encode", "tree_r_last"] {
            assert!(out["phases"]["pc2"]["steps"][step].is_f64(), "{step}");
        }
    }
}

#[test]
fn random_seed_is_seed_from_u64_chacha20_and_short_data_is_zero_filled() {
    let dir = tempfile::tempdir().unwrap();
    let args = |work: &str, extra: &[&str]| -> Vec<String> {
        let mut a = vec!["seal", "--sector-size", "2KiB", "--sector-id", "3"]
            .into_iter()
            .map(str::to_owned)
            .collect::<Vec<_>>();
        a.extend(["--work".into(), p(&dir.path().join(work))]);
        a.extend(extra.iter().map(|x| (*x).to_owned()));
        a
    };
    let random = ok(&args("r", &["--random-seed", "5"]));
    let mut bytes = vec![0u8; 2032];
    ChaCha20Rng::seed_from_u64(5).fill_bytes(&mut bytes);
    let file = dir.path().join("same-bytes");
    fs::write(&file, &bytes).unwrap();
    let from_file = ok(&args("f", &["--data", &p(&file)]));
    assert_eq!(random["comm_r"], from_file["comm_r"]);
    assert_eq!(random["piece"]["payload_bytes"], 2032);
    let other = ok(&args("o", &["--random-seed", "6"]));
    assert_ne!(other["comm_r"], random["comm_r"]);

    // 1000 bytes: a 1024-byte piece, then zeros; CommD from the piece.
    let short = dir.path().join("short");
    fs::write(&short, &bytes[..1000]).unwrap();
    let out = ok(&args("s", &["--data", &p(&short)]));
    let c = commp(&bytes[..1000]).unwrap();
    assert_eq!(c.padded_size, 1024);
    let comm_d = pieces::comm_d(2048, &[PieceInfo::new(c.comm_p, 1024).unwrap()]).unwrap();
    assert_eq!(out["comm_d"], hex::encode(comm_d));
    assert_eq!(out["piece"]["padded_size"], 1024);
    assert_eq!(out["verified"], true);
}

#[test]
fn bad_arguments_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let w = p(&dir.path().join("w"));
    let big = dir.path().join("big");
    fs::write(&big, vec![1u8; 2033]).unwrap();
    for (args, want) in [
        (vec!["--sector-size", "3KiB"], "3KiB"),
        (
            vec!["--sector-size", "2KiB", "--ticket", "abcd"],
            "2 bytes, expected 32",
        ),
        (vec!["--sector-size", "2KiB", "--seed", "zz"], "not hex"),
        (
            vec![
                "--sector-size",
                "2KiB",
                "--data",
                &p(&big),
                "--random-seed",
                "1",
            ],
            "cannot be used with",
        ),
        (
            vec!["--sector-size", "2KiB", "--data", &p(&big)],
            "at most 2032",
        ),
        (
            vec![
                "--sector-size",
                "2KiB",
                "--data",
                &p(&dir.path().join("none")),
            ],
            "--data",
        ),
    ] {
        let mut a: Vec<String> = vec!["seal".into(), "--work".into(), w.clone()];
        a.extend(args.iter().map(|x| (*x).to_owned()));
        let err = fails(&a);
        assert!(err.contains(want), "{args:?}: {err}");
    }
}

#[test]
fn seal_bench_reports_every_step_2kib() {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("bench");
    let out = ok(&[
        "seal-bench".into(),
        "--sector-size".into(),
        "2KiB".into(),
        "--work".into(),
        p(&work),
        "--threads".into(),
        "2".into(),
        "--json".into(),
    ]);
    let names: Vec<&str> = out["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "add_piece",
            "pc1.parent_cache_generate",
            "pc1.tree_d",
            "pc1.parent_cache_lookup",
            "pc1.labels",
            "pc1.layer_digests",
            "pc2.check_cache",
            "pc2.tree_c",
            "pc2.encode",
            "pc2.tree_r_last",
            "c1",
            "porep.verify",
            "params.porep",
            "c2.synthesis",
            "c2.fft",
            "c2.msm",
            "verify",
            "post.prove",
            "post.verify",
            "params.window_post",
            "post.snark",
            "post.snark_verify",
        ]
    );
    // The fixed keys scripts read.
    assert_eq!(out["sector_size"], 2048);
    for k in [
        "params",
        "add_piece",
        "pc1",
        "pc2",
        "c1",
        "c2",
        "verify",
        "window_post_prove",
        "window_post_verify",
    ] {
        assert!(out["phases"][k].as_f64().unwrap() >= 0.0, "{k}");
        assert!(out["peak_rss_bytes"][k].as_u64().is_some(), "{k}");
    }
    assert_eq!(out["constraints"]["porep"], 2_698_162);
    assert_eq!(out["constraints"]["window_post"], 16_270);
    assert_eq!(out["proof_bytes"]["porep"], 192);
    assert_eq!(out["proof_bytes"]["window_post"], 192);
    assert_eq!(out["verified"], true);
    for r in out["steps"].as_array().unwrap() {
        assert!(r["seconds"].as_f64().unwrap() >= 0.0);
        assert!(r["peak_rss_kib"].as_u64().unwrap() > 0, "{r}");
    }
    assert!(out["totals_seconds"]["pc1"].as_f64().unwrap() > 0.0);
    assert!(out["peak_rss_kib"].as_u64().unwrap() > 0);
    assert!(!out["machine"]["cpu"].as_str().unwrap().is_empty());
    assert!(out["machine"]["cores"].as_u64().unwrap() >= 1);
    // --work is kept; without it the temporary folder goes away.
    assert!(work.join("sealed").is_file());
    let table = common::run(&["seal-bench".into(), "--sector-size".into(), "2KiB".into()]);
    assert!(table.status.success());
    let text = String::from_utf8_lossy(&table.stdout);
    for want in [
        "pc1.labels",
        "post.verify",
        "= seal",
        "peak RSS",
        "machine:",
    ] {
        assert!(text.contains(want), "{want} missing from {text}");
    }
}

//! Crashing the real `cairn-proofs seal` process and resuming it.
//!
//! The CommR every crashed-and-resumed seal must reach is filecoin-proofs
//! 19.1.0's for the same inputs (`fixtures/fil-proofs-19.1.0-sdr-vectors.json`,
//! case B), which an uninterrupted `seal` also gives (`cli.rs`).
//!
//! - 2 KiB, every run: SIGKILL between phases (the hidden `--pause-after`
//!   holds the process right after a journal entry is written), damaged
//!   journal entries and cache files (refused, the phase reruns), and
//!   folders journalled for another seal (refused by name).
//! - 8 MiB, `#[ignore]` (run by `.ci/full`, ~15 s on 2 busy cores):
//!   SIGKILL in the middle of PreCommit 1's labelling and in the middle of
//!   PreCommit 2's tree_c, then a rerun to completion.

mod common;

use std::fs;
use std::path::Path;

use common::{Running, case_args, cases, fails, ok, p, strs};
use serde_json::Value;

fn case_b(size: u64) -> Value {
    cases(size).into_iter().find(|c| c["name"] == "B").unwrap()
}

fn with(args: &[String], extra: &[&str]) -> Vec<String> {
    let mut a = args.to_vec();
    a.extend(extra.iter().map(|x| (*x).to_owned()));
    a
}

/// `args` with `flag`'s value replaced.
fn replace(args: &[String], flag: &str, value: &str) -> Vec<String> {
    let mut a = args.to_vec();
    let i = a.iter().position(|x| x == flag).unwrap();
    a[i + 1] = value.to_owned();
    a
}

fn journal(work: &Path, name: &str) -> std::path::PathBuf {
    work.join("journal").join(name)
}

#[test]
fn killed_between_phases_2kib_resumes_to_the_same_comm_r() {
    let case = case_b(2048);
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("work");
    let args = case_args(&case, "2KiB", 2032, &dir.path().join("data"), &work);

    // Killed right after each journal entry is written, before the next
    // phase starts: each rerun resumes one phase further.
    for (phase, entry) in [
        ("stage", "job.json"),
        ("pc1", "pc1.bin"),
        ("pc2", "pc2.bin"),
    ] {
        let mut run = Running::start(&with(&args, &["--pause-after", phase]));
        run.wait_for(&format!("paused after {phase}"));
        run.kill();
        assert!(journal(&work, entry).is_file(), "{entry} after {phase}");
    }
    assert!(!journal(&work, "c1.bin").exists());
    let out = ok(&args);
    assert_eq!(strs(&out["resumed"]), ["stage", "pc1", "pc2"]);
    assert_eq!(strs(&out["run"]), ["c1", "verify"]);
    assert_eq!(out["comm_r"], case["comm_r_hex"]);
    assert_eq!(out["comm_r_cid"], case["comm_r_cid"]);

    // Everything journalled: a rerun only verifies.
    let out = ok(&args);
    assert_eq!(strs(&out["resumed"]), ["stage", "pc1", "pc2", "c1"]);
    assert_eq!(strs(&out["run"]), ["verify"]);
    assert_eq!(out["comm_r"], case["comm_r_hex"]);
}

/// Each damage is refused by the check named, the damaged phase and all
/// after it rerun, and the CommR comes out the same.
#[test]
fn damaged_journal_entries_and_cache_files_are_refused_and_redone() {
    let case = case_b(2048);
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("work");
    let args = case_args(&case, "2KiB", 2032, &dir.path().join("data"), &work);
    ok(&args);

    type Damage = fn(&Path);
    let rows: [(&str, Damage, &str, &[&str]); 5] = [
        (
            "a flipped byte in pc2.bin",
            |w| {
                let path = journal(w, "pc2.bin");
                let mut b = fs::read(&path).unwrap();
                b[40] ^= 0x01;
                fs::write(path, b).unwrap();
            },
            "checksum",
            &["pc2", "c1", "verify"],
        ),
        (
            "a torn pc1.bin (half of it)",
            |w| {
                let path = journal(w, "pc1.bin");
                let b = fs::read(&path).unwrap();
                fs::write(path, &b[..b.len() / 2]).unwrap();
            },
            "checksum",
            &["pc1", "pc2", "c1", "verify"],
        ),
        (
            "a flipped byte in c1.bin",
            |w| {
                let path = journal(w, "c1.bin");
                let mut b = fs::read(&path).unwrap();
                b[1000] ^= 0x80;
                fs::write(path, b).unwrap();
            },
            "checksum",
            &["c1", "verify"],
        ),
        (
            "a damaged label layer (pc1.bin stale)",
            |w| {
                let path = w.join("cache").join("sc-02-data-layer-2.dat");
                let mut b = fs::read(&path).unwrap();
                b[2047] ^= 0x01;
                fs::write(path, b).unwrap();
            },
            "sc-02-data-layer-2.dat",
            &["pc1", "pc2", "c1", "verify"],
        ),
        (
            "an edited job.json",
            |w| {
                let path = journal(w, "job.json");
                let text = fs::read_to_string(&path).unwrap();
                fs::write(
                    path,
                    text.replacen("\"padded_size\": 2048", "\"padded_size\": 1024", 1),
                )
                .unwrap();
            },
            "checksum",
            &["stage", "verify"],
        ),
    ];
    for (what, damage, named, reran) in rows {
        damage(&work);
        let out = ok(&args);
        let discarded = out["discarded"].as_array().unwrap();
        assert_eq!(discarded.len(), 1, "{what}: {discarded:?}");
        let why = discarded[0]["why"].as_str().unwrap();
        assert!(why.contains(named), "{what}: refused because {why:?}");
        assert_eq!(strs(&out["run"]), reran, "{what}");
        assert_eq!(out["comm_r"], case["comm_r_hex"], "{what}");
    }

    // A missing replica: PC2 is redone.
    fs::remove_file(work.join("sealed")).unwrap();
    let out = ok(&args);
    assert_eq!(out["discarded"][0]["entry"], "journal/pc2.bin");
    assert_eq!(strs(&out["run"]), ["pc2", "c1", "verify"]);
    assert_eq!(out["comm_r"], case["comm_r_hex"]);
}

#[test]
fn a_folder_journalled_for_another_seal_is_refused_by_name() {
    let case = case_b(2048);
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("work");
    let data = dir.path().join("data");
    let args = case_args(&case, "2KiB", 2032, &data, &work);
    // Paused after PC1: a second seal in the same folder is refused while
    // the first lives; then the first is killed, and the refusals below
    // come from a half-done folder.
    let mut run = Running::start(&with(&args, &["--pause-after", "pc1"]));
    run.wait_for("paused after pc1");
    let err = fails(&args);
    assert!(
        err.contains("another cairn-proofs seal is using this --work folder"),
        "{err}"
    );
    run.kill();
    let before: Vec<Vec<u8>> = ["job.json", "pc1.bin"]
        .iter()
        .map(|f| fs::read(journal(&work, f)).unwrap())
        .collect();

    let set = |flag: &str, value: &str| replace(&args, flag, value);
    let other_data = dir.path().join("other");
    let mut bytes = fs::read(&data).unwrap();
    bytes[100] ^= 1;
    fs::write(&other_data, &bytes).unwrap();
    for (args, want) in [
        (
            set("--sector-id", "8"),
            "sector id: the journal has 7, the arguments give 8",
        ),
        (
            set("--sector-size", "8MiB"),
            "sector size: the journal has 2KiB (StackedDrg2KiBV1_1), the arguments give 8MiB",
        ),
        (set("--prover-id", &"ab".repeat(32)), "prover id"),
        (set("--ticket", &"33".repeat(32)), "ticket"),
        (set("--seed", &"44".repeat(32)), "seed"),
        // Same length, one byte different: told apart by CommP.
        (
            set("--data", &p(&other_data)),
            "data: the journal's piece has CommP",
        ),
    ] {
        let err = fails(&args);
        assert!(err.contains(want), "{want}: {err}");
        assert!(err.contains("journal/job.json"), "{err}");
    }
    // Refusing touched nothing: the right arguments still resume.
    for (f, b) in ["job.json", "pc1.bin"].iter().zip(&before) {
        assert_eq!(&fs::read(journal(&work, f)).unwrap(), b, "{f}");
    }
    // Moving the data file does not make it other data.
    let moved = dir.path().join("moved");
    fs::rename(&data, &moved).unwrap();
    let out = ok(&set("--data", &p(&moved)));
    assert_eq!(strs(&out["resumed"]), ["stage", "pc1"]);
    assert_eq!(out["comm_r"], case["comm_r_hex"]);

    // With job.json lost, pc1.bin still says which sector it is for.
    fs::remove_file(journal(&work, "job.json")).unwrap();
    let err = fails(&replace(&set("--data", &p(&moved)), "--sector-id", "9"));
    assert!(
        err.contains("journal/pc1.bin") && err.contains("sector id 7, not 9"),
        "{err}"
    );
}

#[test]
#[ignore = "8 MiB sectors: run by .ci/full (~15 s on 2 cores)"]
fn killed_mid_pc1_and_mid_pc2_8mib_resumes_to_the_same_comm_r() {
    let case = case_b(8 << 20);
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("work");
    let args = case_args(
        &case,
        "8MiB",
        (8 << 20) / 128 * 127,
        &dir.path().join("data"),
        &work,
    );

    // Killed while labelling: the parent cache is done, the layers are not.
    let mut run = Running::start(&args);
    run.wait_for("pc1: parent_cache done");
    run.kill();
    assert!(journal(&work, "job.json").is_file());
    assert!(!journal(&work, "pc1.bin").exists());

    // Rerun, killed in PreCommit 2 while it builds tree_c.
    let mut run = Running::start(&args);
    run.wait_for("pc2: check_cache done");
    std::thread::sleep(std::time::Duration::from_millis(300));
    let seen = run.kill();
    assert!(
        work.join("cache/tree-c.dat.tmp").is_file(),
        "tree_c was under way"
    );
    assert!(!work.join("cache/tree-c.dat").exists(), "{seen:#?}");
    assert!(
        seen.iter().any(|l| l.contains("stage resumed")),
        "{seen:#?}"
    );
    assert!(seen.iter().any(|l| l.contains("pc1 done")), "{seen:#?}");
    assert!(journal(&work, "pc1.bin").is_file());
    assert!(!journal(&work, "pc2.bin").exists());

    // Rerun to completion: PC2 from scratch, the same CommR as
    // filecoin-proofs' uninterrupted seal.
    let out = ok(&args);
    assert_eq!(strs(&out["resumed"]), ["stage", "pc1"]);
    assert_eq!(strs(&out["run"]), ["pc2", "c1", "verify"]);
    assert_eq!(out["comm_r"], case["comm_r_hex"]);
    assert_eq!(out["comm_r_cid"], case["comm_r_cid"]);
    assert_eq!(out["comm_d_cid"], case["comm_d_cid"]);
}

//! Crash safety with a real process killed by SIGKILL.
//!
//! Each test re-runs this test binary as a child (`child_process_entry`, which
//! does nothing unless `CAIRN_STORE_TEST_CHILD_DIR` is set), lets it work on a
//! store, kills it with SIGKILL at a point it reported on stdout, then reopens
//! the store and checks what a restarted gateway would see.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::{
    env,
    io::{BufRead, BufReader, Lines, Write},
    path::Path,
    process::{Child, ChildStdout, Command, Stdio},
    thread,
    time::Duration,
};

use cairn_store::{PartRecord, Store, StoreError};
use common::{block, healthy_block_count, put_object};

const CHILD_DIR: &str = "CAIRN_STORE_TEST_CHILD_DIR";
const CHILD_MODE: &str = "CAIRN_STORE_TEST_CHILD_MODE";
const STABLE: [u64; 5] = [1, 2, 3, 4, 5];
const ROLLING_BLOCKS: u64 = 8;

fn rolling_seeds(i: u64) -> Vec<u64> {
    (0..ROLLING_BLOCKS)
        .map(|j| 1000 + i * ROLLING_BLOCKS + j)
        .collect()
}

/// Child side. Not a test by itself: without the env vars it returns at once.
#[test]
fn child_process_entry() {
    let (Ok(dir), Ok(mode)) = (env::var(CHILD_DIR), env::var(CHILD_MODE)) else {
        return;
    };
    let store = Store::open(&dir).unwrap();
    let say = |s: String| {
        let mut out = std::io::stdout().lock();
        // libtest may print "test child_process_entry ... " without a newline
        // first, so each message carries a marker the parent looks for.
        writeln!(out, "\n@@ {s}").unwrap();
        out.flush().unwrap();
    };
    if mode == "hold" {
        say("holding".into());
        loop {
            thread::sleep(Duration::from_secs(1));
        }
    }
    store.create_bucket("b", "p", 0).unwrap();
    put_object(&store, "b", "stable", &STABLE);
    say("stable".into());
    match mode.as_str() {
        "rolling" => {
            for i in 0.. {
                // Pauses between blocks make most kills land mid-upload.
                let mut up = store.begin_upload().unwrap();
                for s in rolling_seeds(i) {
                    let (mh, bytes) = block(s, 100 + (s as usize % 7000));
                    up.put_block(&mh, &bytes).unwrap();
                    thread::sleep(Duration::from_millis(1));
                }
                let root = block(rolling_seeds(i)[0], 0).0;
                up.commit_object("b", "rolling", common::record(root, "rolling"))
                    .unwrap();
                say(format!("committed {i}"));
            }
        }
        "forever" => {
            let mut up = store.begin_upload().unwrap();
            for n in 0.. {
                let (mh, bytes) = block(5000 + n, 64 * 1024);
                up.put_block(&mh, &bytes).unwrap();
                say(format!("orphan {n}"));
            }
        }
        "lease" => {
            put_object(&store, "b", "leased", &[100, 101]);
            let handle = store.open_object("b", "leased").unwrap().unwrap();
            put_object(&store, "b", "leased", &[200]);
            assert!(handle.get_block(&block(100, 200).0).unwrap().is_some());
            say("leased".into());
            loop {
                thread::sleep(Duration::from_secs(1));
            }
        }
        "multipart" => {
            let id = store
                .create_multipart("b", "mp", Default::default(), 0)
                .unwrap();
            let mut w = store.part_writer(&id, 1).unwrap();
            w.write_all(b"part one").unwrap();
            w.finish(PartRecord {
                part_number: 1,
                size: 8,
                etag: "e1".into(),
                checksums: vec![],
                last_modified: 0,
            })
            .unwrap();
            let mut w = store.part_writer(&id, 2).unwrap();
            say(format!("upload {id}"));
            loop {
                w.write_all(&[7; 4096]).unwrap();
                say("part2".into());
            }
        }
        other => panic!("unknown child mode {other}"),
    }
}

struct ChildProc {
    child: Child,
    lines: Lines<BufReader<ChildStdout>>,
}

impl ChildProc {
    fn spawn(dir: &Path, mode: &str) -> ChildProc {
        let mut child = Command::new(env::current_exe().unwrap())
            .args([
                "child_process_entry",
                "--exact",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_DIR, dir)
            .env(CHILD_MODE, mode)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let lines = BufReader::new(child.stdout.take().unwrap()).lines();
        ChildProc { child, lines }
    }

    /// Reads stdout until a line satisfies `done`; returns that line.
    fn wait_for(&mut self, done: impl Fn(&str) -> bool) -> String {
        for line in self.lines.by_ref() {
            let line = line.unwrap();
            if let Some((_, msg)) = line.split_once("@@ ")
                && done(msg)
            {
                return msg.to_owned();
            }
        }
        panic!("child exited before the expected output");
    }

    /// SIGKILLs the child and returns the rest of what it printed.
    fn kill(&mut self) -> Vec<String> {
        self.child.kill().unwrap(); // SIGKILL on Unix
        let status = self.child.wait().unwrap();
        assert!(!status.success(), "child was killed, not finished");
        self.lines
            .by_ref()
            .map_while(Result::ok)
            .filter_map(|l| l.split_once("@@ ").map(|(_, m)| m.to_owned()))
            .collect()
    }
}

impl Drop for ChildProc {
    /// A failing test must not leave its child running.
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether the raw database (opened read-only, before recovery) holds the block.
fn raw_has_block(dir: &Path, mh: &multihash::Multihash<64>) -> bool {
    let opts = rocksdb::Options::default();
    let cfs = ["blocks", "refcounts", "refs", "objects", "meta"];
    let db = rocksdb::DB::open_cf_for_read_only(&opts, dir.join("db"), cfs, false).unwrap();
    db.get_cf(db.cf_handle("blocks").unwrap(), mh.to_bytes())
        .unwrap()
        .is_some()
}

#[test]
fn kill_during_rolling_overwrites_leaves_exactly_one_whole_version() {
    for round in 0..3u64 {
        let dir = tempfile::tempdir().unwrap();
        let mut child = ChildProc::spawn(dir.path(), "rolling");
        child.wait_for(|l| l == "committed 3");
        thread::sleep(Duration::from_millis(round * 7));
        let rest = child.kill();
        let last_printed = rest
            .iter()
            .filter_map(|l| l.strip_prefix("committed ")?.parse::<u64>().ok())
            .max()
            .unwrap_or(3);

        let store = Store::open(dir.path()).unwrap();
        let stable = store.get_object_record("b", "stable").unwrap().unwrap();
        assert_eq!(stable.etag, "stable");
        for s in STABLE {
            assert!(
                store
                    .get_block(&block(s, 100 + s as usize).0)
                    .unwrap()
                    .is_some(),
                "stable block {s}"
            );
        }
        let rolling = store.get_object_record("b", "rolling").unwrap().unwrap();
        let i = (0..=last_printed + 1)
            .find(|i| &block(rolling_seeds(*i)[0], 0).0 == rolling.root_cid.hash())
            .expect("rolling root is one of the committed versions");
        assert!(
            i >= last_printed,
            "acknowledged commit {last_printed} survived (found {i})"
        );
        for s in rolling_seeds(i) {
            let (mh, bytes) = block(s, 100 + (s as usize % 7000));
            assert_eq!(
                store.get_block(&mh).unwrap(),
                Some(bytes),
                "block {s} of the visible version"
            );
        }
        assert_eq!(
            healthy_block_count(&store),
            STABLE.len() as u64 + ROLLING_BLOCKS,
            "old versions and the torn upload reclaimed"
        );
        assert_eq!(store.fsck().unwrap().pending_uploads, 0);
    }
}

#[test]
fn kill_mid_upload_reclaims_orphan_blocks_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = ChildProc::spawn(dir.path(), "forever");
    child.wait_for(|l| l == "orphan 100");
    let rest = child.kill();
    let written = rest.iter().filter(|l| l.starts_with("orphan ")).count() as u64 + 101;

    // Before recovery the orphans are on disk.
    assert!(
        raw_has_block(dir.path(), &block(5000, 0).0),
        "orphan written before the kill"
    );
    let store = Store::open(dir.path()).unwrap();
    for n in 0..written {
        assert!(
            !store.has_block(&block(5000 + n, 0).0).unwrap(),
            "orphan block {n} reclaimed"
        );
    }
    assert_eq!(
        store
            .get_object_record("b", "stable")
            .unwrap()
            .unwrap()
            .etag,
        "stable"
    );
    assert_eq!(healthy_block_count(&store), STABLE.len() as u64);
    let list = store
        .list_objects(
            "b",
            &cairn_store::ListQuery {
                max_keys: 10,
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(list.entries.len(), 1, "no partial object visible");
}

#[test]
fn leases_do_not_survive_a_crash_and_deferred_blocks_are_reclaimed() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = ChildProc::spawn(dir.path(), "lease");
    child.wait_for(|l| l == "leased");
    child.kill();
    assert!(
        raw_has_block(dir.path(), &block(100, 0).0),
        "leased v1 block still on disk before recovery"
    );
    let store = Store::open(dir.path()).unwrap();
    for s in [100, 101] {
        assert!(
            !store.has_block(&block(s, 0).0).unwrap(),
            "released v1 block {s} reclaimed on open"
        );
    }
    assert!(store.has_block(&block(200, 0).0).unwrap());
    let report = store.fsck().unwrap();
    assert_eq!(report.deferred_releases, 0);
    assert_eq!(healthy_block_count(&store), STABLE.len() as u64 + 1);
}

#[test]
fn another_process_holding_the_store_gives_locked() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = ChildProc::spawn(dir.path(), "hold");
    child.wait_for(|l| l == "holding");
    match Store::open(dir.path()) {
        Err(StoreError::Locked { path }) => assert_eq!(path, dir.path()),
        other => panic!("expected Locked, got {other:?}"),
    }
    child.kill();
    assert!(
        Store::open(dir.path()).is_ok(),
        "lock released when the holder dies"
    );
}

#[test]
fn kill_mid_part_keeps_finished_parts_and_removes_temp_files() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = ChildProc::spawn(dir.path(), "multipart");
    let line = child.wait_for(|l| l.starts_with("upload "));
    let id = cairn_store::UploadId::parse(line.trim_start_matches("upload ")).unwrap();
    child.wait_for(|l| l == "part2");
    child.kill();
    let part_dir = dir.path().join("multipart").join(id.as_str());
    let before = std::fs::read_dir(&part_dir).unwrap().count();
    assert_eq!(before, 2, "part 1 file and part 2 temp file on disk");

    let store = Store::open(dir.path()).unwrap();
    let parts = store.list_parts(&id, None, 100).unwrap();
    assert_eq!(
        parts
            .parts
            .iter()
            .map(|p| p.part_number)
            .collect::<Vec<_>>(),
        [1]
    );
    assert_eq!(
        std::fs::read_dir(&part_dir).unwrap().count(),
        1,
        "temp file removed on open"
    );
    let (rec, mut file) = store.open_part(&id, 1).unwrap();
    let mut buf = String::new();
    std::io::Read::read_to_string(&mut file, &mut buf).unwrap();
    assert_eq!((rec.size, buf.as_str()), (8, "part one"));
}

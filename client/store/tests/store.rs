//! Store behaviour on a real on-disk RocksDB: open/lock/format, blocks and
//! refcounts, objects, pins, buckets, concurrency and read leases.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::{collections::BTreeMap, sync::Arc, thread};

use cairn_store::{FORMAT_VERSION, NameKind, Store, StoreError};
use cid::Cid;
use common::{block, healthy_block_count, put_object, record};

fn open_tmp() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    (dir, store)
}

#[test]
fn reopen_keeps_buckets_objects_and_blocks() {
    let dir = tempfile::tempdir().unwrap();
    let mhs = {
        let store = Store::open(dir.path()).unwrap();
        store.create_bucket("b", "standard", 5).unwrap();
        put_object(&store, "b", "k", &[1, 2, 3])
    };
    assert!(dir.path().join("db").is_dir());
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.head_bucket("b").unwrap().map(|b| b.created), Some(5));
    let rec = store.get_object_record("b", "k").unwrap().unwrap();
    assert_eq!(rec, record(mhs[0], "k"), "every field survives");
    for (i, mh) in mhs.iter().enumerate() {
        let (_, bytes) = block(i as u64 + 1, 100 + (i + 1) % 7000);
        assert_eq!(store.get_block(mh).unwrap(), Some(bytes));
    }
    assert_eq!(healthy_block_count(&store), 3);
}

#[test]
fn second_open_of_a_held_dir_is_locked_until_the_first_closes() {
    let (dir, store) = open_tmp();
    match Store::open(dir.path()) {
        Err(StoreError::Locked { path }) => assert_eq!(path, dir.path()),
        other => panic!("expected Locked, got {other:?}"),
    }
    let clone = store.clone();
    drop(store);
    assert!(
        matches!(Store::open(dir.path()), Err(StoreError::Locked { .. })),
        "a clone still holds it"
    );
    drop(clone);
    assert!(Store::open(dir.path()).is_ok());
}

fn raw_db(dir: &std::path::Path) -> rocksdb::DB {
    let mut opts = rocksdb::Options::default();
    opts.create_if_missing(false);
    rocksdb::DB::open_cf(
        &opts,
        dir.join("db"),
        ["blocks", "refcounts", "refs", "objects", "meta"],
    )
    .unwrap()
}

#[test]
fn format_version_mismatch_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    drop(Store::open(dir.path()).unwrap());
    {
        let db = raw_db(dir.path());
        let meta = db.cf_handle("meta").unwrap();
        db.put_cf(meta, b"\x00format", 99u32.to_be_bytes()).unwrap();
    }
    match Store::open(dir.path()) {
        Err(StoreError::VersionMismatch { found, expected }) => {
            assert_eq!((found, expected), (99, FORMAT_VERSION));
        }
        other => panic!("expected VersionMismatch, got {other:?}"),
    }
    {
        let db = raw_db(dir.path());
        let meta = db.cf_handle("meta").unwrap();
        db.delete_cf(meta, b"\x00format").unwrap();
    }
    assert!(matches!(
        Store::open(dir.path()),
        Err(StoreError::Corrupt {
            what: "format version",
            ..
        })
    ));
}

#[test]
fn shared_blocks_live_until_their_last_holder_goes() {
    let (_dir, store) = open_tmp();
    store.create_bucket("b", "p", 0).unwrap();
    // Seed 10 is in both objects; seed 11 twice in one upload counts once.
    let a = put_object(&store, "b", "a", &[10, 11, 11, 12]);
    let b = put_object(&store, "b", "b", &[10, 20]);
    assert_eq!(healthy_block_count(&store), 4);

    assert!(store.delete_object("b", "a").unwrap());
    assert!(store.has_block(&a[0]).unwrap(), "shared block kept for b");
    assert!(!store.has_block(&a[1]).unwrap(), "a-only block reclaimed");
    assert!(!store.has_block(&a[3]).unwrap());
    assert_eq!(healthy_block_count(&store), 2);

    assert!(store.delete_object("b", "b").unwrap());
    assert!(!store.has_block(&b[0]).unwrap());
    assert_eq!(healthy_block_count(&store), 0);
    assert!(
        !store.delete_object("b", "b").unwrap(),
        "second delete finds nothing"
    );
}

#[test]
fn overwrite_releases_the_old_version_only() {
    let (_dir, store) = open_tmp();
    store.create_bucket("b", "p", 0).unwrap();
    let old = put_object(&store, "b", "k", &[1, 2]);
    let new = put_object(&store, "b", "k", &[2, 3]);
    assert!(!store.has_block(&old[0]).unwrap());
    assert!(
        store.has_block(&new[0]).unwrap(),
        "block in both versions kept"
    );
    assert!(store.has_block(&new[1]).unwrap());
    assert_eq!(
        store
            .get_object_record("b", "k")
            .unwrap()
            .unwrap()
            .root_cid
            .hash(),
        &new[0]
    );
    assert_eq!(healthy_block_count(&store), 2);
}

#[test]
fn abort_drop_and_failed_commit_release_blocks() {
    let (_dir, store) = open_tmp();
    store.create_bucket("b", "p", 0).unwrap();
    let kept = put_object(&store, "b", "kept", &[1]);

    let (mh2, bytes2) = block(2, 5000);
    let mut up = store.begin_upload().unwrap();
    up.put_block(&kept[0], b"ignored: block already stored")
        .unwrap();
    up.put_block(&mh2, &bytes2).unwrap();
    assert_eq!(up.block_count(), 2);
    assert!(store.has_block(&mh2).unwrap(), "visible while uploading");
    up.abort().unwrap();
    assert!(!store.has_block(&mh2).unwrap());
    assert!(
        store.has_block(&kept[0]).unwrap(),
        "other holder's block survives"
    );
    assert_ne!(
        store.get_block(&kept[0]).unwrap().unwrap(),
        b"ignored: block already stored"
    );

    let (mh3, bytes3) = block(3, 10);
    {
        let mut up = store.begin_upload().unwrap();
        up.put_block(&mh3, &bytes3).unwrap();
    }
    assert!(!store.has_block(&mh3).unwrap(), "dropped upload released");

    let mut up = store.begin_upload().unwrap();
    up.put_block(&mh3, &bytes3).unwrap();
    let err = up.commit_object("nope", "k", record(mh3, "e")).unwrap_err();
    assert!(
        matches!(err, StoreError::NoSuchBucket { ref bucket } if bucket == "nope"),
        "{err:?}"
    );
    assert!(!store.has_block(&mh3).unwrap(), "failed commit released");
    assert_eq!(healthy_block_count(&store), 1);
    assert_eq!(store.fsck().unwrap().pending_uploads, 0);
}

#[test]
fn pins_hold_blocks_and_cid_versions_share_the_block() {
    let (_dir, store) = open_tmp();
    let (mh, bytes) = block(7, 4096 * 3);
    let root = Cid::new_v1(common::RAW, mh);
    let mut up = store.begin_upload().unwrap();
    up.put_block(&mh, &bytes).unwrap();
    up.commit_pin(root).unwrap();
    let v0 = Cid::new_v0(mh).unwrap();
    assert_eq!(
        store.get_block(v0.hash()).unwrap(),
        Some(bytes.clone()),
        "CIDv0 finds the CIDv1 block"
    );
    assert!(store.is_pinned(&root).unwrap());
    assert_eq!(store.list_pins().unwrap(), vec![root]);

    // Re-pinning the same root replaces the holder without leaking or freeing.
    let mut up = store.begin_upload().unwrap();
    up.put_block(&mh, &bytes).unwrap();
    up.commit_pin(root).unwrap();
    assert_eq!(store.fsck().unwrap().holders, 1);
    assert_eq!(healthy_block_count(&store), 1);

    assert!(store.unpin(&root).unwrap());
    assert!(!store.has_block(&mh).unwrap());
    assert!(!store.unpin(&root).unwrap());
    assert!(store.list_pins().unwrap().is_empty());
}

#[test]
fn bucket_lifecycle() {
    let (_dir, store) = open_tmp();
    store.create_bucket("zeta", "cold", 2).unwrap();
    let info = store.create_bucket("alpha", "hot", 1).unwrap();
    assert_eq!(
        (info.name.as_str(), info.profile.as_str(), info.created),
        ("alpha", "hot", 1)
    );
    assert!(matches!(
        store.create_bucket("alpha", "x", 3),
        Err(StoreError::BucketAlreadyExists { bucket }) if bucket == "alpha"
    ));
    let names: Vec<_> = store
        .list_buckets()
        .unwrap()
        .into_iter()
        .map(|b| b.name)
        .collect();
    assert_eq!(names, ["alpha", "zeta"]);
    assert_eq!(
        store.head_bucket("alpha").unwrap().unwrap().profile,
        "hot",
        "duplicate create changed nothing"
    );
    assert_eq!(store.head_bucket("nope").unwrap(), None);
    assert!(matches!(
        store.create_bucket("a\0b", "p", 0),
        Err(StoreError::InvalidName {
            kind: NameKind::Bucket,
            ..
        })
    ));

    put_object(&store, "alpha", "k", &[1]);
    assert!(matches!(
        store.delete_bucket("alpha"),
        Err(StoreError::BucketNotEmpty { .. })
    ));
    store.delete_object("alpha", "k").unwrap();

    let id = store
        .create_multipart("alpha", "m", Default::default(), 0)
        .unwrap();
    assert!(
        matches!(
            store.delete_bucket("alpha"),
            Err(StoreError::BucketNotEmpty { .. })
        ),
        "multipart in progress"
    );
    store.abort_multipart(&id).unwrap();

    store.delete_bucket("alpha").unwrap();
    assert!(matches!(
        store.delete_bucket("alpha"),
        Err(StoreError::NoSuchBucket { .. })
    ));
    assert!(matches!(
        store.get_object_record("alpha", "k"),
        Err(StoreError::NoSuchBucket { .. })
    ));
    assert_eq!(store.list_buckets().unwrap().len(), 1);
}

#[test]
fn object_keys_are_validated_and_prefix_keys_coexist() {
    let (_dir, store) = open_tmp();
    store.create_bucket("b", "p", 0).unwrap();
    put_object(&store, "b", "a", &[1]);
    put_object(&store, "b", "a/b", &[2]);
    assert_eq!(
        store.get_object_record("b", "a").unwrap().unwrap().etag,
        "a"
    );
    assert_eq!(
        store.get_object_record("b", "a/b").unwrap().unwrap().etag,
        "a/b"
    );
    assert_eq!(store.get_object_record("b", "a/").unwrap(), None);
    let up = store.begin_upload().unwrap();
    assert!(matches!(
        up.commit_object("b", "x\0y", record(block(1, 1).0, "e")),
        Err(StoreError::InvalidName {
            kind: NameKind::Key,
            ..
        })
    ));
}

#[test]
fn concurrent_commits_and_deletes_keep_refcounts_exact() {
    let (_dir, store) = open_tmp();
    store.create_bucket("b", "p", 0).unwrap();
    let threads = 6;
    let rounds = 25u64;
    let finals: Vec<BTreeMap<String, Vec<u64>>> = (0..threads)
        .map(|t| {
            let store = store.clone();
            thread::spawn(move || {
                let mut mine = BTreeMap::new();
                for r in 0..rounds {
                    // Seeds 0..4 are shared by every thread; each thread also
                    // writes its own, and keys collide across threads for `shared-*`.
                    let seeds = vec![r % 4, 1000 * (t + 1) + r, 1000 * (t + 1) + r + 1];
                    let key = format!("t{t}-{}", r % 3);
                    put_object(&store, "b", &key, &seeds);
                    mine.insert(key, seeds);
                    if r % 5 == 4 {
                        let k = format!("t{t}-{}", r % 3);
                        assert!(store.delete_object("b", &k).unwrap());
                        mine.remove(&k);
                    }
                    put_object(
                        &store,
                        "b",
                        &format!("shared-{}", r % 2),
                        &[r % 4, 50_000 + r],
                    );
                }
                mine
            })
        })
        .map(|h| h.join().unwrap())
        .collect();
    // Expected blocks: union of the surviving objects' seeds.
    let mut expected = std::collections::BTreeSet::new();
    for m in &finals {
        for seeds in m.values() {
            expected.extend(seeds.iter().copied());
        }
    }
    let store2 = Arc::new(store);
    for key in ["shared-0", "shared-1"] {
        let rec = store2.get_object_record("b", key).unwrap().unwrap();
        // The root of a shared-* object is its first block; find its seed.
        let seed = (0..4)
            .find(|s| &block(*s, 100 + (*s as usize % 7000)).0 == rec.root_cid.hash())
            .unwrap();
        expected.insert(seed);
    }
    let count = healthy_block_count(&store2);
    // shared-* objects each also hold one unique 50_000+r block.
    assert_eq!(count, expected.len() as u64 + 2);
}

#[test]
fn read_lease_keeps_blocks_through_overwrite_and_delete() {
    let (_dir, store) = open_tmp();
    store.create_bucket("b", "p", 0).unwrap();
    let v1 = put_object(&store, "b", "k", &[1, 2, 3]);
    let h1 = store.open_object("b", "k").unwrap().unwrap();
    let h1b = store.open_object("b", "k").unwrap().unwrap();
    assert_eq!(h1.record().etag, "k");
    assert_eq!(h1.version_id(), h1b.version_id());

    let v2 = put_object(&store, "b", "k", &[4]);
    assert_ne!(
        store.open_object("b", "k").unwrap().unwrap().version_id(),
        h1.version_id()
    );
    for (i, mh) in v1.iter().enumerate() {
        let (_, bytes) = block(i as u64 + 1, 101 + i);
        assert_eq!(
            h1.get_block(mh).unwrap(),
            Some(bytes),
            "leased block {i} readable after overwrite"
        );
    }
    assert!(store.delete_object("b", "k").unwrap());
    assert!(
        !store.has_block(&v2[0]).unwrap(),
        "unleased v2 freed at once"
    );
    assert!(
        h1.get_block(&v1[2]).unwrap().is_some(),
        "still readable after delete"
    );
    assert_eq!(store.fsck().unwrap().deferred_releases, 1);

    drop(h1);
    assert!(store.has_block(&v1[0]).unwrap(), "second lease still holds");
    drop(h1b);
    for mh in &v1 {
        assert!(
            !store.has_block(mh).unwrap(),
            "reclaimed when the last lease drops"
        );
    }
    let report = store.fsck().unwrap();
    assert_eq!((report.blocks, report.deferred_releases), (0, 0));
    assert!(report.problems.is_empty());
}

#[test]
fn dropping_a_lease_on_a_live_version_frees_nothing() {
    let (_dir, store) = open_tmp();
    store.create_bucket("b", "p", 0).unwrap();
    let v = put_object(&store, "b", "k", &[1]);
    drop(store.open_object("b", "k").unwrap().unwrap());
    assert!(store.has_block(&v[0]).unwrap());
    assert!(store.open_object("b", "missing").unwrap().is_none());
}

#[test]
fn stats_see_blocks() {
    let (_dir, store) = open_tmp();
    store.create_bucket("b", "p", 0).unwrap();
    assert_eq!(store.stats().unwrap().approx_blocks, 0);
    put_object(&store, "b", "k", &[1, 2, 3, 4, 5]);
    assert!(store.stats().unwrap().approx_blocks >= 1);
}

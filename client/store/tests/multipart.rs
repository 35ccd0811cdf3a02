//! Multipart uploads on a real store: parts on disk, listing, completion
//! (including a repeated complete), abort, and orphan-file cleanup.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::{fs, io::Write};

use cairn_store::{MultipartMeta, PartRecord, Store, StoreError, UploadId};
use common::{block, healthy_block_count, record};

fn part(n: u32, size: u64) -> PartRecord {
    PartRecord {
        part_number: n,
        size,
        etag: format!("etag{n}"),
        checksums: vec![("CRC32".into(), "x".into())],
        last_modified: 9,
    }
}

fn write_part(store: &Store, id: &UploadId, n: u32, data: &[u8]) -> PartRecord {
    let mut w = store.part_writer(id, n).unwrap();
    w.write_all(data).unwrap();
    w.finish(part(n, data.len() as u64)).unwrap()
}

fn read_part(store: &Store, id: &UploadId, n: u32) -> Vec<u8> {
    let (_, mut f) = store.open_part(id, n).unwrap();
    let mut out = Vec::new();
    std::io::Read::read_to_end(&mut f, &mut out).unwrap();
    out
}

fn files_in(dir: &std::path::Path) -> usize {
    fs::read_dir(dir).map(|d| d.count()).unwrap_or(0)
}

#[test]
fn upload_parts_complete_and_repeat_complete() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    store.create_bucket("b", "p", 0).unwrap();
    let meta = MultipartMeta {
        content_type: Some("video/mp4".into()),
        user_metadata: vec![("k".into(), "v".into())],
        checksum_algorithm: Some("CRC32".into()),
        ..Default::default()
    };
    let id = store
        .create_multipart("b", "movie", meta.clone(), 77)
        .unwrap();
    let mp = store.get_multipart(&id).unwrap();
    assert_eq!(
        (mp.bucket.as_str(), mp.key.as_str(), mp.initiated, &mp.meta),
        ("b", "movie", 77, &meta)
    );

    write_part(&store, &id, 2, b"second");
    write_part(&store, &id, 1, b"first, old");
    let rec = write_part(&store, &id, 1, b"first");
    assert_eq!(rec, part(1, 5));
    let part_dir = dir.path().join("multipart").join(id.as_str());
    assert_eq!(files_in(&part_dir), 2, "replaced part's file removed");
    assert_eq!(read_part(&store, &id, 1), b"first");

    let page = store.list_parts(&id, None, 1).unwrap();
    assert_eq!(
        (
            page.parts.len(),
            page.is_truncated,
            page.next_part_number_marker
        ),
        (1, true, Some(1))
    );
    let page = store.list_parts(&id, Some(1), 10).unwrap();
    assert_eq!(
        page.parts.iter().map(|p| p.part_number).collect::<Vec<_>>(),
        [2]
    );
    assert!(!page.is_truncated);

    // The gateway's complete: stream parts in order into an Upload.
    let mut upload = store.begin_upload().unwrap();
    let mut mhs = Vec::new();
    for n in [1, 2] {
        let data = read_part(&store, &id, n);
        let (mh, _) = block(900 + u64::from(n), 0);
        upload.put_block(&mh, &data).unwrap();
        mhs.push(mh);
    }
    let mut obj = record(mhs[0], "multi-etag-2");
    obj.parts = Some(2);
    let done = store.complete_multipart(&id, upload, obj.clone()).unwrap();
    assert_eq!(
        (done.bucket.as_str(), done.key.as_str(), &done.record),
        ("b", "movie", &obj)
    );
    assert_eq!(
        store.get_object_record("b", "movie").unwrap(),
        Some(obj.clone())
    );
    assert_eq!(
        store.get_block(&mhs[1]).unwrap().as_deref(),
        Some(&b"second"[..])
    );
    assert!(!part_dir.exists(), "part files removed");
    assert!(matches!(
        store.get_multipart(&id),
        Err(StoreError::NoSuchUpload { .. })
    ));
    assert!(matches!(
        store.list_parts(&id, None, 10),
        Err(StoreError::NoSuchUpload { .. })
    ));
    assert!(
        store
            .list_multipart_uploads("b", "", None, None, 10)
            .unwrap()
            .uploads
            .is_empty()
    );

    // A retried complete returns the first result and frees the retry's blocks.
    let mut retry = store.begin_upload().unwrap();
    let (extra, bytes) = block(999, 10);
    retry.put_block(&extra, &bytes).unwrap();
    let again = store
        .complete_multipart(&id, retry, record(extra, "other"))
        .unwrap();
    assert_eq!(again, done);
    assert_eq!(store.completed_multipart(&id).unwrap(), Some(done));
    assert!(!store.has_block(&extra).unwrap());
    assert_eq!(healthy_block_count(&store), 2);

    drop(store);
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(
        store.completed_multipart(&id).unwrap().map(|d| d.record),
        Some(obj),
        "completion survives reopen"
    );
}

#[test]
fn unknown_and_invalid_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    store.create_bucket("b", "p", 0).unwrap();
    assert!(matches!(
        UploadId::parse("../x"),
        Err(StoreError::NoSuchUpload { .. })
    ));
    let ghost = UploadId::parse("ghost").unwrap();
    assert!(matches!(
        store.part_writer(&ghost, 1),
        Err(StoreError::NoSuchUpload { .. })
    ));
    assert!(matches!(
        store.abort_multipart(&ghost),
        Err(StoreError::NoSuchUpload { .. })
    ));
    let mut up = store.begin_upload().unwrap();
    let (mh, bytes) = block(1, 10);
    up.put_block(&mh, &bytes).unwrap();
    assert!(matches!(
        store.complete_multipart(&ghost, up, record(mh, "e")),
        Err(StoreError::NoSuchUpload { .. })
    ));
    assert!(
        !store.has_block(&mh).unwrap(),
        "upload released on failed complete"
    );
    assert!(matches!(
        store.create_multipart("nope", "k", MultipartMeta::default(), 0),
        Err(StoreError::NoSuchBucket { .. })
    ));

    let id = store
        .create_multipart("b", "k", MultipartMeta::default(), 0)
        .unwrap();
    for bad in [0, 10_001] {
        assert!(
            matches!(store.part_writer(&id, bad), Err(StoreError::InvalidPartNumber { part_number }) if part_number == bad)
        );
    }
    let mut w = store.part_writer(&id, 3).unwrap();
    w.write_all(b"abc").unwrap();
    assert!(matches!(
        w.finish(part(3, 4)),
        Err(StoreError::PartSizeMismatch {
            declared: 4,
            written: 3,
            ..
        })
    ));
    assert!(matches!(
        store.open_part(&id, 3),
        Err(StoreError::InvalidPart { part_number: 3, .. })
    ));
    {
        let mut w = store.part_writer(&id, 4).unwrap();
        w.write_all(b"dropped").unwrap();
    }
    assert_eq!(
        files_in(&dir.path().join("multipart").join(id.as_str())),
        0,
        "no temp files left"
    );
    assert!(store.list_parts(&id, None, 10).unwrap().parts.is_empty());
}

#[test]
fn abort_removes_state_and_blocks_late_finish() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    store.create_bucket("b", "p", 0).unwrap();
    let id = store
        .create_multipart("b", "k", MultipartMeta::default(), 0)
        .unwrap();
    write_part(&store, &id, 1, b"one");
    let mut late = store.part_writer(&id, 2).unwrap();
    late.write_all(b"two").unwrap();
    store.abort_multipart(&id).unwrap();
    assert!(matches!(
        late.finish(part(2, 3)),
        Err(StoreError::NoSuchUpload { .. })
    ));
    assert!(!dir.path().join("multipart").join(id.as_str()).exists());
    assert!(matches!(
        store.abort_multipart(&id),
        Err(StoreError::NoSuchUpload { .. })
    ));
    assert_eq!(store.completed_multipart(&id).unwrap(), None);
    store.delete_bucket("b").unwrap();
}

#[test]
fn list_multipart_uploads_orders_filters_and_pages() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    store.create_bucket("b", "p", 0).unwrap();
    store.create_bucket("c", "p", 0).unwrap();
    let mut ids = Vec::new();
    for key in ["x/1", "x/1", "x/2", "y"] {
        ids.push((
            key.to_owned(),
            store
                .create_multipart("b", key, MultipartMeta::default(), 0)
                .unwrap(),
        ));
    }
    store
        .create_multipart("c", "x/1", MultipartMeta::default(), 0)
        .unwrap();
    ids.sort();
    let all = store
        .list_multipart_uploads("b", "", None, None, 100)
        .unwrap();
    let got: Vec<_> = all
        .uploads
        .iter()
        .map(|u| (u.key.clone(), u.upload_id.clone()))
        .collect();
    assert_eq!(got, ids, "sorted by key then id, other bucket excluded");

    let x = store
        .list_multipart_uploads("b", "x/", None, None, 100)
        .unwrap();
    assert_eq!(x.uploads.len(), 3);
    let after_key = store
        .list_multipart_uploads("b", "", Some("x/1"), None, 100)
        .unwrap();
    assert_eq!(
        after_key
            .uploads
            .iter()
            .map(|u| u.key.as_str())
            .collect::<Vec<_>>(),
        ["x/2", "y"]
    );
    let after_id = store
        .list_multipart_uploads("b", "", Some("x/1"), Some(&ids[0].1), 100)
        .unwrap();
    assert_eq!(
        after_id.uploads.first().map(|u| &u.upload_id),
        Some(&ids[1].1)
    );

    // Paging with the returned markers visits each upload once.
    let mut seen = Vec::new();
    let (mut km, mut um) = (None::<String>, None::<UploadId>);
    loop {
        let page = store
            .list_multipart_uploads("b", "", km.as_deref(), um.as_ref(), 1)
            .unwrap();
        seen.extend(
            page.uploads
                .iter()
                .map(|u| (u.key.clone(), u.upload_id.clone())),
        );
        if !page.is_truncated {
            break;
        }
        (km, um) = (page.next_key_marker, page.next_upload_id_marker);
    }
    assert_eq!(seen, ids);
}

#[test]
fn open_removes_files_no_record_points_to() {
    let dir = tempfile::tempdir().unwrap();
    let id = {
        let store = Store::open(dir.path()).unwrap();
        store.create_bucket("b", "p", 0).unwrap();
        let id = store
            .create_multipart("b", "k", MultipartMeta::default(), 0)
            .unwrap();
        write_part(&store, &id, 1, b"keep");
        id
    };
    let mp = dir.path().join("multipart");
    fs::create_dir_all(mp.join("stray0123")).unwrap();
    fs::write(mp.join("stray0123").join("1.0"), b"x").unwrap();
    fs::write(mp.join("not-a-dir"), b"x").unwrap();
    fs::write(mp.join(id.as_str()).join("7.00ff.tmp"), b"x").unwrap();
    fs::write(mp.join(id.as_str()).join("1.dead"), b"x").unwrap();

    let store = Store::open(dir.path()).unwrap();
    assert!(!mp.join("stray0123").exists());
    assert!(!mp.join("not-a-dir").exists());
    assert_eq!(files_in(&mp.join(id.as_str())), 1);
    assert_eq!(read_part(&store, &id, 1), b"keep");
}

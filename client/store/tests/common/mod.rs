//! Helpers shared by the integration tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use cairn_store::{ObjectRecord, Store};
use cid::Cid;
use multihash::Multihash;

/// Multicodec of raw leaves and sha2-256, as the DAG builder would use.
pub const RAW: u64 = 0x55;
pub const SHA2_256: u64 = 0x12;

/// A deterministic block of `len` bytes for `seed`. The store never re-hashes,
/// so the digest only needs to be unique per seed; it ignores `len`, so
/// `block(seed, 0).0` names the block whatever length it was written with.
pub fn block(seed: u64, len: usize) -> (Multihash<64>, Vec<u8>) {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ 0xdead_beef;
    let mut next = move || {
        // splitmix64
        x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = x;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    let bytes: Vec<u8> = (0..len).map(|_| next() as u8).collect();
    let mut digest = [0u8; 32];
    digest[..8].copy_from_slice(&seed.to_be_bytes());
    (Multihash::wrap(SHA2_256, &digest).unwrap(), bytes)
}

pub fn record(root: Multihash<64>, etag: &str) -> ObjectRecord {
    ObjectRecord {
        root_cid: Cid::new_v1(RAW, root),
        size: 0,
        etag: etag.to_owned(),
        content_type: Some("application/octet-stream".into()),
        user_metadata: vec![("b".into(), "1".into()), ("a".into(), "2".into())],
        content_encoding: None,
        content_disposition: None,
        content_language: None,
        cache_control: None,
        expires: None,
        checksums: vec![("CRC32".into(), "AAAAAA==".into())],
        last_modified: 1_700_000_000_000,
        profile: "standard".into(),
        parts: None,
    }
}

/// Uploads blocks `seeds` and commits them as `bucket/key`; returns the multihashes.
pub fn put_object(store: &Store, bucket: &str, key: &str, seeds: &[u64]) -> Vec<Multihash<64>> {
    let mut upload = store.begin_upload().unwrap();
    let mut mhs = Vec::new();
    for &s in seeds {
        let (mh, bytes) = block(s, 100 + (s as usize % 7000));
        upload.put_block(&mh, &bytes).unwrap();
        mhs.push(mh);
    }
    let root = mhs.first().copied().unwrap_or_else(|| block(u64::MAX, 1).0);
    upload
        .commit_object(bucket, key, record(root, key))
        .unwrap();
    mhs
}

/// Asserts the refcount invariants hold and returns the block count.
pub fn healthy_block_count(store: &Store) -> u64 {
    let report = store.fsck().unwrap();
    assert!(
        report.problems.is_empty(),
        "fsck problems: {:?}",
        report.problems
    );
    report.blocks
}

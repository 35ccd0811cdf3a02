//! Object records, lookups, deletion and read leases.
//!
//! An object is a record pointing at a UnixFS root plus the S3 metadata the
//! gateway returns on HEAD/GET. Its blocks are held by the version id of the
//! upload that committed it. [`Store::open_object`] hands out an
//! [`ObjectHandle`], a read lease: while any handle on version `v` lives, an
//! overwrite or delete of `v` defers releasing `v`'s blocks, so a reader
//! streaming a large object never loses blocks mid-read.

use std::sync::Arc;

use cid::Cid;
use multihash::Multihash;
use rocksdb::WriteBatch;
use serde::{Deserialize, Serialize};

use crate::{
    error::{NameKind, Result},
    keys::{self, CF_OBJECTS, HolderId, ObjectVersionId},
    store::{Delta, Inner, Store},
};

/// Everything the gateway stores about one object version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectRecord {
    /// Root of the object's UnixFS DAG.
    #[serde(with = "keys::cid_str")]
    pub root_cid: Cid,
    /// Content length in bytes.
    pub size: u64,
    /// The S3 ETag, quotes excluded.
    pub etag: String,
    /// `Content-Type`.
    pub content_type: Option<String>,
    /// `x-amz-meta-*` pairs, in the order received.
    pub user_metadata: Vec<(String, String)>,
    /// `Content-Encoding`.
    pub content_encoding: Option<String>,
    /// `Content-Disposition`.
    pub content_disposition: Option<String>,
    /// `Content-Language`.
    pub content_language: Option<String>,
    /// `Cache-Control`.
    pub cache_control: Option<String>,
    /// `Expires`, as received.
    pub expires: Option<String>,
    /// `(algorithm, base64 value)`, e.g. `("CRC32", "AAAAAA==")`.
    pub checksums: Vec<(String, String)>,
    /// Last-Modified, Unix milliseconds.
    pub last_modified: i64,
    /// Storage profile (erasure/replication policy name).
    pub profile: String,
    /// Part count when the object came from a multipart upload.
    pub parts: Option<u32>,
}

/// Value stored under an object key: the version that holds the blocks and the record.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct StoredObject {
    pub(crate) version: HolderId,
    pub(crate) record: ObjectRecord,
}

/// A read lease on one object version: its blocks stay readable until the
/// handle drops, even if the object is overwritten or deleted meanwhile.
#[derive(Debug)]
pub struct ObjectHandle {
    inner: Arc<Inner>,
    version: HolderId,
    record: ObjectRecord,
}

impl ObjectHandle {
    /// The record of the leased version.
    pub fn record(&self) -> &ObjectRecord {
        &self.record
    }

    /// The leased version's id.
    pub fn version_id(&self) -> ObjectVersionId {
        ObjectVersionId(self.version)
    }

    /// Reads one of this version's blocks (same as [`Store::get_block`]; the
    /// lease guarantees the version's blocks are present).
    pub fn get_block(&self, mh: &Multihash<64>) -> Result<Option<Vec<u8>>> {
        Store {
            inner: self.inner.clone(),
        }
        .get_block(mh)
    }
}

impl Drop for ObjectHandle {
    fn drop(&mut self) {
        self.inner.drop_lease(self.version);
    }
}

impl Store {
    /// The current record of `bucket/key`, or `None`. A missing bucket is
    /// [`StoreError::NoSuchBucket`](crate::StoreError::NoSuchBucket).
    pub fn get_object_record(&self, bucket: &str, key: &str) -> Result<Option<ObjectRecord>> {
        Ok(self.get_stored(bucket, key)?.map(|s| s.record))
    }

    /// Opens the current version of `bucket/key` for reading, taking a read lease.
    pub fn open_object(&self, bucket: &str, key: &str) -> Result<Option<ObjectHandle>> {
        let inner = &self.inner;
        // Under the state lock so no release can slip between the read and the lease.
        let mut state = inner.lock_state()?;
        let Some(stored) = self.get_stored(bucket, key)? else {
            return Ok(None);
        };
        Inner::acquire_lease(&mut state, stored.version);
        Ok(Some(ObjectHandle {
            inner: inner.clone(),
            version: stored.version,
            record: stored.record,
        }))
    }

    /// Deletes `bucket/key`; returns whether it existed. Its blocks are freed
    /// now, or when the last [`ObjectHandle`] on it drops.
    pub fn delete_object(&self, bucket: &str, key: &str) -> Result<bool> {
        let inner = &self.inner;
        {
            let mut state = inner.lock_state()?;
            let Some(stored) = self.get_stored(bucket, key)? else {
                return Ok(false);
            };
            let mut batch = WriteBatch::default();
            let mut delta = Delta::default();
            batch.delete_cf(inner.cf(CF_OBJECTS)?, keys::object_key(bucket, key));
            inner.release_or_defer(&mut state, &mut batch, &mut delta, stored.version)?;
            inner.forget_placement_in(&mut batch, stored.version)?;
            inner.apply_delta(&mut state, &mut batch, delta)?;
            inner.write(batch, false)?;
        }
        inner.sync_wal()?;
        Ok(true)
    }

    fn get_stored(&self, bucket: &str, key: &str) -> Result<Option<StoredObject>> {
        let inner = &self.inner;
        inner.check()?;
        crate::bucket::require_bucket(inner, bucket)?;
        keys::check_name(NameKind::Key, key)?;
        let okey = keys::object_key(bucket, key);
        match inner.db.get_pinned_cf(inner.cf(CF_OBJECTS)?, &okey)? {
            Some(v) => Ok(Some(keys::decode("object record", &okey, &v)?)),
            None => Ok(None),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A record with every field set, for round-trip tests.
    pub(crate) fn sample_record(root: Cid) -> ObjectRecord {
        ObjectRecord {
            root_cid: root,
            size: 12,
            etag: "abc".into(),
            content_type: Some("text/plain".into()),
            user_metadata: vec![("z".into(), "1".into()), ("a".into(), "2".into())],
            content_encoding: Some("gzip".into()),
            content_disposition: Some("inline".into()),
            content_language: Some("en".into()),
            cache_control: Some("no-cache".into()),
            expires: Some("Thu, 01 Dec 1994 16:00:00 GMT".into()),
            checksums: vec![("CRC32".into(), "AAAAAA==".into())],
            last_modified: 1_700_000_000_123,
            profile: "standard".into(),
            parts: Some(3),
        }
    }

    #[test]
    fn record_round_trips_through_codec_keeping_metadata_order() {
        let mh = Multihash::<64>::wrap(0x12, &[7; 32]).ok();
        let root = mh.map(|m| Cid::new_v1(0x70, m));
        let Some(root) = root else {
            panic!("multihash wrap failed")
        };
        let stored = StoredObject {
            version: 42,
            record: sample_record(root),
        };
        let bytes = keys::encode(&stored);
        let back: StoredObject = keys::decode("object record", b"k", &bytes).unwrap();
        assert_eq!(back.version, 42);
        assert_eq!(back.record, stored.record);
        assert_eq!(back.record.user_metadata[0].0, "z", "order kept");
    }
}

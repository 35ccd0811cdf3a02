//! Buckets: create, head, list, delete-when-empty.
//!
//! A bucket is a record in `meta` under `b ‖ name`. Creating and deleting take
//! the state lock (and delete also the multipart lock) so that a bucket cannot
//! vanish between an object commit's existence check and its write.

use rocksdb::WriteBatch;
use serde::{Deserialize, Serialize};

use crate::{
    error::{NameKind, Result, StoreError},
    keys::{self, CF_META, CF_OBJECTS, tag},
    store::{Inner, Store},
};

/// A bucket's stored attributes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BucketInfo {
    /// The bucket name.
    pub name: String,
    /// Default storage profile for objects in the bucket.
    pub profile: String,
    /// Creation time, Unix milliseconds.
    pub created: i64,
    /// How the bucket's objects are placed on the storage network, when
    /// set at creation (else the gateway's defaults).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub placement: Option<BucketPlacement>,
}

/// A bucket's placement settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BucketPlacement {
    /// Data shards.
    pub k: u8,
    /// Parity shards.
    pub m: u8,
    /// Epochs each deal lasts.
    pub duration: u64,
    /// The most paid per padded byte per epoch.
    pub max_price: u128,
}

impl Store {
    /// Creates a bucket. `created` is the creation time in Unix milliseconds.
    pub fn create_bucket(&self, name: &str, profile: &str, created: i64) -> Result<BucketInfo> {
        self.create_bucket_with(name, profile, created, None)
    }

    /// Creates a bucket with placement settings of its own.
    pub fn create_bucket_with(
        &self,
        name: &str,
        profile: &str,
        created: i64,
        placement: Option<BucketPlacement>,
    ) -> Result<BucketInfo> {
        keys::check_name(NameKind::Bucket, name)?;
        let inner = &self.inner;
        let key = keys::meta_key(tag::BUCKET, name.as_bytes());
        let info = BucketInfo {
            name: name.to_owned(),
            profile: profile.to_owned(),
            created,
            placement,
        };
        {
            let _state = inner.lock_state()?;
            if inner.get_meta(&key)?.is_some() {
                return Err(StoreError::BucketAlreadyExists {
                    bucket: name.to_owned(),
                });
            }
            let mut batch = WriteBatch::default();
            batch.put_cf(inner.cf(CF_META)?, &key, keys::encode(&info));
            inner.write(batch, false)?;
        }
        inner.sync_wal()?;
        Ok(info)
    }

    /// The bucket's attributes, or `None` if it does not exist.
    pub fn head_bucket(&self, name: &str) -> Result<Option<BucketInfo>> {
        self.inner.check()?;
        get_bucket(&self.inner, name)
    }

    /// Every bucket, sorted by name (byte order).
    pub fn list_buckets(&self) -> Result<Vec<BucketInfo>> {
        let inner = &self.inner;
        inner.check()?;
        inner
            .scan_prefix(inner.cf(CF_META)?, &[tag::BUCKET])?
            .into_iter()
            .map(|(k, v)| keys::decode("bucket record", &k, &v))
            .collect()
    }

    /// Deletes an empty bucket: no objects and no multipart uploads in progress.
    pub fn delete_bucket(&self, name: &str) -> Result<()> {
        let inner = &self.inner;
        {
            let _mp = inner.lock_mp()?;
            let _state = inner.lock_state()?;
            require_bucket(inner, name)?;
            let prefix = keys::bucket_prefix(name);
            let busy = inner.any_with_prefix(inner.cf(CF_OBJECTS)?, &prefix)?
                || inner
                    .any_with_prefix(inner.cf(CF_META)?, &keys::meta_key(tag::MP_INDEX, &prefix))?;
            if busy {
                return Err(StoreError::BucketNotEmpty {
                    bucket: name.to_owned(),
                });
            }
            let mut batch = WriteBatch::default();
            batch.delete_cf(
                inner.cf(CF_META)?,
                keys::meta_key(tag::BUCKET, name.as_bytes()),
            );
            inner.write(batch, false)?;
        }
        inner.sync_wal()
    }
}

fn get_bucket(inner: &Inner, name: &str) -> Result<Option<BucketInfo>> {
    if keys::check_name(NameKind::Bucket, name).is_err() {
        return Ok(None);
    }
    let key = keys::meta_key(tag::BUCKET, name.as_bytes());
    match inner.get_meta(&key)? {
        Some(v) => Ok(Some(keys::decode("bucket record", &key, &v)?)),
        None => Ok(None),
    }
}

/// Fails with `NoSuchBucket` unless `name` exists.
pub(crate) fn require_bucket(inner: &Inner, name: &str) -> Result<BucketInfo> {
    get_bucket(inner, name)?.ok_or_else(|| StoreError::NoSuchBucket {
        bucket: name.to_owned(),
    })
}

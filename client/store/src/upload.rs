//! Uploads: the only way blocks enter the store, and pins.
//!
//! An [`Upload`] is a holder in progress. It writes a pending marker first,
//! then each distinct block with its (upload, block) ref in an unsynced batch,
//! so streaming a large DAG costs no fsync per block. It ends in exactly one of:
//!
//! - [`Upload::commit_object`] / [`Upload::commit_pin`] (or
//!   [`Store::complete_multipart`]): one batch removes the marker and makes the
//!   upload's holder id the object version (or pin); a WAL sync then makes it
//!   and all earlier block writes durable.
//! - [`Upload::abort`] or drop: refs released now (best effort); if that
//!   fails or the process dies, the marker makes [`Store::open`] release them.

use std::collections::HashSet;

use cid::Cid;
use multihash::Multihash;
use rocksdb::WriteBatch;

use crate::{
    error::{NameKind, Result, StoreError},
    keys::{self, CF_META, CF_OBJECTS, HolderId, ObjectVersionId, tag},
    object::{ObjectRecord, StoredObject},
    store::{Delta, Inner, State, Store},
};

/// An upload in progress: a holder that owns the blocks put through it.
///
/// Not committed → its blocks are released when it is dropped.
#[derive(Debug)]
#[must_use = "an upload that is dropped releases its blocks"]
pub struct Upload {
    store: Store,
    holder: HolderId,
    /// Multihashes already referenced by this upload (each counts once).
    seen: HashSet<Vec<u8>>,
    bytes: u64,
    finished: bool,
}

impl Store {
    /// Starts an upload, recording a pending marker so a crash releases its blocks.
    pub fn begin_upload(&self) -> Result<Upload> {
        let inner = &self.inner;
        inner.check()?;
        let holder = inner.new_holder();
        let mut batch = WriteBatch::default();
        batch.put_cf(
            inner.cf(CF_META)?,
            keys::holder_key(tag::PENDING, holder),
            [],
        );
        // No sync needed: the WAL is ordered, so any of this upload's refs that
        // survive a crash come after this marker and are found through it.
        inner.write(batch, false)?;
        Ok(Upload {
            store: self.clone(),
            holder,
            seen: HashSet::new(),
            bytes: 0,
            finished: false,
        })
    }

    /// Removes a pin; returns whether `root` was pinned. Its blocks are freed
    /// once no other holder references them.
    pub fn unpin(&self, root: &Cid) -> Result<bool> {
        let inner = &self.inner;
        let meta = inner.cf(CF_META)?;
        let key = keys::meta_key(tag::PIN, &root.to_bytes());
        let mut state = inner.lock_state()?;
        let Some(v) = inner.get_meta(&key)? else {
            return Ok(false);
        };
        let holder = keys::decode_u64("pin", &key, &v)?;
        let mut batch = WriteBatch::default();
        let mut delta = Delta::default();
        batch.delete_cf(meta, &key);
        inner.release_or_defer(&mut state, &mut batch, &mut delta, holder)?;
        inner.apply_delta(&mut state, &mut batch, delta)?;
        inner.write(batch, false)?;
        drop(state);
        inner.sync_wal()?;
        Ok(true)
    }

    /// Whether `root` (this exact CID) is pinned.
    pub fn is_pinned(&self, root: &Cid) -> Result<bool> {
        self.inner.check()?;
        Ok(self
            .inner
            .get_meta(&keys::meta_key(tag::PIN, &root.to_bytes()))?
            .is_some())
    }

    /// Every pinned root, in CID-byte order.
    pub fn list_pins(&self) -> Result<Vec<Cid>> {
        let inner = &self.inner;
        inner.check()?;
        inner
            .scan_prefix(inner.cf(CF_META)?, &[tag::PIN])?
            .into_iter()
            .map(|(k, _)| {
                Cid::try_from(k.get(1..).unwrap_or_default()).map_err(|_| StoreError::Corrupt {
                    what: "pin key",
                    key: crate::error::show_key(&k),
                })
            })
            .collect()
    }
}

impl Upload {
    /// This upload's holder id, which becomes the object version id on commit.
    pub fn version_id(&self) -> ObjectVersionId {
        ObjectVersionId(self.holder)
    }

    /// Number of distinct blocks put so far.
    pub fn block_count(&self) -> usize {
        self.seen.len()
    }

    /// Total bytes of the distinct blocks put so far.
    pub fn byte_count(&self) -> u64 {
        self.bytes
    }

    /// Stores `bytes` under `mh` if absent and records this upload's reference
    /// to it (once per distinct multihash). The caller vouches that `mh` is the
    /// hash of `bytes` (the DAG builder computed it). Not fsynced: durable with
    /// the commit.
    pub fn put_block(&mut self, mh: &Multihash<64>, bytes: &[u8]) -> Result<()> {
        let key = mh.to_bytes();
        if self.seen.contains(&key) {
            return Ok(());
        }
        let inner = &self.store.inner;
        let mut batch = WriteBatch::default();
        {
            let mut state = inner.lock_state()?;
            inner.add_ref(&mut state, &mut batch, self.holder, &key, bytes)?;
            inner.write(batch, false)?;
        }
        self.bytes += bytes.len() as u64;
        self.seen.insert(key);
        Ok(())
    }

    /// Commits the upload as `bucket/key`, replacing (and releasing) any
    /// current version. Durable when this returns.
    pub fn commit_object(
        mut self,
        bucket: &str,
        key: &str,
        record: ObjectRecord,
    ) -> Result<ObjectVersionId> {
        keys::check_name(NameKind::Key, key)?;
        let inner = self.store.inner.clone();
        {
            let mut state = inner.lock_state()?;
            let mut batch = WriteBatch::default();
            commit_object_in(
                &inner,
                &mut state,
                &mut batch,
                self.holder,
                bucket,
                key,
                record,
            )?;
            inner.write(batch, false)?;
            self.finished = true;
        }
        inner.sync_wal()?;
        Ok(ObjectVersionId(self.holder))
    }

    /// Commits the upload as a pin of `root`; re-pinning a root replaces the
    /// old pin holder. Durable when this returns.
    pub fn commit_pin(mut self, root: Cid) -> Result<()> {
        let inner = self.store.inner.clone();
        {
            let mut state = inner.lock_state()?;
            let meta = inner.cf(CF_META)?;
            let mut batch = WriteBatch::default();
            let mut delta = Delta::default();
            let key = keys::meta_key(tag::PIN, &root.to_bytes());
            if let Some(v) = inner.get_meta(&key)? {
                let old = keys::decode_u64("pin", &key, &v)?;
                inner.release_or_defer(&mut state, &mut batch, &mut delta, old)?;
            }
            batch.delete_cf(meta, keys::holder_key(tag::PENDING, self.holder));
            batch.put_cf(meta, &key, self.holder.to_be_bytes());
            inner.apply_delta(&mut state, &mut batch, delta)?;
            inner.write(batch, false)?;
            self.finished = true;
        }
        inner.sync_wal()
    }

    /// Abandons the upload and releases its blocks now.
    pub fn abort(mut self) -> Result<()> {
        self.finished = true;
        release_upload(&self.store.inner, self.holder)
    }

    pub(crate) fn holder(&self) -> HolderId {
        self.holder
    }

    pub(crate) fn mark_finished(&mut self) {
        self.finished = true;
    }
}

impl Drop for Upload {
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        if let Err(e) = release_upload(&self.store.inner, self.holder) {
            tracing::warn!(error = %e, holder = self.holder, "releasing a dropped upload failed; reclaimed on next open");
        }
    }
}

/// Releases an uncommitted upload's refs and marker (unsynced: if lost, the
/// marker survives and recovery repeats the release).
fn release_upload(inner: &Inner, holder: HolderId) -> Result<()> {
    let mut state = inner.lock_state()?;
    let mut batch = WriteBatch::default();
    let mut delta = Delta::default();
    inner.release_holder(&mut batch, &mut delta, holder)?;
    inner.apply_delta(&mut state, &mut batch, delta)?;
    batch.delete_cf(inner.cf(CF_META)?, keys::holder_key(tag::PENDING, holder));
    inner.write(batch, false)
}

/// Adds "holder becomes `bucket/key`'s current version" to `batch`, releasing
/// the version it replaces. The caller holds the state lock and writes the batch.
pub(crate) fn commit_object_in(
    inner: &Inner,
    state: &mut State,
    batch: &mut WriteBatch,
    holder: HolderId,
    bucket: &str,
    key: &str,
    record: ObjectRecord,
) -> Result<()> {
    crate::bucket::require_bucket(inner, bucket)?;
    let objects = inner.cf(CF_OBJECTS)?;
    let okey = keys::object_key(bucket, key);
    let mut delta = Delta::default();
    if let Some(v) = inner.db.get_pinned_cf(objects, &okey)? {
        let old: StoredObject = keys::decode("object record", &okey, &v)?;
        inner.release_or_defer(state, batch, &mut delta, old.version)?;
        inner.forget_placement_in(batch, old.version)?;
    }
    inner.queue_in(batch, holder, bucket, key, record.root_cid, record.size)?;
    batch.delete_cf(inner.cf(CF_META)?, keys::holder_key(tag::PENDING, holder));
    batch.put_cf(
        objects,
        &okey,
        keys::encode(&StoredObject {
            version: holder,
            record,
        }),
    );
    inner.apply_delta(state, batch, delta)
}

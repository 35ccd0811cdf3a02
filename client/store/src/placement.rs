//! Bookkeeping for placing objects on the storage network, and for the
//! local hot copy that placement lets go of.
//!
//! The store does not talk to the network; it keeps the durable state the
//! gateway's placement worker needs so that a restart loses nothing:
//!
//! - **The queue.** With [`Store::queue_placements`] on, every object
//!   commit adds `q ‖ version` in the same batch as the object record, so
//!   an object acknowledged to a client is always either placed or queued.
//!   An overwrite or delete drops the replaced version's entry.
//! - **Hot copies.** A placed version whose blocks are still here is `h ‖
//!   version`; [`Store::evict`] releases its block references (the blocks
//!   go once no other holder needs them) and marks it `e ‖ version`. The
//!   object record stays: reads then come from the network.
//! - **Block locations.** When an upload's deals are published, each block
//!   of its CAR stream is recorded as `l ‖ multihash → (root, start, end)`:
//!   where the block's bytes sit in that upload's CAR, so a read of one
//!   block (an S3 Range, a `/ipfs` path) fetches just the stripes holding
//!   it. `r ‖ root` marks a root as placed (a second object with the same
//!   content is not placed again).

use std::ops::Range;

use cid::Cid;
use multihash::Multihash;
use rocksdb::WriteBatch;
use serde::{Deserialize, Serialize};

use crate::{
    error::{Result, StoreError},
    keys::{self, CF_META, CF_OBJECTS, HolderId, ObjectVersionId, tag},
    object::StoredObject,
    store::{Delta, Inner, Store},
};

/// Block locations written per batch.
const LOCATION_BATCH: usize = 4096;

/// An object version waiting to be placed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlacementTask {
    /// The version (its blocks are held under it).
    pub version: ObjectVersionId,
    /// Its bucket.
    pub bucket: String,
    /// Its key.
    pub key: String,
    /// The root of its DAG.
    pub root: Cid,
    /// Its size in bytes.
    pub size: u64,
}

/// A placed version whose hot copy is still local.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HotCopy {
    /// The version.
    pub version: ObjectVersionId,
    /// The root of its DAG.
    pub root: Cid,
    /// Its size in bytes.
    pub size: u64,
}

/// The stored form of both records (the version is the key).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Stored {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    bucket: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    key: String,
    #[serde(with = "keys::cid_str")]
    root: Cid,
    size: u64,
}

/// Where a block's bytes are in a placed upload's CAR stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockLocation {
    /// The upload's root (its deals' label).
    pub root: Cid,
    /// The block's data (after its frame's CID) in the CAR stream.
    pub range: Range<u64>,
}

impl Store {
    /// Whether object commits from now on queue the new version for
    /// placement (the gateway turns it on when it has a network).
    pub fn queue_placements(&self, on: bool) {
        self.inner
            .queue_placements
            .store(on, std::sync::atomic::Ordering::Release);
    }

    /// Queued versions, oldest first.
    pub fn placement_queue(&self) -> Result<Vec<PlacementTask>> {
        self.holder_records(tag::PLACE_QUEUE, "placement task", |s, version| {
            PlacementTask {
                version,
                bucket: s.bucket,
                key: s.key,
                root: s.root,
                size: s.size,
            }
        })
    }

    /// Placed versions still holding their blocks here, oldest first.
    pub fn hot_copies(&self) -> Result<Vec<HotCopy>> {
        self.holder_records(tag::HOT, "hot copy", |s, version| HotCopy {
            version,
            root: s.root,
            size: s.size,
        })
    }

    /// Whether `version`'s hot copy was evicted.
    pub fn is_evicted(&self, version: ObjectVersionId) -> Result<bool> {
        self.inner.check()?;
        Ok(self
            .inner
            .get_meta(&keys::holder_key(tag::EVICTED, version.0))?
            .is_some())
    }

    /// Whether an upload of `root` was placed.
    pub fn is_placed(&self, root: &Cid) -> Result<bool> {
        self.inner.check()?;
        Ok(self
            .inner
            .get_meta(&keys::meta_key(tag::PLACED, &root.hash().to_bytes()))?
            .is_some())
    }

    /// Records `task`'s placement: `root`'s deals are published and
    /// `locations` (multihash bytes, CAR range of the block's data) say
    /// where each of its blocks is. The version leaves the queue and, if it
    /// is still current, becomes an evictable hot copy. Durable on return.
    pub fn placement_done(
        &self,
        task: &PlacementTask,
        locations: &[(Vec<u8>, Range<u64>)],
    ) -> Result<()> {
        let inner = &self.inner;
        let meta = inner.cf(CF_META)?;
        let root = task.root.to_bytes();
        // Locations touch no refcount: written in bounded batches without
        // the state lock (a large object has hundreds of thousands), made
        // durable by the sync below. Before the markers, so a crash between
        // leaves the version queued and placed again, never placed without
        // its locations.
        for chunk in locations.chunks(LOCATION_BATCH) {
            let mut batch = WriteBatch::default();
            for (mh, r) in chunk {
                let mut v = Vec::with_capacity(root.len() + 16);
                v.extend_from_slice(&r.start.to_be_bytes());
                v.extend_from_slice(&r.end.to_be_bytes());
                v.extend_from_slice(&root);
                batch.put_cf(meta, keys::meta_key(tag::LOCATION, mh), v);
            }
            inner.write(batch, false)?;
        }
        {
            let _state = inner.lock_state()?;
            let mut batch = WriteBatch::default();
            let queued = keys::holder_key(tag::PLACE_QUEUE, task.version.0);
            if inner.get_meta(&queued)?.is_some() {
                batch.delete_cf(meta, &queued);
                batch.put_cf(
                    meta,
                    keys::holder_key(tag::HOT, task.version.0),
                    keys::encode(&Stored {
                        bucket: String::new(),
                        key: String::new(),
                        root: task.root,
                        size: task.size,
                    }),
                );
            }
            batch.put_cf(
                meta,
                keys::meta_key(tag::PLACED, &task.root.hash().to_bytes()),
                [],
            );
            inner.write(batch, false)?;
        }
        inner.sync_wal()
    }

    /// Drops `version` from the queue (its object is gone, or it need not
    /// be placed).
    pub fn drop_placement(&self, version: ObjectVersionId) -> Result<()> {
        let inner = &self.inner;
        let _state = inner.lock_state()?;
        let mut batch = WriteBatch::default();
        batch.delete_cf(
            inner.cf(CF_META)?,
            keys::holder_key(tag::PLACE_QUEUE, version.0),
        );
        inner.write(batch, true)
    }

    /// Whether `version` is still the current version of `bucket/key`.
    pub fn is_current(&self, bucket: &str, key: &str, version: ObjectVersionId) -> Result<bool> {
        let inner = &self.inner;
        inner.check()?;
        let okey = keys::object_key(bucket, key);
        Ok(
            match inner.db.get_pinned_cf(inner.cf(CF_OBJECTS)?, &okey)? {
                Some(v) => {
                    let s: StoredObject = keys::decode("object record", &okey, &v)?;
                    s.version == version.0
                }
                None => false,
            },
        )
    }

    /// Evicts a placed version's hot copy: its block references go (blocks
    /// no other holder needs are deleted) and its record stays, so reads
    /// come from the network. Returns false, changing nothing, if the
    /// version is not a hot copy (not placed yet, already evicted, gone)
    /// or a reader holds it open right now.
    pub fn evict(&self, version: ObjectVersionId) -> Result<bool> {
        let inner = &self.inner;
        let meta = inner.cf(CF_META)?;
        {
            let mut state = inner.lock_state()?;
            let hot = keys::holder_key(tag::HOT, version.0);
            if inner.get_meta(&hot)?.is_none() || state.is_leased(version.0) {
                return Ok(false);
            }
            let mut batch = WriteBatch::default();
            let mut delta = Delta::default();
            inner.release_holder(&mut batch, &mut delta, version.0)?;
            inner.apply_delta(&mut state, &mut batch, delta)?;
            batch.delete_cf(meta, &hot);
            batch.put_cf(meta, keys::holder_key(tag::EVICTED, version.0), []);
            inner.write(batch, false)?;
        }
        inner.sync_wal()?;
        Ok(true)
    }

    /// Where `mh`'s block is on the network, if a placed upload holds it.
    pub fn block_location(&self, mh: &Multihash<64>) -> Result<Option<BlockLocation>> {
        let inner = &self.inner;
        inner.check()?;
        let key = keys::meta_key(tag::LOCATION, &mh.to_bytes());
        let Some(v) = inner.get_meta(&key)? else {
            return Ok(None);
        };
        let corrupt = || StoreError::Corrupt {
            what: "block location",
            key: crate::error::show_key(&key),
        };
        let (start, rest) = v.split_at_checked(8).ok_or_else(corrupt)?;
        let (end, root) = rest.split_at_checked(8).ok_or_else(corrupt)?;
        let num = |b: &[u8]| b.try_into().map(u64::from_be_bytes).map_err(|_| corrupt());
        let (start, end) = (num(start)?, num(end)?);
        let root = Cid::try_from(root).map_err(|_| corrupt())?;
        if start > end {
            return Err(corrupt());
        }
        Ok(Some(BlockLocation {
            root,
            range: start..end,
        }))
    }

    fn holder_records<T>(
        &self,
        t: u8,
        what: &'static str,
        make: impl Fn(Stored, ObjectVersionId) -> T,
    ) -> Result<Vec<T>> {
        let inner = &self.inner;
        inner.check()?;
        inner
            .scan_prefix(inner.cf(CF_META)?, &[t])?
            .into_iter()
            .map(|(k, v)| {
                let holder = keys::decode_u64(what, &k, k.get(1..).unwrap_or_default())?;
                let rec: Stored = keys::decode(what, &k, &v)?;
                Ok(make(rec, ObjectVersionId(holder)))
            })
            .collect()
    }
}

impl Inner {
    /// Adds "`holder` is queued for placement" to a commit's batch, when
    /// queueing is on.
    pub(crate) fn queue_in(
        &self,
        batch: &mut WriteBatch,
        holder: HolderId,
        bucket: &str,
        key: &str,
        root: Cid,
        size: u64,
    ) -> Result<()> {
        if self
            .queue_placements
            .load(std::sync::atomic::Ordering::Acquire)
        {
            batch.put_cf(
                self.cf(CF_META)?,
                keys::holder_key(tag::PLACE_QUEUE, holder),
                keys::encode(&Stored {
                    bucket: bucket.to_owned(),
                    key: key.to_owned(),
                    root,
                    size,
                }),
            );
        }
        Ok(())
    }

    /// Adds the removal of a replaced or deleted version's placement
    /// entries to `batch`.
    pub(crate) fn forget_placement_in(
        &self,
        batch: &mut WriteBatch,
        holder: HolderId,
    ) -> Result<()> {
        let meta = self.cf(CF_META)?;
        for t in [tag::PLACE_QUEUE, tag::HOT, tag::EVICTED] {
            batch.delete_cf(meta, keys::holder_key(t, holder));
        }
        Ok(())
    }
}

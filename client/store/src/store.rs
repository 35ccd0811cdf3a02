//! The [`Store`] handle: opening, locking, recovery, and the refcount core that
//! every mutation goes through.
//!
//! # Refcounts
//!
//! A *holder* is an upload in progress, a committed object version, a pin, or
//! a released version still read by an [`ObjectHandle`](crate::ObjectHandle).
//! `refs` holds one row per (holder, block) and `refcounts` the number of
//! distinct holders per block. Every read-modify-write of `refcounts` happens
//! under `Inner::state`, so concurrent commits and deletes cannot lose counts;
//! the lock is held for reads and a memtable write only. Durability comes from
//! a WAL sync *after* the lock is dropped ([`Inner::sync_wal`]): the WAL is
//! written in order, so syncing it makes this write, and every unsynced block
//! write before it, durable together, while other threads keep committing.
//! A commit is acknowledged only after its sync.
//!
//! # Crash safety
//!
//! An upload writes a pending marker before any of its refs, and the WAL
//! keeps that order, so after a crash every surviving ref belongs either to a
//! committed holder or to a marker. [`Store::open`] releases every pending
//! marker and every deferred release (no lease survives a process), so orphan
//! blocks are reclaimed.
//!
//! # Poisoning
//!
//! A failed RocksDB write or WAL sync leaves the handle's view of the disk
//! unknown, so the handle is poisoned and every later call returns
//! [`StoreError::Poisoned`]; reopening runs recovery.

use std::{
    collections::{BTreeMap, HashMap},
    fs::{self, File, OpenOptions, TryLockError},
    path::{Path, PathBuf},
    sync::{
        Arc, Mutex, MutexGuard,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
};

use multihash::Multihash;
use rocksdb::{
    ColumnFamily, ColumnFamilyDescriptor, DB, ErrorKind, Options, ReadOptions, WriteBatch,
    WriteOptions,
};

use crate::{
    error::{Result, StoreError, io_err, show_key},
    keys::{
        self, ALL_CFS, CF_BLOCKS, CF_META, CF_REFCOUNTS, CF_REFS, FORMAT_VERSION, HolderId, tag,
    },
};

/// Values at least this large go to RocksDB blob files instead of SSTs.
const MIN_BLOB_SIZE: u64 = 4 * 1024;
/// Holder ids are `epoch << EPOCH_SHIFT | counter`.
const EPOCH_SHIFT: u32 = 40;

/// Handle to an open store. Cheap to clone; all clones share one database.
///
/// Every method is synchronous and may block on disk I/O: call it from
/// `spawn_blocking` in async code.
#[derive(Clone, Debug)]
pub struct Store {
    pub(crate) inner: Arc<Inner>,
}

/// Rough size figures for metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct StoreStats {
    /// RocksDB's estimate of the number of blocks (`rocksdb.estimate-num-keys`).
    pub approx_blocks: u64,
    /// Bytes in the blocks column family's SST and blob files (excludes memtables).
    pub approx_block_bytes: u64,
}

/// Shared state behind every [`Store`] clone and handle.
pub(crate) struct Inner {
    // Field order is drop order: close the database before the lock is released.
    pub(crate) db: DB,
    pub(crate) data_dir: PathBuf,
    poisoned: AtomicBool,
    /// Guards refcount read-modify-writes, object/pin/bucket mutations and leases.
    state: Mutex<State>,
    /// Guards multipart records; taken before `state` when both are needed.
    mp_lock: Mutex<()>,
    next_holder: AtomicU64,
    /// Whether object commits queue their version for placement.
    pub(crate) queue_placements: AtomicBool,
    _lock_file: File,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inner")
            .field("data_dir", &self.data_dir)
            .field("poisoned", &self.poisoned.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

/// Mutable in-memory state guarded by `Inner::state`.
#[derive(Debug, Default)]
pub(crate) struct State {
    leases: HashMap<HolderId, Lease>,
}

impl State {
    /// Whether a reader holds `holder` open.
    pub(crate) fn is_leased(&self, holder: HolderId) -> bool {
        self.leases.get(&holder).is_some_and(|l| l.count > 0)
    }
}

/// Read leases on one object version.
#[derive(Debug, Default)]
struct Lease {
    count: usize,
    /// The version was overwritten or deleted; release it when `count` hits 0.
    released: bool,
}

/// Pending refcount changes within one batch, keyed by multihash bytes.
#[derive(Debug, Default)]
pub(crate) struct Delta(BTreeMap<Vec<u8>, i64>);

impl Store {
    /// Opens the store in `data_dir`, creating it if absent.
    ///
    /// Creates `data_dir/db` (RocksDB) and `data_dir/multipart`, takes an
    /// exclusive lock (another holder gives [`StoreError::Locked`]), checks the
    /// format version, then recovers: releases the refs of uploads a dead
    /// process left pending and of versions whose release was deferred, and
    /// removes multipart files no record points to.
    pub fn open(data_dir: impl AsRef<Path>) -> Result<Store> {
        let data_dir = data_dir.as_ref().to_path_buf();
        fs::create_dir_all(&data_dir).map_err(io_err(&data_dir))?;
        let lock_path = data_dir.join("store.lock");
        let lock_file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&lock_path)
            .map_err(io_err(&lock_path))?;
        match lock_file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => return Err(StoreError::Locked { path: data_dir }),
            Err(TryLockError::Error(source)) => {
                return Err(StoreError::Io {
                    path: lock_path,
                    source,
                });
            }
        }

        let db_path = data_dir.join("db");
        let mut opts = Options::default();
        opts.create_if_missing(true);
        opts.create_missing_column_families(true);
        let cfs = ALL_CFS.iter().map(|&name| {
            let mut cf = Options::default();
            if name == CF_BLOCKS {
                cf.set_enable_blob_files(true);
                cf.set_min_blob_size(MIN_BLOB_SIZE);
                // Without blob GC, deleted blocks would never leave blob files.
                cf.set_enable_blob_gc(true);
            }
            ColumnFamilyDescriptor::new(name, cf)
        });
        let db = DB::open_cf_descriptors(&opts, &db_path, cfs).map_err(|e| {
            if e.kind() == ErrorKind::IOError && e.as_ref().to_ascii_lowercase().contains("lock") {
                StoreError::Locked {
                    path: data_dir.clone(),
                }
            } else {
                StoreError::Db { source: e }
            }
        })?;

        let epoch = init_meta(&db)?;
        let inner = Arc::new(Inner {
            db,
            data_dir,
            poisoned: AtomicBool::new(false),
            state: Mutex::new(State::default()),
            mp_lock: Mutex::new(()),
            next_holder: AtomicU64::new(epoch << EPOCH_SHIFT),
            queue_placements: AtomicBool::new(false),
            _lock_file: lock_file,
        });
        inner.recover()?;
        crate::multipart::cleanup_orphan_files(&inner)?;
        Ok(Store { inner })
    }

    /// The directory the store was opened in.
    pub fn data_dir(&self) -> &Path {
        &self.inner.data_dir
    }

    /// Whether an earlier failed write poisoned this handle.
    pub fn is_poisoned(&self) -> bool {
        self.inner.poisoned.load(Ordering::Acquire)
    }

    /// Reads a block by multihash; CIDv0 and CIDv1 of the same bytes share it.
    pub fn get_block(&self, mh: &Multihash<64>) -> Result<Option<Vec<u8>>> {
        self.inner.check()?;
        let cf = self.inner.cf(CF_BLOCKS)?;
        Ok(self
            .inner
            .db
            .get_pinned_cf(cf, mh.to_bytes())?
            .map(|v| v.to_vec()))
    }

    /// Whether the store holds the block.
    pub fn has_block(&self, mh: &Multihash<64>) -> Result<bool> {
        self.inner.check()?;
        let cf = self.inner.cf(CF_BLOCKS)?;
        Ok(self.inner.db.get_pinned_cf(cf, mh.to_bytes())?.is_some())
    }

    /// Cheap, approximate size figures from RocksDB properties.
    pub fn stats(&self) -> Result<StoreStats> {
        self.inner.check()?;
        let cf = self.inner.cf(CF_BLOCKS)?;
        let prop = |name: &str| -> Result<u64> {
            Ok(self.inner.db.property_int_value_cf(cf, name)?.unwrap_or(0))
        };
        Ok(StoreStats {
            approx_blocks: prop("rocksdb.estimate-num-keys")?,
            approx_block_bytes: prop("rocksdb.total-sst-files-size")?
                + prop("rocksdb.total-blob-file-size")?,
        })
    }
}

/// Checks or writes the format version and bumps the epoch; returns the new epoch.
fn init_meta(db: &DB) -> Result<u64> {
    let meta = db.cf_handle(CF_META).ok_or(StoreError::Corrupt {
        what: "column family",
        key: CF_META.to_owned(),
    })?;
    let format = db.get_cf(meta, tag::FORMAT)?;
    let old_epoch = db.get_cf(meta, tag::EPOCH)?;
    let mut batch = WriteBatch::default();
    match (&format, &old_epoch) {
        (Some(v), _) => {
            let arr: [u8; 4] = v.as_slice().try_into().map_err(|_| StoreError::Corrupt {
                what: "format version",
                key: show_key(tag::FORMAT),
            })?;
            let found = u32::from_be_bytes(arr);
            if found != FORMAT_VERSION {
                return Err(StoreError::VersionMismatch {
                    found,
                    expected: FORMAT_VERSION,
                });
            }
        }
        // Written together with the first epoch, so an epoch without it is damage.
        (None, Some(_)) => {
            return Err(StoreError::Corrupt {
                what: "format version",
                key: show_key(tag::FORMAT),
            });
        }
        (None, None) => batch.put_cf(meta, tag::FORMAT, FORMAT_VERSION.to_be_bytes()),
    }
    let epoch = match old_epoch {
        Some(v) => keys::decode_u64("epoch", tag::EPOCH, &v)? + 1,
        None => 1,
    };
    if epoch >= 1 << (64 - EPOCH_SHIFT) {
        return Err(StoreError::Corrupt {
            what: "epoch (exhausted)",
            key: show_key(tag::EPOCH),
        });
    }
    batch.put_cf(meta, tag::EPOCH, epoch.to_be_bytes());
    let mut wo = WriteOptions::default();
    wo.set_sync(true);
    db.write_opt(batch, &wo)?;
    Ok(epoch)
}

impl Inner {
    /// Fails fast on a poisoned handle.
    pub(crate) fn check(&self) -> Result<()> {
        if self.poisoned.load(Ordering::Acquire) {
            Err(StoreError::Poisoned)
        } else {
            Ok(())
        }
    }

    pub(crate) fn poison(&self) {
        if !self.poisoned.swap(true, Ordering::AcqRel) {
            tracing::error!(dir = %self.data_dir.display(), "store poisoned by a failed write");
        }
    }

    /// Looks up a column family opened in [`Store::open`].
    pub(crate) fn cf(&self, name: &'static str) -> Result<&ColumnFamily> {
        self.db.cf_handle(name).ok_or(StoreError::Corrupt {
            what: "column family",
            key: name.to_owned(),
        })
    }

    /// Writes a batch; a failure poisons the handle.
    pub(crate) fn write(&self, batch: WriteBatch, sync: bool) -> Result<()> {
        self.check()?;
        let mut wo = WriteOptions::default();
        wo.set_sync(sync);
        self.db.write_opt(batch, &wo).map_err(|source| {
            self.poison();
            StoreError::Db { source }
        })
    }

    /// Makes every write so far durable; a failure poisons the handle.
    pub(crate) fn sync_wal(&self) -> Result<()> {
        self.db.flush_wal(true).map_err(|source| {
            self.poison();
            StoreError::Db { source }
        })
    }

    /// Locks the refcount/object state. A panic while holding it poisons the store.
    pub(crate) fn lock_state(&self) -> Result<MutexGuard<'_, State>> {
        self.check()?;
        self.state.lock().map_err(|_| {
            self.poison();
            StoreError::Poisoned
        })
    }

    /// Locks multipart records.
    pub(crate) fn lock_mp(&self) -> Result<MutexGuard<'_, ()>> {
        self.check()?;
        self.mp_lock.lock().map_err(|_| {
            self.poison();
            StoreError::Poisoned
        })
    }

    /// A holder id never used before in this store.
    pub(crate) fn new_holder(&self) -> HolderId {
        self.next_holder.fetch_add(1, Ordering::Relaxed)
    }

    pub(crate) fn get_meta(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        Ok(self.db.get_cf(self.cf(CF_META)?, key)?)
    }

    /// Adds the (holder, block) ref to `batch`, writing the block if no holder
    /// had it. The caller holds the state lock and guarantees the ref is new.
    pub(crate) fn add_ref(
        &self,
        _state: &mut State,
        batch: &mut WriteBatch,
        holder: HolderId,
        mh: &[u8],
        bytes: &[u8],
    ) -> Result<()> {
        let rc_cf = self.cf(CF_REFCOUNTS)?;
        let rc = match self.db.get_pinned_cf(rc_cf, mh)? {
            Some(v) => keys::decode_u64("refcount", mh, &v)?,
            None => 0,
        };
        if rc == 0 {
            batch.put_cf(self.cf(CF_BLOCKS)?, mh, bytes);
        }
        batch.put_cf(rc_cf, mh, (rc + 1).to_be_bytes());
        batch.put_cf(self.cf(CF_REFS)?, keys::ref_key(holder, mh), []);
        Ok(())
    }

    /// Adds the deletion of all of `holder`'s refs to `batch` and `delta`.
    pub(crate) fn release_holder(
        &self,
        batch: &mut WriteBatch,
        delta: &mut Delta,
        holder: HolderId,
    ) -> Result<()> {
        let refs = self.cf(CF_REFS)?;
        let lower = holder.to_be_bytes();
        let mut ro = ReadOptions::default();
        ro.set_iterate_lower_bound(lower.to_vec());
        if let Some(upper) = keys::prefix_successor(&lower) {
            ro.set_iterate_upper_bound(upper);
        }
        let mut it = self.db.raw_iterator_cf_opt(refs, ro);
        it.seek(lower);
        while let Some(key) = it.key() {
            let mh = key.get(8..).unwrap_or_default();
            *delta.0.entry(mh.to_vec()).or_default() -= 1;
            batch.delete_cf(refs, key);
            it.next();
        }
        it.status()?;
        Ok(())
    }

    /// Adds refcount updates for `delta` to `batch`; blocks reaching 0 are deleted.
    pub(crate) fn apply_delta(
        &self,
        _state: &mut State,
        batch: &mut WriteBatch,
        delta: Delta,
    ) -> Result<()> {
        let rc_cf = self.cf(CF_REFCOUNTS)?;
        let blocks = self.cf(CF_BLOCKS)?;
        for (mh, d) in delta.0 {
            let rc = match self.db.get_pinned_cf(rc_cf, &mh)? {
                Some(v) => keys::decode_u64("refcount", &mh, &v)?,
                None => 0,
            };
            let new = i128::from(rc) + i128::from(d);
            if new < 0 {
                tracing::warn!(block = %show_key(&mh), rc, delta = d, "refcount would go negative");
            }
            match u64::try_from(new) {
                Ok(n) if n > 0 => batch.put_cf(rc_cf, &mh, n.to_be_bytes()),
                _ => {
                    batch.delete_cf(rc_cf, &mh);
                    batch.delete_cf(blocks, &mh);
                }
            }
        }
        Ok(())
    }

    /// Releases `holder` now, or, if readers lease it, defers the release to
    /// the last lease's drop (recording a durable marker for crash recovery).
    pub(crate) fn release_or_defer(
        &self,
        state: &mut State,
        batch: &mut WriteBatch,
        delta: &mut Delta,
        holder: HolderId,
    ) -> Result<()> {
        match state.leases.get_mut(&holder) {
            Some(lease) if lease.count > 0 => {
                lease.released = true;
                batch.put_cf(
                    self.cf(CF_META)?,
                    keys::holder_key(tag::DEFERRED, holder),
                    [],
                );
                Ok(())
            }
            _ => self.release_holder(batch, delta, holder),
        }
    }

    /// Adds a read lease on `holder`; the caller found it live under the lock.
    pub(crate) fn acquire_lease(state: &mut State, holder: HolderId) {
        state.leases.entry(holder).or_default().count += 1;
    }

    /// Drops one read lease; the last one on a released version frees its blocks.
    /// Best effort: runs from `Drop`, so failures are logged (and poison on write).
    pub(crate) fn drop_lease(&self, holder: HolderId) {
        let result = (|| -> Result<()> {
            let mut state = self.lock_state()?;
            let Some(lease) = state.leases.get_mut(&holder) else {
                return Ok(());
            };
            lease.count = lease.count.saturating_sub(1);
            if lease.count > 0 {
                return Ok(());
            }
            let released = lease.released;
            state.leases.remove(&holder);
            if released {
                let mut batch = WriteBatch::default();
                let mut delta = Delta::default();
                self.release_holder(&mut batch, &mut delta, holder)?;
                self.apply_delta(&mut state, &mut batch, delta)?;
                batch.delete_cf(self.cf(CF_META)?, keys::holder_key(tag::DEFERRED, holder));
                // Unsynced: if lost in a crash, the deferred marker survives and
                // recovery releases the version on the next open.
                self.write(batch, false)?;
            }
            Ok(())
        })();
        if let Err(e) = result {
            tracing::warn!(error = %e, holder, "releasing a read lease failed");
        }
    }

    /// Releases every pending upload and deferred release left by a dead process.
    fn recover(&self) -> Result<()> {
        let meta = self.cf(CF_META)?;
        let mut holders = Vec::new();
        for t in [tag::PENDING, tag::DEFERRED] {
            for (key, _) in self.scan_prefix(meta, &[t])? {
                let holder =
                    keys::decode_u64("holder marker", &key, key.get(1..).unwrap_or_default())?;
                holders.push((key, holder));
            }
        }
        if holders.is_empty() {
            return Ok(());
        }
        let mut state = self.lock_state()?;
        let mut batch = WriteBatch::default();
        let mut delta = Delta::default();
        for (key, holder) in &holders {
            self.release_holder(&mut batch, &mut delta, *holder)?;
            batch.delete_cf(meta, key);
        }
        self.apply_delta(&mut state, &mut batch, delta)?;
        self.write(batch, true)?;
        tracing::info!(
            holders = holders.len(),
            "released uploads and versions left by a previous process"
        );
        Ok(())
    }

    /// All (key, value) pairs in `cf` whose key starts with `prefix`.
    pub(crate) fn scan_prefix(
        &self,
        cf: &ColumnFamily,
        prefix: &[u8],
    ) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        let mut ro = ReadOptions::default();
        ro.set_iterate_lower_bound(prefix.to_vec());
        if let Some(upper) = keys::prefix_successor(prefix) {
            ro.set_iterate_upper_bound(upper);
        }
        let mut it = self.db.raw_iterator_cf_opt(cf, ro);
        it.seek(prefix);
        let mut out = Vec::new();
        while let (Some(k), Some(v)) = (it.key(), it.value()) {
            out.push((k.to_vec(), v.to_vec()));
            it.next();
        }
        it.status()?;
        Ok(out)
    }

    /// Whether any key in `cf` starts with `prefix`.
    pub(crate) fn any_with_prefix(&self, cf: &ColumnFamily, prefix: &[u8]) -> Result<bool> {
        let mut ro = ReadOptions::default();
        ro.set_iterate_lower_bound(prefix.to_vec());
        if let Some(upper) = keys::prefix_successor(prefix) {
            ro.set_iterate_upper_bound(upper);
        }
        let mut it = self.db.raw_iterator_cf_opt(cf, ro);
        it.seek(prefix);
        let found = it.valid();
        it.status()?;
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn poisoned_handle_rejects_every_call_and_reopen_recovers() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        store.create_bucket("b", "p", 0).unwrap();
        let mh = Multihash::<64>::wrap(0x12, &[1; 32]).unwrap();
        let mut upload = store.begin_upload().unwrap();
        upload.put_block(&mh, b"x").unwrap();

        store.inner.poison();
        assert!(store.is_poisoned());
        assert!(matches!(store.get_block(&mh), Err(StoreError::Poisoned)));
        assert!(matches!(store.begin_upload(), Err(StoreError::Poisoned)));
        assert!(matches!(
            upload.put_block(&Multihash::<64>::wrap(0x12, &[2; 32]).unwrap(), b"y"),
            Err(StoreError::Poisoned)
        ));
        assert!(matches!(
            store.create_bucket("c", "p", 0),
            Err(StoreError::Poisoned)
        ));
        assert!(matches!(store.list_buckets(), Err(StoreError::Poisoned)));
        assert!(matches!(
            store.delete_object("b", "k"),
            Err(StoreError::Poisoned)
        ));
        assert!(matches!(
            store.list_objects("b", &crate::ListQuery::default()),
            Err(StoreError::Poisoned)
        ));
        assert!(matches!(
            store.create_multipart("b", "k", Default::default(), 0),
            Err(StoreError::Poisoned)
        ));
        // Dropping the upload on a poisoned handle must not panic; the block
        // stays until recovery.
        drop(upload);
        drop(store);

        let store = Store::open(dir.path()).unwrap();
        assert!(!store.is_poisoned());
        assert_eq!(
            store.get_block(&mh).unwrap(),
            None,
            "recovery released the pending upload"
        );
        assert_eq!(store.list_buckets().unwrap().len(), 1);
    }

    #[test]
    fn holder_ids_are_unique_across_reopens() {
        let dir = tempfile::tempdir().unwrap();
        let first = Store::open(dir.path())
            .unwrap()
            .begin_upload()
            .unwrap()
            .version_id();
        let second = Store::open(dir.path())
            .unwrap()
            .begin_upload()
            .unwrap()
            .version_id();
        assert!(second > first, "{second} after {first}");
        assert_eq!(
            second.get() >> EPOCH_SHIFT,
            (first.get() >> EPOCH_SHIFT) + 1
        );
    }
}

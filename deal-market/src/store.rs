//! The validator's durable state in RocksDB: every finalized block, its
//! receipts, a transaction index, and the ledger state after the last
//! finalized block.
//!
//! The finalizer commits one finalized block with [`Store::commit`]: the
//! block, its receipts, its transaction index entries, the new state
//! snapshot and the new tip, in one `WriteBatch` written with `sync`, so a
//! crash leaves either the whole block or none of it. Only then does it
//! acknowledge the block to marshal, so after a crash marshal redelivers
//! what was not acknowledged, and [`Store::tip`] tells the finalizer which
//! redeliveries are already applied.
//!
//! A failed write poisons the handle: later calls return
//! [`StoreError::Poisoned`], and the validator stops rather than run on a
//! state it may not have persisted. Reopening recovers (RocksDB's WAL).
//!
//! Keys (all in the default column family, big-endian heights so they
//! sort): `meta/tip` → height ‖ digest ‖ root; `state` → the snapshot;
//! `block/<h>` → the encoded block; `receipts/<h>` → JSON receipts;
//! `tx/<hash>` → height ‖ index.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use rocksdb::{DB, Options, WriteBatch, WriteOptions};

/// Format version stored under `meta/version`.
const VERSION: &[u8] = b"cairn-validator-store/v1";

/// A store failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// RocksDB refused an operation.
    #[error("rocksdb {op}: {source}")]
    Rocks {
        /// What was being done.
        op: &'static str,
        /// The cause.
        #[source]
        source: rocksdb::Error,
    },
    /// An earlier write failed; this handle refuses further use.
    #[error("the store is poisoned by an earlier failed write")]
    Poisoned,
    /// A value on disk is not in the format this build writes.
    #[error("corrupt {what} on disk")]
    Corrupt {
        /// Which value.
        what: &'static str,
    },
    /// The store was written by another format version.
    #[error("store format {found:?}, expected {VERSION:?}")]
    Version {
        /// What the store says.
        found: String,
    },
}

/// The last finalized block the store holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tip {
    /// Its height.
    pub height: u64,
    /// Its digest.
    pub digest: [u8; 32],
    /// The state root after it.
    pub root: [u8; 32],
}

/// Where a transaction was included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TxLocation {
    /// Block height.
    pub height: u64,
    /// Index in the block.
    pub index: u32,
}

/// One finalized block to commit.
#[derive(Debug)]
pub struct Commit<'a> {
    /// The new tip.
    pub tip: Tip,
    /// The encoded block.
    pub block: &'a [u8],
    /// Its receipts, JSON.
    pub receipts: &'a [u8],
    /// The hashes of its transactions, in order.
    pub txs: &'a [[u8; 32]],
    /// The state snapshot after it.
    pub snapshot: &'a [u8],
}

/// The RocksDB store.
#[derive(Debug)]
pub struct Store {
    db: DB,
    poisoned: AtomicBool,
}

fn key_h(prefix: &[u8], height: u64) -> Vec<u8> {
    let mut k = prefix.to_vec();
    k.extend_from_slice(&height.to_be_bytes());
    k
}

impl Store {
    /// Opens (or creates) the store in `dir`.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        let mut opts = Options::default();
        opts.create_if_missing(true);
        let db = DB::open(&opts, dir).map_err(|source| StoreError::Rocks { op: "open", source })?;
        let store = Self {
            db,
            poisoned: AtomicBool::new(false),
        };
        match store.get(b"meta/version")? {
            None => {
                let mut wo = WriteOptions::default();
                wo.set_sync(true);
                store
                    .db
                    .put_opt(b"meta/version", VERSION, &wo)
                    .map_err(|source| StoreError::Rocks {
                        op: "put version",
                        source,
                    })?;
            }
            Some(v) if v == VERSION => {}
            Some(v) => {
                return Err(StoreError::Version {
                    found: String::from_utf8_lossy(&v).into_owned(),
                });
            }
        }
        Ok(store)
    }

    fn check(&self) -> Result<(), StoreError> {
        if self.poisoned.load(Ordering::Acquire) {
            Err(StoreError::Poisoned)
        } else {
            Ok(())
        }
    }

    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.check()?;
        self.db
            .get(key)
            .map_err(|source| StoreError::Rocks { op: "get", source })
    }

    /// The last committed block, if any.
    pub fn tip(&self) -> Result<Option<Tip>, StoreError> {
        let Some(v) = self.get(b"meta/tip")? else {
            return Ok(None);
        };
        let corrupt = StoreError::Corrupt { what: "tip" };
        if v.len() != 72 {
            return Err(corrupt);
        }
        let mut height = [0u8; 8];
        let mut digest = [0u8; 32];
        let mut root = [0u8; 32];
        height.copy_from_slice(v.get(..8).ok_or(StoreError::Corrupt { what: "tip" })?);
        digest.copy_from_slice(v.get(8..40).ok_or(StoreError::Corrupt { what: "tip" })?);
        root.copy_from_slice(v.get(40..72).ok_or(corrupt)?);
        Ok(Some(Tip {
            height: u64::from_be_bytes(height),
            digest,
            root,
        }))
    }

    /// The state snapshot after the tip.
    pub fn snapshot(&self) -> Result<Option<Vec<u8>>, StoreError> {
        self.get(b"state")
    }

    /// The encoded block at `height`.
    pub fn block(&self, height: u64) -> Result<Option<Vec<u8>>, StoreError> {
        self.get(&key_h(b"block/", height))
    }

    /// The JSON receipts of the block at `height`.
    pub fn receipts(&self, height: u64) -> Result<Option<Vec<u8>>, StoreError> {
        self.get(&key_h(b"receipts/", height))
    }

    /// Where transaction `hash` was included.
    pub fn tx(&self, hash: &[u8; 32]) -> Result<Option<TxLocation>, StoreError> {
        let mut k = b"tx/".to_vec();
        k.extend_from_slice(hash);
        let Some(v) = self.get(&k)? else {
            return Ok(None);
        };
        let (h, i) = v
            .split_at_checked(8)
            .ok_or(StoreError::Corrupt { what: "tx index" })?;
        let h: [u8; 8] = h
            .try_into()
            .map_err(|_| StoreError::Corrupt { what: "tx index" })?;
        let i: [u8; 4] = i
            .try_into()
            .map_err(|_| StoreError::Corrupt { what: "tx index" })?;
        Ok(Some(TxLocation {
            height: u64::from_be_bytes(h),
            index: u32::from_be_bytes(i),
        }))
    }

    /// Commits one finalized block in one synced batch.
    pub fn commit(&self, c: &Commit<'_>) -> Result<(), StoreError> {
        self.check()?;
        let mut batch = WriteBatch::default();
        let h = c.tip.height;
        batch.put(key_h(b"block/", h), c.block);
        batch.put(key_h(b"receipts/", h), c.receipts);
        for (i, tx) in c.txs.iter().enumerate() {
            let mut k = b"tx/".to_vec();
            k.extend_from_slice(tx);
            let mut v = h.to_be_bytes().to_vec();
            v.extend_from_slice(&u32::try_from(i).unwrap_or(u32::MAX).to_be_bytes());
            batch.put(k, v);
        }
        batch.put(b"state", c.snapshot);
        let mut tip = h.to_be_bytes().to_vec();
        tip.extend_from_slice(&c.tip.digest);
        tip.extend_from_slice(&c.tip.root);
        batch.put(b"meta/tip", tip);
        let mut wo = WriteOptions::default();
        wo.set_sync(true);
        self.db.write_opt(batch, &wo).map_err(|source| {
            self.poisoned.store(true, Ordering::Release);
            StoreError::Rocks {
                op: "commit",
                source,
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commit_then_reopen_reads_it_back() {
        let dir = tempfile::tempdir().unwrap();
        let tip = Tip {
            height: 3,
            digest: [1; 32],
            root: [2; 32],
        };
        {
            let s = Store::open(dir.path()).unwrap();
            assert_eq!(s.tip().unwrap(), None);
            s.commit(&Commit {
                tip,
                block: b"block",
                receipts: b"[]",
                txs: &[[9; 32], [8; 32]],
                snapshot: b"snap",
            })
            .unwrap();
        }
        let s = Store::open(dir.path()).unwrap();
        assert_eq!(s.tip().unwrap(), Some(tip));
        assert_eq!(s.snapshot().unwrap().as_deref(), Some(&b"snap"[..]));
        assert_eq!(s.block(3).unwrap().as_deref(), Some(&b"block"[..]));
        assert_eq!(s.block(2).unwrap(), None);
        assert_eq!(
            s.tx(&[8; 32]).unwrap(),
            Some(TxLocation {
                height: 3,
                index: 1
            })
        );
        assert_eq!(s.tx(&[7; 32]).unwrap(), None);
    }
}

//! Consistency check of the refcount invariants, for `cairn store fsck` and tests.
//!
//! Invariants, read from one RocksDB snapshot:
//! - every block has a refcount, every refcount a block;
//! - each block's refcount equals the number of `refs` rows naming it;
//! - every holder in `refs` is owned: a pending upload, a deferred release,
//!   an object version or a pin.
//!
//! A store that [`Store::open`] just recovered, with no live uploads or
//! leases, also has no pending or deferred holders; [`FsckReport`] counts them.

use std::collections::{BTreeMap, HashSet};

use multihash::Multihash;
use rocksdb::{ColumnFamily, DB, ReadOptions, SnapshotWithThreadMode};

use crate::{
    error::{Result, show_key},
    keys::{self, CF_BLOCKS, CF_META, CF_OBJECTS, CF_REFCOUNTS, CF_REFS, HolderId, tag},
    object::StoredObject,
    store::Store,
};

/// One broken invariant.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FsckProblem {
    /// The stored refcount differs from the number of refs.
    RefcountMismatch {
        /// The block.
        block: Multihash<64>,
        /// Refcount stored (0 if missing).
        stored: u64,
        /// Refs counted.
        counted: u64,
    },
    /// A block with no refcount (it would never be reclaimed).
    UnreferencedBlock {
        /// The block.
        block: Multihash<64>,
    },
    /// A refcount for a block that is not stored (a holder lost data).
    MissingBlock {
        /// The block.
        block: Multihash<64>,
    },
    /// A holder with refs that nothing owns (its blocks would never be reclaimed).
    UnownedHolder {
        /// The holder id.
        holder: u64,
    },
    /// A key that does not parse.
    MalformedKey {
        /// The column family.
        column_family: &'static str,
        /// The key, escaped.
        key: String,
    },
}

/// Result of [`Store::fsck`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct FsckReport {
    /// Blocks stored.
    pub blocks: u64,
    /// Distinct holders with at least one ref.
    pub holders: u64,
    /// Uploads in progress (pending markers).
    pub pending_uploads: u64,
    /// Released versions still held for readers (deferred markers).
    pub deferred_releases: u64,
    /// Broken invariants; empty for a healthy store.
    pub problems: Vec<FsckProblem>,
}

type Snap<'a> = SnapshotWithThreadMode<'a, DB>;

/// Calls `f(key, value)` for every row of `cf` starting with `prefix`.
fn each(
    snap: &Snap<'_>,
    cf: &ColumnFamily,
    prefix: &[u8],
    mut f: impl FnMut(&[u8], &[u8]) -> Result<()>,
) -> Result<()> {
    let mut ro = ReadOptions::default();
    if let Some(upper) = keys::prefix_successor(prefix) {
        ro.set_iterate_upper_bound(upper);
    }
    let mut it = snap.raw_iterator_cf_opt(cf, ro);
    it.seek(prefix);
    while let (Some(k), Some(v)) = (it.key(), it.value()) {
        f(k, v)?;
        it.next();
    }
    Ok(it.status()?)
}

impl Store {
    /// Checks the refcount invariants on a consistent snapshot. Reads every
    /// row of the refcount tables and every block: an admin tool, not a hot path.
    pub fn fsck(&self) -> Result<FsckReport> {
        let inner = &self.inner;
        inner.check()?;
        let snap = inner.db.snapshot();
        let mut report = FsckReport::default();
        let mut problems = Vec::new();
        let malformed = |cf: &'static str, k: &[u8]| FsckProblem::MalformedKey {
            column_family: cf,
            key: show_key(k),
        };

        let mut owners: HashSet<HolderId> = HashSet::new();
        let meta = inner.cf(CF_META)?;
        for (t, counter) in [
            (tag::PENDING, &mut report.pending_uploads),
            (tag::DEFERRED, &mut report.deferred_releases),
        ] {
            each(&snap, meta, &[t], |k, _| {
                owners.insert(keys::decode_u64(
                    "holder marker",
                    k,
                    k.get(1..).unwrap_or_default(),
                )?);
                *counter += 1;
                Ok(())
            })?;
        }
        each(&snap, meta, &[tag::PIN], |k, v| {
            owners.insert(keys::decode_u64("pin", k, v)?);
            Ok(())
        })?;
        each(&snap, inner.cf(CF_OBJECTS)?, &[], |k, v| {
            owners.insert(keys::decode::<StoredObject>("object record", k, v)?.version);
            Ok(())
        })?;

        let mut counted: BTreeMap<Vec<u8>, u64> = BTreeMap::new();
        let mut holders: HashSet<HolderId> = HashSet::new();
        each(&snap, inner.cf(CF_REFS)?, &[], |k, _| {
            match k.split_first_chunk::<8>() {
                Some((h, mh)) => {
                    holders.insert(u64::from_be_bytes(*h));
                    *counted.entry(mh.to_vec()).or_default() += 1;
                }
                None => problems.push(malformed(CF_REFS, k)),
            }
            Ok(())
        })?;
        let mut unowned: Vec<_> = holders.difference(&owners).copied().collect();
        unowned.sort_unstable();
        problems.extend(
            unowned
                .into_iter()
                .map(|holder| FsckProblem::UnownedHolder { holder }),
        );
        report.holders = holders.len() as u64;

        let mut stored: BTreeMap<Vec<u8>, u64> = BTreeMap::new();
        each(&snap, inner.cf(CF_REFCOUNTS)?, &[], |k, v| {
            stored.insert(k.to_vec(), keys::decode_u64("refcount", k, v)?);
            Ok(())
        })?;
        let mut blocks: HashSet<Vec<u8>> = HashSet::new();
        let blocks_cf = inner.cf(CF_BLOCKS)?;
        let mut it = snap.raw_iterator_cf_opt(blocks_cf, ReadOptions::default());
        it.seek_to_first();
        while let Some(k) = it.key() {
            blocks.insert(k.to_vec());
            it.next();
        }
        it.status()?;
        report.blocks = blocks.len() as u64;

        let all: std::collections::BTreeSet<&Vec<u8>> = counted
            .keys()
            .chain(stored.keys())
            .chain(blocks.iter())
            .collect();
        for mh in all {
            let Ok(block) = Multihash::<64>::from_bytes(mh) else {
                problems.push(malformed(CF_BLOCKS, mh));
                continue;
            };
            let (s, c) = (
                stored.get(mh).copied().unwrap_or(0),
                counted.get(mh).copied().unwrap_or(0),
            );
            if s != c {
                problems.push(FsckProblem::RefcountMismatch {
                    block,
                    stored: s,
                    counted: c,
                });
            }
            match (s > 0, blocks.contains(mh)) {
                (true, false) => problems.push(FsckProblem::MissingBlock { block }),
                (false, true) => problems.push(FsckProblem::UnreferencedBlock { block }),
                _ => {}
            }
        }
        report.problems = problems;
        Ok(report)
    }
}

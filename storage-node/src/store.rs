//! The node's piece store: piece files plus their records in RocksDB.
//!
//! Layout under the data dir:
//!
//! - `meta/` RocksDB with column families `proposals` (proposal id →
//!   [`ProposalRecord`]), `pieces` (CommP → payload length) and `sectors`
//!   (sector number, big-endian → the sealing journal's record, see
//!   [`crate::sealing::journal`]);
//! - `incoming/<proposal>`: a transfer's payload bytes so far;
//! - `pieces/<commp>`: a piece's payload once its proposal is
//!   countersigned (the unsealed copy retrieval serves);
//! - `node.lock`: held while a process has the store open.
//!
//! A transfer's durable length is recorded at each sync point; after a
//! crash its file is cut back to the recorded length, so a resumed
//! transfer never builds on bytes that might be torn. A countersigned
//! piece is fsynced, renamed into `pieces/` and recorded in one synced
//! write before the signature leaves the node: what the node signed, it
//! holds.

use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use cairn_ledger::codec::{Decode, DecodeError, Encode, Reader, Writer};
use cairn_ledger::{CommP, DealId, Signature};
use cairn_types::{ClientDeal, ProposalId};
use rocksdb::{ColumnFamilyDescriptor, DB, IteratorMode, Options, WriteBatch, WriteOptions};

const CF_PROPOSALS: &str = "proposals";
const CF_PIECES: &str = "pieces";
const CF_SECTORS: &str = "sectors";
const RECORD_VERSION: u8 = 1;

/// Why the store failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// A file operation failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// RocksDB failed.
    #[error("metadata database: {0}")]
    Db(#[from] rocksdb::Error),
    /// Another process has the store open.
    #[error("{0} is in use by another cairn-node process")]
    Locked(PathBuf),
    /// A record did not decode (disk corruption or a newer format).
    #[error("corrupt record for {what}: {source}")]
    Corrupt {
        /// The record.
        what: String,
        /// Why.
        source: DecodeError,
    },
    /// A key of the wrong shape (disk corruption).
    #[error("corrupt key in {family}: {why}")]
    CorruptKey {
        /// The column family.
        family: &'static str,
        /// What is wrong.
        why: String,
    },
    /// An earlier write failed; the handle refuses further writes.
    #[error("the store is poisoned by an earlier failed write; restart the node")]
    Poisoned,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Where a proposal is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProposalState {
    /// Accepted; bytes arriving.
    Transferring,
    /// The piece matched and the node countersigned.
    Signed,
    /// The ledger published it as this deal.
    Published(DealId),
    /// The ledger's deal ended (expired, slashed, cancelled): the piece's
    /// space is free again once no other deal holds it.
    Ended(DealId),
    /// Never published before its start epoch (the ledger would refuse it
    /// now): forgotten, its space and collateral released.
    Lapsed,
}

impl ProposalState {
    /// The spelling `cairn-node deals list` prints.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Transferring => "transferring",
            Self::Signed => "signed",
            Self::Published(_) => "published",
            Self::Ended(_) => "ended",
            Self::Lapsed => "lapsed",
        }
    }

    /// Whether the piece's space is reserved.
    pub fn holds_space(&self) -> bool {
        !matches!(self, Self::Ended(_) | Self::Lapsed)
    }
}

/// What the node remembers of one proposal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProposalRecord {
    /// The client's signed proposal.
    pub deal: ClientDeal,
    /// Where it is.
    pub state: ProposalState,
    /// Payload bytes durably received.
    pub received: u64,
    /// The countersignature, once given.
    pub provider_sig: Option<Signature>,
}

impl Encode for ProposalRecord {
    fn encode(&self, w: &mut Writer) {
        w.u8(RECORD_VERSION);
        w.put(&self.deal);
        match self.state {
            ProposalState::Transferring => w.u8(0),
            ProposalState::Signed => w.u8(1),
            ProposalState::Published(d) => {
                w.u8(2);
                w.put(&d);
            }
            ProposalState::Ended(d) => {
                w.u8(3);
                w.put(&d);
            }
            ProposalState::Lapsed => w.u8(4),
        }
        w.u64(self.received);
        w.option(self.provider_sig.as_ref());
    }
}

impl Decode for ProposalRecord {
    const MIN_LEN: usize = 1;
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let v = r.u8("record version")?;
        if v != RECORD_VERSION {
            return Err(DecodeError::BadTag {
                what: "record version",
                tag: v,
            });
        }
        let deal = ClientDeal::decode(r)?;
        let state = match r.u8("proposal state")? {
            0 => ProposalState::Transferring,
            1 => ProposalState::Signed,
            2 => ProposalState::Published(DealId::decode(r)?),
            3 => ProposalState::Ended(DealId::decode(r)?),
            4 => ProposalState::Lapsed,
            tag => {
                return Err(DecodeError::BadTag {
                    what: "proposal state",
                    tag,
                });
            }
        };
        Ok(Self {
            deal,
            state,
            received: r.u64("received")?,
            provider_sig: r.option("provider signature")?,
        })
    }
}

/// Journaled sector records: (number, bytes), in number order.
pub type SectorRows = Vec<(u64, Vec<u8>)>;

fn sector_key(k: &[u8]) -> Result<u64, StoreError> {
    let b: [u8; 8] = k.try_into().map_err(|_| StoreError::CorruptKey {
        family: CF_SECTORS,
        why: format!("{} bytes, expected 8", k.len()),
    })?;
    Ok(u64::from_be_bytes(b))
}

/// The piece store.
pub struct PieceStore {
    db: DB,
    dir: PathBuf,
    poisoned: AtomicBool,
    _lock: File,
}

impl std::fmt::Debug for PieceStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PieceStore")
            .field("dir", &self.dir)
            .finish()
    }
}

fn db_options() -> (Options, Vec<ColumnFamilyDescriptor>) {
    let mut opts = Options::default();
    opts.create_if_missing(true);
    opts.create_missing_column_families(true);
    let cfs = [CF_PROPOSALS, CF_PIECES, CF_SECTORS]
        .into_iter()
        .map(|n| ColumnFamilyDescriptor::new(n, Options::default()))
        .collect();
    (opts, cfs)
}

impl PieceStore {
    /// Opens (creating) the store in `dir`, exclusively.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        for sub in ["incoming", "pieces"] {
            let p = dir.join(sub);
            fs::create_dir_all(&p).map_err(io(&p))?;
        }
        let lock_path = dir.join("node.lock");
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(io(&lock_path))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => return Err(StoreError::Locked(dir.to_path_buf())),
            Err(TryLockError::Error(e)) => return Err(io(&lock_path)(e)),
        }
        let (opts, cfs) = db_options();
        let db = DB::open_cf_descriptors(&opts, dir.join("meta"), cfs)?;
        let store = Self {
            db,
            dir: dir.to_path_buf(),
            poisoned: AtomicBool::new(false),
            _lock: lock,
        };
        store.recover()?;
        Ok(store)
    }

    /// Reads the records of a store another process may hold (for the
    /// operator commands); `None` if there is no store yet.
    pub fn read_only_records(dir: &Path) -> Result<Option<Vec<ProposalRecord>>, StoreError> {
        let meta = dir.join("meta");
        if !meta.exists() {
            return Ok(None);
        }
        let (opts, _) = db_options();
        let db = DB::open_cf_for_read_only(&opts, &meta, [CF_PROPOSALS, CF_PIECES], false)?;
        let cf = db.cf_handle(CF_PROPOSALS).ok_or(StoreError::Poisoned)?;
        let mut out = Vec::new();
        for kv in db.iterator_cf(cf, IteratorMode::Start) {
            let (k, v) = kv?;
            out.push(decode_record(&k, &v)?);
        }
        Ok(Some(out))
    }

    /// Reads the sector journal of a store another process may hold;
    /// `None` if there is no store yet (or it predates sealing).
    pub fn read_only_sectors(dir: &Path) -> Result<Option<SectorRows>, StoreError> {
        let meta = dir.join("meta");
        if !meta.exists() {
            return Ok(None);
        }
        let (opts, _) = db_options();
        let db = match DB::open_cf_for_read_only(
            &opts,
            &meta,
            [CF_PROPOSALS, CF_PIECES, CF_SECTORS],
            false,
        ) {
            Ok(db) => db,
            // A store that has not run since sealing arrived has no
            // `sectors` family yet: no sectors.
            Err(_)
                if DB::list_cf(&opts, &meta).is_ok_and(|l| !l.iter().any(|c| c == CF_SECTORS)) =>
            {
                return Ok(Some(Vec::new()));
            }
            Err(e) => return Err(e.into()),
        };
        let cf = db.cf_handle(CF_SECTORS).ok_or(StoreError::Poisoned)?;
        let mut out = Vec::new();
        for kv in db.iterator_cf(cf, IteratorMode::Start) {
            let (k, v) = kv?;
            out.push((sector_key(&k)?, v.to_vec()));
        }
        Ok(Some(out))
    }

    /// Every journaled sector record (number, bytes), in number order.
    pub fn sectors(&self) -> Result<SectorRows, StoreError> {
        let cf = self.db.cf_handle(CF_SECTORS).ok_or(StoreError::Poisoned)?;
        let mut out = Vec::new();
        for kv in self.db.iterator_cf(cf, IteratorMode::Start) {
            let (k, v) = kv?;
            out.push((sector_key(&k)?, v.to_vec()));
        }
        Ok(out)
    }

    /// Writes a sector's journal record, synced: the phase that follows
    /// starts only once it is durable.
    pub fn put_sector(&self, number: u64, record: &[u8]) -> Result<(), StoreError> {
        self.check()?;
        let r = (|| {
            let cf = self.db.cf_handle(CF_SECTORS).ok_or(StoreError::Poisoned)?;
            let mut wo = WriteOptions::default();
            wo.set_sync(true);
            self.db
                .put_cf_opt(cf, number.to_be_bytes(), record, &wo)
                .map_err(StoreError::from)
        })();
        self.poison(r)
    }

    /// Cuts every unfinished transfer back to its durable length, and
    /// removes incoming files no record points to.
    fn recover(&self) -> Result<(), StoreError> {
        let mut live = std::collections::BTreeSet::new();
        for (id, mut rec) in self.records()? {
            if rec.state == ProposalState::Transferring {
                let path = self.incoming_path(&id);
                let f = OpenOptions::new()
                    .create(true)
                    .truncate(false)
                    .write(true)
                    .open(&path)
                    .map_err(io(&path))?;
                // Cut back to the durable length, never extend: a file
                // shorter than its record (its directory entry lost in a
                // power cut) resumes from what it really holds.
                let len = f.metadata().map_err(io(&path))?.len();
                let keep = len.min(rec.received);
                f.set_len(keep).map_err(io(&path))?;
                f.sync_all().map_err(io(&path))?;
                if keep != rec.received {
                    rec.received = keep;
                    self.put_record(&rec)?;
                }
                live.insert(id.to_string());
            }
        }
        let incoming = self.dir.join("incoming");
        sync_dir(&incoming)?;
        for e in fs::read_dir(&incoming).map_err(io(&incoming))? {
            let e = e.map_err(io(&incoming))?;
            if !live.contains(e.file_name().to_string_lossy().as_ref()) {
                let p = e.path();
                fs::remove_file(&p).map_err(io(&p))?;
            }
        }
        Ok(())
    }

    fn check(&self) -> Result<(), StoreError> {
        if self.poisoned.load(Ordering::Acquire) {
            Err(StoreError::Poisoned)
        } else {
            Ok(())
        }
    }

    fn poison<T>(&self, r: Result<T, StoreError>) -> Result<T, StoreError> {
        if r.is_err() {
            self.poisoned.store(true, Ordering::Release);
        }
        r
    }

    /// The data dir.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where a transfer's bytes go.
    pub fn incoming_path(&self, id: &ProposalId) -> PathBuf {
        self.dir.join("incoming").join(id.to_string())
    }

    /// Where a piece's payload lives.
    pub fn piece_path(&self, piece: &CommP) -> PathBuf {
        self.dir.join("pieces").join(piece.to_string())
    }

    /// One proposal's record.
    pub fn record(&self, id: &ProposalId) -> Result<Option<ProposalRecord>, StoreError> {
        let cf = self
            .db
            .cf_handle(CF_PROPOSALS)
            .ok_or(StoreError::Poisoned)?;
        match self.db.get_cf(cf, id.0)? {
            None => Ok(None),
            Some(v) => decode_record(&id.0, &v).map(Some),
        }
    }

    /// Every proposal's record.
    pub fn records(&self) -> Result<Vec<(ProposalId, ProposalRecord)>, StoreError> {
        let cf = self
            .db
            .cf_handle(CF_PROPOSALS)
            .ok_or(StoreError::Poisoned)?;
        let mut out = Vec::new();
        for kv in self.db.iterator_cf(cf, IteratorMode::Start) {
            let (k, v) = kv?;
            let rec = decode_record(&k, &v)?;
            out.push((rec.deal.id(), rec));
        }
        Ok(out)
    }

    /// Writes a record, synced.
    pub fn put_record(&self, rec: &ProposalRecord) -> Result<(), StoreError> {
        self.check()?;
        let r = (|| {
            let cf = self
                .db
                .cf_handle(CF_PROPOSALS)
                .ok_or(StoreError::Poisoned)?;
            let mut opts = WriteOptions::default();
            opts.set_sync(true);
            let mut b = WriteBatch::default();
            b.put_cf(cf, rec.deal.id().0, rec.to_bytes());
            self.db.write_opt(b, &opts)?;
            Ok(())
        })();
        self.poison(r)
    }

    /// Forgets a transfer that failed its check, with its bytes.
    pub fn drop_transfer(&self, id: &ProposalId) -> Result<(), StoreError> {
        self.check()?;
        let r = (|| {
            let cf = self
                .db
                .cf_handle(CF_PROPOSALS)
                .ok_or(StoreError::Poisoned)?;
            let mut opts = WriteOptions::default();
            opts.set_sync(true);
            self.db.delete_cf_opt(cf, id.0, &opts)?;
            remove_if_present(&self.incoming_path(id))
        })();
        self.poison(r)
    }

    /// Moves a checked transfer into `pieces/` and records it signed, in
    /// that order, each step durable before the next.
    pub fn commit_piece(&self, rec: &ProposalRecord) -> Result<(), StoreError> {
        self.check()?;
        let r = (|| {
            let id = rec.deal.id();
            let from = self.incoming_path(&id);
            let to = self.piece_path(&rec.deal.proposal.piece);
            File::open(&from)
                .and_then(|f| f.sync_all())
                .map_err(io(&from))?;
            if to.exists() {
                // Same CommP, same padded bytes: the piece is already held.
                fs::remove_file(&from).map_err(io(&from))?;
            } else {
                fs::rename(&from, &to).map_err(io(&to))?;
            }
            sync_dir(&self.dir.join("pieces"))?;
            let cfp = self.db.cf_handle(CF_PIECES).ok_or(StoreError::Poisoned)?;
            let cfr = self
                .db
                .cf_handle(CF_PROPOSALS)
                .ok_or(StoreError::Poisoned)?;
            let mut b = WriteBatch::default();
            b.put_cf(cfp, rec.deal.proposal.piece.0, rec.received.to_le_bytes());
            b.put_cf(cfr, id.0, rec.to_bytes());
            let mut opts = WriteOptions::default();
            opts.set_sync(true);
            self.db.write_opt(b, &opts)?;
            Ok(())
        })();
        self.poison(r)
    }

    /// A held piece's payload length.
    pub fn piece_len(&self, piece: &CommP) -> Result<Option<u64>, StoreError> {
        let cf = self.db.cf_handle(CF_PIECES).ok_or(StoreError::Poisoned)?;
        Ok(self.db.get_cf(cf, piece.0)?.and_then(|v| {
            let b: [u8; 8] = v.as_slice().try_into().ok()?;
            Some(u64::from_le_bytes(b))
        }))
    }

    /// Reads `len` payload bytes of a held piece from `offset`.
    pub fn read_piece(
        &self,
        piece: &CommP,
        offset: u64,
        len: usize,
    ) -> Result<Vec<u8>, StoreError> {
        let p = self.piece_path(piece);
        let mut f = File::open(&p).map_err(io(&p))?;
        f.seek(SeekFrom::Start(offset)).map_err(io(&p))?;
        let mut buf = vec![0u8; len];
        f.read_exact(&mut buf).map_err(io(&p))?;
        Ok(buf)
    }

    /// Appends pushed bytes to a transfer's file (not synced).
    pub fn append(&self, id: &ProposalId, at: u64, data: &[u8]) -> Result<(), StoreError> {
        self.check()?;
        let p = self.incoming_path(id);
        let r = (|| {
            let mut f = OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&p)
                .map_err(io(&p))?;
            f.seek(SeekFrom::Start(at)).map_err(io(&p))?;
            f.write_all(data).map_err(io(&p))?;
            Ok(())
        })();
        self.poison(r)
    }

    /// Flushes a transfer's file to disk (before its length is recorded).
    pub fn sync_incoming(&self, id: &ProposalId) -> Result<(), StoreError> {
        let p = self.incoming_path(id);
        let r = File::open(&p).and_then(|f| f.sync_data()).map_err(io(&p));
        self.poison(r)
    }

    /// Makes a new transfer's file durable (its directory entry too).
    pub fn create_incoming(&self, id: &ProposalId) -> Result<(), StoreError> {
        self.append(id, 0, &[])?;
        let r = sync_dir(&self.dir.join("incoming"));
        self.poison(r)
    }

    /// Deletes a piece's file and row if no proposal that holds space
    /// still names it.
    pub fn release_piece(&self, piece: &CommP) -> Result<(), StoreError> {
        self.check()?;
        let held = self.records()?.iter().any(|(_, r)| {
            r.deal.proposal.piece == *piece && r.state.holds_space() && r.provider_sig.is_some()
        });
        if held {
            return Ok(());
        }
        let r = (|| {
            let cf = self.db.cf_handle(CF_PIECES).ok_or(StoreError::Poisoned)?;
            let mut opts = WriteOptions::default();
            opts.set_sync(true);
            self.db.delete_cf_opt(cf, piece.0, &opts)?;
            remove_if_present(&self.piece_path(piece))
        })();
        self.poison(r)
    }

    /// Streams a transfer's bytes so far into `f` (to rebuild its CommP
    /// after a restart).
    pub fn read_incoming(
        &self,
        id: &ProposalId,
        mut f: impl FnMut(&[u8]),
    ) -> Result<u64, StoreError> {
        let p = self.incoming_path(id);
        let mut file = File::open(&p).map_err(io(&p))?;
        let mut buf = vec![0u8; 1 << 20];
        let mut total = 0u64;
        loop {
            let n = file.read(&mut buf).map_err(io(&p))?;
            if n == 0 {
                return Ok(total);
            }
            f(buf.get(..n).unwrap_or_default());
            total += n as u64;
        }
    }
}

/// Removes a file; one already gone is fine.
fn remove_if_present(p: &Path) -> Result<(), StoreError> {
    match fs::remove_file(p) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io(p)(e)),
    }
}

/// fsyncs a directory, so the entries created in it survive a power cut.
fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(io(dir))
}

fn decode_record(key: &[u8], v: &[u8]) -> Result<ProposalRecord, StoreError> {
    ProposalRecord::from_bytes(v).map_err(|source| StoreError::Corrupt {
        what: format!("proposal {}", hex::encode(key)),
        source,
    })
}

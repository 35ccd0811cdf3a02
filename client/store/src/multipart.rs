//! S3 multipart uploads: records in RocksDB, part bytes in files.
//!
//! Part bytes do not go into the block store until completion: S3 lets a
//! client re-upload or skip parts, and the final DAG depends on the chosen
//! parts in order. So each part is a file `data_dir/multipart/<upload-id>/
//! <part>.<gen>`, written under a `.tmp` name, fsynced, renamed, its directory
//! fsynced, and only then recorded in `meta`. `gen` is unique per write, so two
//! concurrent uploads of one part number never share a file; the record
//! decides which one counts, and the loser's file is removed.
//!
//! On completion the gateway streams the recorded parts through its DAG
//! builder into an [`Upload`] and calls [`Store::complete_multipart`], which
//! commits the object and removes the multipart state in one batch, and leaves
//! a completion record so that a retried complete returns the same result.
//!
//! On open, files and directories that no record points to (temp files,
//! replaced parts, aborted or completed uploads) are removed.
//!
//! Part-file I/O errors are returned as [`StoreError::Io`] without poisoning
//! the handle: they touch only that part, whose record is not written.
//!
//! Concurrent uploads of one key are listed in upload-id order, not S3's
//! initiation order.

use std::{
    fs::{self, File},
    io::{self, Write},
    path::{Path, PathBuf},
    sync::Arc,
};

use rocksdb::WriteBatch;
use serde::{Deserialize, Serialize};

use crate::{
    error::{NameKind, Result, StoreError, io_err, show_key},
    keys::{self, CF_META, ObjectVersionId, UploadId, tag},
    object::ObjectRecord,
    store::{Inner, Store},
    upload::{Upload, commit_object_in},
};

/// Highest part number S3 allows.
pub const MAX_PART_NUMBER: u32 = 10_000;
/// Directory under the data dir that holds part files.
const MULTIPART_DIR: &str = "multipart";

/// Headers given at `CreateMultipartUpload`, applied to the completed object.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MultipartMeta {
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
    /// `x-amz-checksum-algorithm`, e.g. `CRC32`.
    pub checksum_algorithm: Option<String>,
}

/// A multipart upload in progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MultipartUpload {
    /// The upload id.
    pub upload_id: UploadId,
    /// Target bucket.
    pub bucket: String,
    /// Target key.
    pub key: String,
    /// Initiation time, Unix milliseconds.
    pub initiated: i64,
    /// Headers for the completed object.
    pub meta: MultipartMeta,
}

/// What the store keeps about one uploaded part.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartRecord {
    /// 1..=10000.
    pub part_number: u32,
    /// Bytes in the part.
    pub size: u64,
    /// The part's ETag, quotes excluded.
    pub etag: String,
    /// `(algorithm, base64 value)` pairs.
    pub checksums: Vec<(String, String)>,
    /// Upload time, Unix milliseconds.
    pub last_modified: i64,
}

/// Result of a completed multipart upload, returned again on a repeated complete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompletedMultipart {
    /// Bucket the object went to.
    pub bucket: String,
    /// Key the object went to.
    pub key: String,
    /// The version the completion created.
    pub version: ObjectVersionId,
    /// The committed record.
    pub record: ObjectRecord,
}

/// A page of [`Store::list_parts`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PartsPage {
    /// Parts in part-number order.
    pub parts: Vec<PartRecord>,
    /// Whether more parts follow.
    pub is_truncated: bool,
    /// When truncated: the last part number of this page, the next marker.
    pub next_part_number_marker: Option<u32>,
}

/// A page of [`Store::list_multipart_uploads`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UploadsPage {
    /// Uploads in (key, upload id) order.
    pub uploads: Vec<MultipartUpload>,
    /// Whether more uploads follow.
    pub is_truncated: bool,
    /// When truncated: key marker for the next page.
    pub next_key_marker: Option<String>,
    /// When truncated: upload id marker for the next page.
    pub next_upload_id_marker: Option<UploadId>,
}

#[derive(Debug, Serialize, Deserialize)]
struct PartEntry {
    record: PartRecord,
    /// File name inside the upload's directory.
    file: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct StoredCompleted {
    bucket: String,
    key: String,
    version: u64,
    record: ObjectRecord,
}

fn upload_key(id: &UploadId) -> Vec<u8> {
    keys::meta_key(tag::MP_UPLOAD, id.as_str().as_bytes())
}

fn index_key(bucket: &str, key: &str, id: &UploadId) -> Vec<u8> {
    let mut k = keys::meta_key(tag::MP_INDEX, &keys::bucket_prefix(bucket));
    k.extend_from_slice(key.as_bytes());
    k.push(0);
    k.extend_from_slice(id.as_str().as_bytes());
    k
}

fn parts_prefix(id: &UploadId) -> Vec<u8> {
    let mut k = keys::meta_key(tag::MP_PART, id.as_str().as_bytes());
    k.push(0);
    k
}

fn part_key(id: &UploadId, part: u32) -> Vec<u8> {
    let mut k = parts_prefix(id);
    k.extend_from_slice(&part.to_be_bytes());
    k
}

fn done_key(id: &UploadId) -> Vec<u8> {
    keys::meta_key(tag::MP_DONE, id.as_str().as_bytes())
}

fn upload_dir(inner: &Inner, id: &UploadId) -> PathBuf {
    inner.data_dir.join(MULTIPART_DIR).join(id.as_str())
}

fn fsync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err(dir))
}

fn get_upload(inner: &Inner, id: &UploadId) -> Result<Option<MultipartUpload>> {
    let key = upload_key(id);
    match inner.get_meta(&key)? {
        Some(v) => Ok(Some(keys::decode("multipart upload", &key, &v)?)),
        None => Ok(None),
    }
}

fn require_upload(inner: &Inner, id: &UploadId) -> Result<MultipartUpload> {
    get_upload(inner, id)?.ok_or_else(|| StoreError::NoSuchUpload {
        upload_id: id.to_string(),
    })
}

fn get_part(inner: &Inner, id: &UploadId, part: u32) -> Result<Option<PartEntry>> {
    let key = part_key(id, part);
    match inner.get_meta(&key)? {
        Some(v) => Ok(Some(keys::decode("part record", &key, &v)?)),
        None => Ok(None),
    }
}

/// Adds deletion of every record of upload `mp` to `batch`.
fn delete_upload_records(
    inner: &Inner,
    batch: &mut WriteBatch,
    mp: &MultipartUpload,
) -> Result<()> {
    let meta = inner.cf(CF_META)?;
    batch.delete_cf(meta, upload_key(&mp.upload_id));
    batch.delete_cf(meta, index_key(&mp.bucket, &mp.key, &mp.upload_id));
    for (k, _) in inner.scan_prefix(meta, &parts_prefix(&mp.upload_id))? {
        batch.delete_cf(meta, k);
    }
    Ok(())
}

fn remove_dir_best_effort(dir: &Path) {
    match fs::remove_dir_all(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => {
            tracing::warn!(dir = %dir.display(), error = %e, "removing multipart files failed; retried on next open")
        }
    }
}

impl Store {
    /// Starts a multipart upload of `bucket/key`; `initiated` is Unix milliseconds.
    pub fn create_multipart(
        &self,
        bucket: &str,
        key: &str,
        meta: MultipartMeta,
        initiated: i64,
    ) -> Result<UploadId> {
        keys::check_name(NameKind::Key, key)?;
        let inner = &self.inner;
        let id = UploadId::random();
        {
            let _mp = inner.lock_mp()?;
            crate::bucket::require_bucket(inner, bucket)?;
            let rec = MultipartUpload {
                upload_id: id.clone(),
                bucket: bucket.to_owned(),
                key: key.to_owned(),
                initiated,
                meta,
            };
            let mut batch = WriteBatch::default();
            let cf = inner.cf(CF_META)?;
            batch.put_cf(cf, upload_key(&id), keys::encode(&rec));
            batch.put_cf(cf, index_key(bucket, key, &id), []);
            inner.write(batch, false)?;
        }
        inner.sync_wal()?;
        Ok(id)
    }

    /// The upload's record, or `NoSuchUpload`.
    pub fn get_multipart(&self, upload_id: &UploadId) -> Result<MultipartUpload> {
        self.inner.check()?;
        require_upload(&self.inner, upload_id)
    }

    /// Opens a writer for part `part_number` of `upload_id`. Nothing is
    /// recorded until [`PartWriter::finish`]; dropping the writer discards it.
    pub fn part_writer(&self, upload_id: &UploadId, part_number: u32) -> Result<PartWriter> {
        let inner = &self.inner;
        inner.check()?;
        if !(1..=MAX_PART_NUMBER).contains(&part_number) {
            return Err(StoreError::InvalidPartNumber { part_number });
        }
        require_upload(inner, upload_id)?;
        let dir = upload_dir(inner, upload_id);
        fs::create_dir_all(&dir).map_err(io_err(&dir))?;
        let file_name = format!("{part_number}.{:016x}", inner.new_holder());
        let tmp = dir.join(format!("{file_name}.tmp"));
        let file = File::create(&tmp).map_err(io_err(&tmp))?;
        Ok(PartWriter {
            inner: inner.clone(),
            upload_id: upload_id.clone(),
            part_number,
            dir,
            tmp,
            file_name,
            file: Some(file),
            written: 0,
        })
    }

    /// A page of the upload's parts with numbers above `marker`, at most `max`.
    pub fn list_parts(
        &self,
        upload_id: &UploadId,
        marker: Option<u32>,
        max: usize,
    ) -> Result<PartsPage> {
        let inner = &self.inner;
        inner.check()?;
        require_upload(inner, upload_id)?;
        let mut page = PartsPage::default();
        let after = marker.unwrap_or(0);
        for (k, v) in inner.scan_prefix(inner.cf(CF_META)?, &parts_prefix(upload_id))? {
            let entry: PartEntry = keys::decode("part record", &k, &v)?;
            if entry.record.part_number <= after {
                continue;
            }
            if page.parts.len() == max {
                page.is_truncated = true;
                page.next_part_number_marker = page.parts.last().map(|p| p.part_number);
                break;
            }
            page.parts.push(entry.record);
        }
        Ok(page)
    }

    /// A page of `bucket`'s uploads in progress whose key starts with
    /// `prefix`, after (`key_marker`, `upload_id_marker`), at most `max`.
    /// Without an upload id marker, every upload of `key_marker` is skipped (S3).
    pub fn list_multipart_uploads(
        &self,
        bucket: &str,
        prefix: &str,
        key_marker: Option<&str>,
        upload_id_marker: Option<&UploadId>,
        max: usize,
    ) -> Result<UploadsPage> {
        let inner = &self.inner;
        inner.check()?;
        crate::bucket::require_bucket(inner, bucket)?;
        let base = keys::meta_key(tag::MP_INDEX, &keys::bucket_prefix(bucket));
        let mut page = UploadsPage::default();
        for (k, _) in inner.scan_prefix(
            inner.cf(CF_META)?,
            &[base.as_slice(), prefix.as_bytes()].concat(),
        )? {
            let rest = k.get(base.len()..).unwrap_or_default();
            let parsed = rest.iter().position(|&b| b == 0).and_then(|at| {
                let key = std::str::from_utf8(rest.get(..at)?).ok()?;
                let id = std::str::from_utf8(rest.get(at + 1..)?).ok()?;
                Some((key, UploadId::parse(id).ok()?))
            });
            let (key, id) = parsed.ok_or_else(|| StoreError::Corrupt {
                what: "multipart index",
                key: show_key(&k),
            })?;
            if let Some(km) = key_marker {
                let before_or_at_marker = match (key.cmp(km), upload_id_marker) {
                    (std::cmp::Ordering::Less, _) => true,
                    (std::cmp::Ordering::Equal, None) => true,
                    (std::cmp::Ordering::Equal, Some(um)) => &id <= um,
                    (std::cmp::Ordering::Greater, _) => false,
                };
                if before_or_at_marker {
                    continue;
                }
            }
            if page.uploads.len() == max {
                page.is_truncated = true;
                if let Some(last) = page.uploads.last() {
                    page.next_key_marker = Some(last.key.clone());
                    page.next_upload_id_marker = Some(last.upload_id.clone());
                }
                break;
            }
            page.uploads.push(require_upload(inner, &id)?);
        }
        Ok(page)
    }

    /// Opens a recorded part for reading.
    pub fn open_part(&self, upload_id: &UploadId, part_number: u32) -> Result<(PartRecord, File)> {
        let inner = &self.inner;
        inner.check()?;
        require_upload(inner, upload_id)?;
        let entry =
            get_part(inner, upload_id, part_number)?.ok_or_else(|| StoreError::InvalidPart {
                upload_id: upload_id.to_string(),
                part_number,
            })?;
        let path = upload_dir(inner, upload_id).join(&entry.file);
        let file = File::open(&path).map_err(io_err(path))?;
        Ok((entry.record, file))
    }

    /// Aborts an upload: removes its records and part files.
    pub fn abort_multipart(&self, upload_id: &UploadId) -> Result<()> {
        let inner = &self.inner;
        {
            let _mp = inner.lock_mp()?;
            let mp = require_upload(inner, upload_id)?;
            let mut batch = WriteBatch::default();
            delete_upload_records(inner, &mut batch, &mp)?;
            inner.write(batch, true)?;
        }
        remove_dir_best_effort(&upload_dir(inner, upload_id));
        Ok(())
    }

    /// The result of an already completed upload, if `upload_id` completed.
    pub fn completed_multipart(&self, upload_id: &UploadId) -> Result<Option<CompletedMultipart>> {
        self.inner.check()?;
        get_completed(&self.inner, upload_id)
    }

    /// Completes `upload_id`: commits `upload` as the object with `record`,
    /// removes the multipart records and files, and records the completion.
    /// If the upload already completed, returns that result and releases
    /// `upload`. Unknown upload: `NoSuchUpload` (and `upload` is released).
    /// `upload` must come from this store's [`Store::begin_upload`].
    pub fn complete_multipart(
        &self,
        upload_id: &UploadId,
        mut upload: Upload,
        record: ObjectRecord,
    ) -> Result<CompletedMultipart> {
        let inner = &self.inner;
        let done = {
            let _mp = inner.lock_mp()?;
            if let Some(done) = get_completed(inner, upload_id)? {
                return Ok(done);
            }
            let mp = require_upload(inner, upload_id)?;
            let mut state = inner.lock_state()?;
            let mut batch = WriteBatch::default();
            let holder = upload.holder();
            commit_object_in(
                inner,
                &mut state,
                &mut batch,
                holder,
                &mp.bucket,
                &mp.key,
                record.clone(),
            )?;
            delete_upload_records(inner, &mut batch, &mp)?;
            let stored = StoredCompleted {
                bucket: mp.bucket.clone(),
                key: mp.key.clone(),
                version: holder,
                record,
            };
            batch.put_cf(
                inner.cf(CF_META)?,
                done_key(upload_id),
                keys::encode(&stored),
            );
            inner.write(batch, false)?;
            upload.mark_finished();
            CompletedMultipart {
                bucket: stored.bucket,
                key: stored.key,
                version: ObjectVersionId(holder),
                record: stored.record,
            }
        };
        inner.sync_wal()?;
        remove_dir_best_effort(&upload_dir(inner, upload_id));
        Ok(done)
    }
}

fn get_completed(inner: &Inner, id: &UploadId) -> Result<Option<CompletedMultipart>> {
    let key = done_key(id);
    let Some(v) = inner.get_meta(&key)? else {
        return Ok(None);
    };
    let s: StoredCompleted = keys::decode("completed multipart", &key, &v)?;
    Ok(Some(CompletedMultipart {
        bucket: s.bucket,
        key: s.key,
        version: ObjectVersionId(s.version),
        record: s.record,
    }))
}

/// Writes one part; see [`Store::part_writer`].
#[derive(Debug)]
pub struct PartWriter {
    inner: Arc<Inner>,
    upload_id: UploadId,
    part_number: u32,
    dir: PathBuf,
    tmp: PathBuf,
    file_name: String,
    /// `None` once finished.
    file: Option<File>,
    written: u64,
}

impl Write for PartWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let file = self
            .file
            .as_mut()
            .ok_or_else(|| io::Error::other("part writer already finished"))?;
        let n = file.write(buf)?;
        self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        match self.file.as_mut() {
            Some(f) => f.flush(),
            None => Ok(()),
        }
    }
}

impl PartWriter {
    /// Bytes written so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// Makes the part durable and records it, replacing an earlier part with
    /// the same number. `record.size` must equal the bytes written; its
    /// `part_number` is set to the writer's.
    pub fn finish(mut self, mut record: PartRecord) -> Result<PartRecord> {
        record.part_number = self.part_number;
        if record.size != self.written {
            return Err(StoreError::PartSizeMismatch {
                upload_id: self.upload_id.to_string(),
                part_number: self.part_number,
                declared: record.size,
                written: self.written,
            });
        }
        let inner = self.inner.clone();
        inner.check()?;
        let file = self.file.take().ok_or(StoreError::Poisoned)?;
        file.sync_all().map_err(io_err(&self.tmp))?;
        drop(file);
        let old = {
            let _mp = inner.lock_mp()?;
            require_upload(&inner, &self.upload_id)?;
            let dest = self.dir.join(&self.file_name);
            fs::rename(&self.tmp, &dest).map_err(io_err(&dest))?;
            fsync_dir(&self.dir)?;
            if let Some(parent) = self.dir.parent() {
                fsync_dir(parent)?;
            }
            let old = get_part(&inner, &self.upload_id, self.part_number)?;
            let entry = PartEntry {
                record: record.clone(),
                file: self.file_name.clone(),
            };
            let mut batch = WriteBatch::default();
            batch.put_cf(
                inner.cf(CF_META)?,
                part_key(&self.upload_id, self.part_number),
                keys::encode(&entry),
            );
            inner.write(batch, true)?;
            old
        };
        if let Some(old) = old.filter(|o| o.file != self.file_name) {
            let path = self.dir.join(&old.file);
            if let Err(e) = fs::remove_file(&path) {
                tracing::warn!(path = %path.display(), error = %e, "removing a replaced part failed; removed on next open");
            }
        }
        Ok(record)
    }
}

impl Drop for PartWriter {
    fn drop(&mut self) {
        // Unfinished, or finish failed before/at the rename: discard the temp file.
        if let Err(e) = fs::remove_file(&self.tmp)
            && e.kind() != io::ErrorKind::NotFound
        {
            tracing::warn!(path = %self.tmp.display(), error = %e, "removing a part temp file failed");
        }
    }
}

/// Removes part files and upload directories that no record points to.
pub(crate) fn cleanup_orphan_files(inner: &Inner) -> Result<()> {
    let root = inner.data_dir.join(MULTIPART_DIR);
    fs::create_dir_all(&root).map_err(io_err(&root))?;
    let meta = inner.cf(CF_META)?;
    for entry in fs::read_dir(&root).map_err(io_err(&root))? {
        let entry = entry.map_err(io_err(&root))?;
        let path = entry.path();
        let id = entry
            .file_name()
            .to_str()
            .and_then(|n| UploadId::parse(n).ok());
        let live = match &id {
            Some(id) if path.is_dir() => get_upload(inner, id)?.is_some(),
            _ => false,
        };
        if !live {
            let removed = if path.is_dir() {
                fs::remove_dir_all(&path)
            } else {
                fs::remove_file(&path)
            };
            removed.map_err(io_err(&path))?;
            continue;
        }
        let Some(id) = id else { continue };
        let mut wanted = std::collections::HashSet::new();
        for (k, v) in inner.scan_prefix(meta, &parts_prefix(&id))? {
            let part: PartEntry = keys::decode("part record", &k, &v)?;
            wanted.insert(part.file);
        }
        for file in fs::read_dir(&path).map_err(io_err(&path))? {
            let file = file.map_err(io_err(&path))?;
            let keep = file
                .file_name()
                .to_str()
                .is_some_and(|n| wanted.contains(n));
            if !keep {
                let p = file.path();
                fs::remove_file(&p).map_err(io_err(&p))?;
            }
        }
    }
    Ok(())
}

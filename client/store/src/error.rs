//! The crate's one error type.
//!
//! Every variant carries named, typed context so the gateway can map it to an
//! S3 code once, at its edge (`NoSuchBucket` → 404 `NoSuchBucket`, `Locked` →
//! "go through the running gateway", …). RocksDB's own error is kept as a
//! `source`, never flattened into text only.

use std::{io, path::PathBuf};

/// Which kind of name failed validation in [`StoreError::InvalidName`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum NameKind {
    /// A bucket name (must be non-empty and free of `\0`).
    Bucket,
    /// An object key (must be non-empty and free of `\0`).
    Key,
}

impl std::fmt::Display for NameKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            NameKind::Bucket => "bucket name",
            NameKind::Key => "object key",
        })
    }
}

/// Errors returned by [`crate::Store`] and the handles it gives out.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The bucket does not exist.
    #[error("no such bucket {bucket:?}")]
    NoSuchBucket {
        /// The bucket that was asked for.
        bucket: String,
    },
    /// The bucket still holds objects or in-progress multipart uploads.
    #[error("bucket {bucket:?} is not empty")]
    BucketNotEmpty {
        /// The bucket that could not be deleted.
        bucket: String,
    },
    /// A bucket with this name already exists.
    #[error("bucket {bucket:?} already exists")]
    BucketAlreadyExists {
        /// The name that is taken.
        bucket: String,
    },
    /// The object does not exist (for callers that need one).
    #[error("no such key {key:?} in bucket {bucket:?}")]
    NoSuchKey {
        /// The bucket that was searched.
        bucket: String,
        /// The missing key.
        key: String,
    },
    /// The multipart upload id is unknown, malformed, aborted or completed.
    #[error("no such multipart upload {upload_id:?}")]
    NoSuchUpload {
        /// The upload id as given by the caller.
        upload_id: String,
    },
    /// The multipart upload has no part with this number.
    #[error("multipart upload {upload_id:?} has no part {part_number}")]
    InvalidPart {
        /// The multipart upload.
        upload_id: String,
        /// The missing part number.
        part_number: u32,
    },
    /// Part numbers run from 1 to 10 000 inclusive.
    #[error("part number {part_number} is outside 1..=10000")]
    InvalidPartNumber {
        /// The rejected part number.
        part_number: u32,
    },
    /// The record passed to [`crate::PartWriter::finish`] disagrees with the bytes written.
    #[error(
        "part {part_number} of {upload_id:?}: record says {declared} bytes, {written} were written"
    )]
    PartSizeMismatch {
        /// The multipart upload.
        upload_id: String,
        /// The part number.
        part_number: u32,
        /// `PartRecord::size` as given.
        declared: u64,
        /// Bytes actually written through the writer.
        written: u64,
    },
    /// A bucket name or key the store cannot represent.
    #[error("invalid {kind} {name:?}")]
    InvalidName {
        /// Which kind of name.
        kind: NameKind,
        /// The rejected name.
        name: String,
    },
    /// Another process (or another handle in this one) holds the store.
    #[error("store at {} is locked by another process", path.display())]
    Locked {
        /// The data directory that is held.
        path: PathBuf,
    },
    /// A stored record failed to decode or broke an invariant.
    #[error("corrupt {what} at key {key}")]
    Corrupt {
        /// What was being read.
        what: &'static str,
        /// The offending database key, escaped for display.
        key: String,
    },
    /// The on-disk format is not the one this build understands.
    #[error("store format version {found}, this build reads version {expected}")]
    VersionMismatch {
        /// Version found on disk.
        found: u32,
        /// Version this build writes and reads.
        expected: u32,
    },
    /// A file-system operation failed.
    #[error("I/O error at {}", path.display())]
    Io {
        /// The file or directory involved.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// RocksDB returned an error.
    #[error("database error")]
    Db {
        /// The underlying error.
        #[from]
        source: rocksdb::Error,
    },
    /// An earlier write or fsync failed; this handle no longer accepts calls.
    /// Reopen the store (recovery runs on open).
    #[error("store handle is poisoned by an earlier failed write")]
    Poisoned,
}

/// Result alias for this crate.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Wraps an `io::Error` with its path.
pub(crate) fn io_err(path: impl Into<PathBuf>) -> impl FnOnce(io::Error) -> StoreError {
    let path = path.into();
    move |source| StoreError::Io { path, source }
}

/// Escapes a database key for error messages.
pub(crate) fn show_key(key: &[u8]) -> String {
    key.escape_ascii().to_string()
}

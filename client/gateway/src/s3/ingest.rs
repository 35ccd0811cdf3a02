//! The write path: bytes in, verified, chunked into a DAG, into the store.
//!
//! An object's bytes arrive as an async stream (a PUT body) or a sync reader
//! (multipart parts on disk, the source of a copy). Hashes that S3 defines
//! (MD5 for the ETag, the `x-amz-checksum-*` family) are computed on the
//! async side while a blocking worker runs the UnixFS builder and writes its
//! blocks into a store [`Upload`], so network reads, hashing and disk writes
//! overlap on two cores. Nothing becomes visible until the caller commits
//! the returned upload; on any error the upload is aborted and its blocks
//! reclaimed.

use bytes::Bytes;
use cairn_dag::{Block, FileBuilder, FileRoot, Profile};
use cairn_store::{Store, StoreError, Upload};
use futures::{Stream, StreamExt};
use md5::{Digest, Md5};
use s3s::checksum::ChecksumHasher;
use s3s::dto::Checksum;
use s3s::{S3Error, S3ErrorCode};
use tokio::sync::mpsc;

use super::error::{join_error, s3_err, store_error};

/// What an ingest produced, before commit.
pub(crate) struct Ingested {
    /// The DAG root.
    pub root: FileRoot,
    /// Hex MD5 of the bytes.
    pub md5_hex: String,
    /// The checksums that were asked for, base64.
    pub checksums: Checksum,
    /// The store upload holding the blocks; commit or abort it.
    pub upload: Upload,
}

impl std::fmt::Debug for Ingested {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ingested")
            .field("root", &self.root)
            .finish()
    }
}

/// Chunks in flight between the body reader and the DAG worker.
const PIPELINE_DEPTH: usize = 8;

fn put_into(upload: &mut Upload) -> impl FnMut(Block) -> Result<(), StoreError> + '_ {
    move |block: Block| upload.put_block(block.cid.hash(), &block.data)
}

/// Streams `body` into a new upload under `profile`.
pub(crate) async fn ingest_stream<S, E>(
    store: &Store,
    profile: Profile,
    body: S,
    mut checksums: ChecksumHasher,
) -> Result<Ingested, S3Error>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let store = store.clone();
    let (tx, mut rx) = mpsc::channel::<Bytes>(PIPELINE_DEPTH);
    let worker = tokio::task::spawn_blocking(move || -> Result<(FileRoot, Upload), StoreError> {
        let mut upload = store.begin_upload()?;
        let mut builder = FileBuilder::new(profile);
        let result = (|| {
            let mut sink = put_into(&mut upload);
            while let Some(bytes) = rx.blocking_recv() {
                builder.write(&bytes, &mut sink)?;
            }
            builder.finish(&mut sink)
        })();
        match result {
            Ok(root) => Ok((root, upload)),
            Err(e) => {
                let _ = upload.abort();
                Err(e)
            }
        }
    });

    let mut md5 = Md5::new();
    let mut body = body;
    let mut body_error = None;
    while let Some(item) = body.next().await {
        match item {
            Ok(bytes) => {
                md5.update(&bytes);
                checksums.update(&bytes);
                if tx.send(bytes).await.is_err() {
                    break; // the worker failed; its error is reported below
                }
            }
            Err(e) => {
                body_error = Some(e.to_string());
                break;
            }
        }
    }
    drop(tx);
    let (root, upload) = worker.await.map_err(join_error)?.map_err(store_error)?;
    if let Some(reason) = body_error {
        let _ = tokio::task::spawn_blocking(move || upload.abort()).await;
        return Err(body_read_error(reason));
    }
    Ok(Ingested {
        root,
        md5_hex: hex::encode(md5.finalize()),
        checksums: checksums.finalize(),
        upload,
    })
}

/// The S3 error for a request body that failed while being read: a payload
/// that does not hash to its signed `x-amz-content-sha256`, a bad
/// aws-chunked signature, a malformed chunk, or a client that went away.
pub(crate) fn body_read_error(reason: String) -> S3Error {
    if reason.contains("Sha256Mismatch") {
        let mut e = s3_err(
            S3ErrorCode::Custom("XAmzContentSHA256Mismatch".into()),
            "The provided 'x-amz-content-sha256' header does not match what was computed.",
        );
        e.set_status_code(http::StatusCode::BAD_REQUEST);
        e
    } else if reason.contains("Signature") || reason.contains("signature") {
        s3_err(
            S3ErrorCode::SignatureDoesNotMatch,
            format!("request body rejected: {reason}"),
        )
    } else {
        s3_err(
            S3ErrorCode::IncompleteBody,
            format!("request body could not be read: {reason}"),
        )
    }
}

/// Builds a DAG from a sync byte source (parts on disk, a copy source).
/// Runs on the calling thread: call it from `spawn_blocking`.
pub(crate) fn ingest_blocking<I, E>(
    store: &Store,
    profile: Profile,
    pieces: I,
) -> Result<(FileRoot, Upload), IngestError<E>>
where
    I: IntoIterator<Item = Result<Vec<u8>, E>>,
{
    let mut upload = store.begin_upload().map_err(IngestError::Store)?;
    let mut builder = FileBuilder::new(profile);
    let result = (|| {
        let mut sink = put_into(&mut upload);
        for piece in pieces {
            let piece = piece.map_err(IngestError::Source)?;
            builder
                .write(&piece, &mut sink)
                .map_err(IngestError::Store)?;
        }
        builder.finish(&mut sink).map_err(IngestError::Store)
    })();
    match result {
        Ok(root) => Ok((root, upload)),
        Err(e) => {
            let _ = upload.abort();
            Err(e)
        }
    }
}

/// Why a blocking ingest failed.
#[derive(Debug)]
pub(crate) enum IngestError<E> {
    /// The store refused a write.
    Store(StoreError),
    /// The byte source failed.
    Source(E),
}

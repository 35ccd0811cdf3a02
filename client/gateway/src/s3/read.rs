//! The read path: an object's blocks out of the store, verified, as a body.
//!
//! A GET holds a read lease ([`ObjectHandle`]) for as long as its body
//! streams, so an overwrite or delete that lands meanwhile cannot pull
//! blocks from under it: each reader sees the old object or the new one,
//! never a mix. The DAG walk is synchronous (RocksDB reads and SHA-256
//! checks), so it runs on a blocking thread and hands chunks to the
//! response through a small channel; a failure mid-stream ends the body
//! with an error, which hyper turns into an aborted response rather than a
//! short 200.

use std::sync::Arc;

use bytes::Bytes;
use cairn_dag::BlockSource;
use cairn_dag::reader::{FileReader, SourceError};
use cairn_store::{ObjectHandle, Store};
use cid::Cid;
use s3s::dto::StreamingBlob;
use tokio::sync::mpsc;

/// Blocks of one leased object version; those not held here (a placed
/// object whose hot copy was evicted) from the fallback, if any.
pub(crate) struct LeasedSource(pub ObjectHandle, pub Option<Fallback>);

impl BlockSource for LeasedSource {
    fn get_block(&self, cid: &Cid) -> Result<Option<Vec<u8>>, SourceError> {
        match self.0.get_block(cid.hash())? {
            Some(b) => Ok(Some(b)),
            None => match &self.1 {
                Some(f) => f.0.get_block(cid),
                None => Ok(None),
            },
        }
    }
}

/// Where blocks missing from the store come from (the storage network).
#[derive(Clone)]
pub struct Fallback(pub Arc<dyn BlockSource + Send + Sync>);

impl std::fmt::Debug for Fallback {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Fallback")
    }
}

/// The store first, then the fallback.
#[derive(Clone, Debug)]
pub struct TieredSource(pub Store, pub Fallback);

impl BlockSource for TieredSource {
    fn get_block(&self, cid: &Cid) -> Result<Option<Vec<u8>>, SourceError> {
        match self.0.get_block(cid.hash())? {
            Some(b) => Ok(Some(b)),
            None => self.1.0.get_block(cid),
        }
    }
}

/// Any block in the store.
#[derive(Clone, Debug)]
pub struct StoreSource(pub Store);

impl BlockSource for StoreSource {
    fn get_block(&self, cid: &Cid) -> Result<Option<Vec<u8>>, SourceError> {
        Ok(self.0.get_block(cid.hash())?)
    }
}

/// Error ending a body stream whose DAG could not be read.
#[derive(Debug, thiserror::Error)]
#[error("object body failed mid-stream: {0}")]
pub(crate) struct BodyError(String);

const BODY_CHANNEL: usize = 4;

/// Streams bytes `start..end` of the file at `root` out of `source`.
pub(crate) fn stream_file<S>(source: S, root: Cid, start: u64, end: u64) -> StreamingBlob
where
    S: BlockSource + Send + Sync + 'static,
{
    let (tx, rx) = mpsc::channel::<Result<Bytes, BodyError>>(BODY_CHANNEL);
    let source = Arc::new(source);
    tokio::task::spawn_blocking(move || {
        for piece in FileReader::range(source.as_ref(), root, start, end) {
            let item = piece.map(Bytes::from).map_err(|e| {
                tracing::error!(%root, error = %e, "object body failed");
                BodyError(e.to_string())
            });
            let failed = item.is_err();
            if tx.blocking_send(item).is_err() || failed {
                break;
            }
        }
    });
    let stream = futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    StreamingBlob::wrap(stream)
}

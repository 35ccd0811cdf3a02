//! Streaming bodies from blocking DAG reads.
//!
//! `cairn-dag` is synchronous (its readers pull from a sync
//! [`cairn_dag::BlockSource`], which may hit disk), so a producer runs on
//! tokio's blocking pool and hands chunks to the response body through a
//! bounded channel. The bound is what keeps memory flat: a slow client
//! stalls the producer after [`CHANNEL_CHUNKS`] chunks instead of the
//! gateway buffering the object.
//!
//! # Failing mid-stream
//!
//! Once the status line is sent a failure cannot become a status code. The
//! producer then puts an `Err` into the channel; the body stream yields it,
//! and hyper aborts the response: it closes the connection without the
//! final chunk of a chunked body, or short of the promised `Content-Length`.
//! Either way the client sees a failed transfer, never a short `200 OK`.
//! When the client goes away, sends fail and the producer stops reading.

use std::io;

use axum::body::Body;
use bytes::Bytes;
use tokio::sync::mpsc;

/// How many chunks may wait between producer and client.
pub const CHANNEL_CHUNKS: usize = 8;

/// Chunks smaller than this are coalesced before sending.
pub const COALESCE_BYTES: usize = 256 << 10;

type Item = Result<Bytes, io::Error>;

/// The producer's end: sends chunks to the response body.
#[derive(Debug)]
pub struct ChunkSink {
    tx: mpsc::Sender<Item>,
    buf: Vec<u8>,
}

/// The client disconnected; the producer should stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the client went away")]
pub struct ClientGone;

impl ChunkSink {
    /// Queues `data`, sending once enough has gathered.
    pub fn write(&mut self, data: &[u8]) -> Result<(), ClientGone> {
        if self.buf.is_empty() && data.len() >= COALESCE_BYTES {
            return self.send(Bytes::copy_from_slice(data));
        }
        self.buf.extend_from_slice(data);
        if self.buf.len() >= COALESCE_BYTES {
            self.flush()?;
        }
        Ok(())
    }

    /// Sends an owned chunk as it is (after anything buffered).
    pub fn write_owned(&mut self, data: Vec<u8>) -> Result<(), ClientGone> {
        if data.len() < COALESCE_BYTES {
            return self.write(&data);
        }
        self.flush()?;
        self.send(Bytes::from(data))
    }

    /// Sends whatever is buffered.
    pub fn flush(&mut self) -> Result<(), ClientGone> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::take(&mut self.buf));
        self.send(chunk)
    }

    fn send(&self, chunk: Bytes) -> Result<(), ClientGone> {
        self.tx.blocking_send(Ok(chunk)).map_err(|_| ClientGone)
    }

    /// Aborts the response: the body yields an error and hyper drops the
    /// connection. Buffered bytes are discarded, so nothing unverified and
    /// nothing after the failure point reaches the client.
    fn abort(self, reason: String) {
        let _ = self.tx.blocking_send(Err(io::Error::other(reason)));
    }
}

/// Starts `produce` on the blocking pool and returns the body it feeds.
///
/// `produce` writes through the [`ChunkSink`]; returning `Err` aborts the
/// response as described in the module docs (and is logged once here).
pub fn blocking_body<F, E>(what: &'static str, produce: F) -> Body
where
    F: FnOnce(&mut ChunkSink) -> Result<(), E> + Send + 'static,
    E: std::fmt::Display + From<ClientGone>,
{
    let (tx, rx) = mpsc::channel::<Item>(CHANNEL_CHUNKS);
    tokio::task::spawn_blocking(move || {
        let mut sink = ChunkSink {
            tx,
            buf: Vec::with_capacity(COALESCE_BYTES),
        };
        let result = produce(&mut sink).and_then(|()| sink.flush().map_err(E::from));
        if let Err(e) = result {
            if sink.tx.is_closed() {
                tracing::debug!(target: "cairn.gateway.ipfs", what, "client went away mid-stream");
            } else {
                tracing::warn!(target: "cairn.gateway.ipfs", what, error = %e, "aborting response mid-stream");
                sink.abort(e.to_string());
            }
        }
    });
    let stream = futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    Body::from_stream(stream)
}

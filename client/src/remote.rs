//! Commands through a running gateway's control socket.
//!
//! When `cairn gateway` holds a data dir, the store is locked to it; the
//! other commands then send their work to the gateway over
//! `DATA_DIR/gateway.sock` (see `cairn_gateway::control`) and the user sees
//! the same result as with direct access. Blocks are still built and hashed
//! here; the gateway verifies them again as it imports.

use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use bytes::Bytes;
use cairn_dag::Block;
use cairn_dag::car::{car_header, frame_prefix};
use cid::Cid;
use futures::{StreamExt, TryStreamExt};
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt, Empty, StreamBody, combinators::BoxBody};
use hyper::body::Frame;
use tokio::net::UnixStream;

/// A gateway reachable over its control socket.
#[derive(Debug)]
pub struct Remote {
    socket: PathBuf,
    runtime: tokio::runtime::Runtime,
}

type Body = BoxBody<Bytes, std::io::Error>;

impl Remote {
    /// Connects to the gateway holding `data_dir`.
    pub fn connect(data_dir: &Path) -> Result<Remote> {
        let socket = cairn_gateway::control::socket_path(data_dir);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        runtime
            .block_on(UnixStream::connect(&socket))
            .with_context(|| {
                format!(
                    "{} is held by another cairn process, and its gateway does not answer on {}",
                    data_dir.display(),
                    socket.display()
                )
            })?;
        Ok(Remote { socket, runtime })
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Body,
    ) -> Result<http::Response<hyper::body::Incoming>> {
        let stream = UnixStream::connect(&self.socket)
            .await
            .with_context(|| format!("connecting to {}", self.socket.display()))?;
        let (mut sender, conn) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
                .await
                .context("talking to the gateway")?;
        tokio::spawn(conn);
        let req = Request::builder()
            .method(method)
            .uri(path)
            .header("host", "cairn-gateway")
            .body(body)
            .context("building the request")?;
        sender
            .send_request(req)
            .await
            .context("the gateway did not answer")
    }

    async fn text(resp: http::Response<hyper::body::Incoming>) -> Result<(StatusCode, String)> {
        let status = resp.status();
        let body = resp
            .into_body()
            .collect()
            .await
            .context("reading the gateway's answer")?
            .to_bytes();
        Ok((status, String::from_utf8_lossy(&body).into_owned()))
    }

    /// Imports a CAR file; returns its roots.
    pub fn import_car(&self, file: &Path) -> Result<Vec<Cid>> {
        let f = std::fs::File::open(file).with_context(|| format!("opening {}", file.display()))?;
        self.import_parts(Bytes::new(), f)
    }

    /// Imports `head` followed by `rest`'s bytes as one CAR.
    fn import_parts(&self, head: Bytes, rest: std::fs::File) -> Result<Vec<Cid>> {
        self.runtime.block_on(async {
            let rest = tokio_util::io::ReaderStream::new(tokio::fs::File::from_std(rest));
            let stream = futures::stream::once(async move { Ok::<_, std::io::Error>(head) })
                .chain(rest)
                .map_ok(Frame::data);
            let body = BodyExt::boxed(StreamBody::new(stream));
            let (status, text) =
                Self::text(self.send(Method::POST, "/v0/import", body).await?).await?;
            if status != StatusCode::OK {
                bail!("the gateway refused the import: {}", text.trim());
            }
            text.lines()
                .map(|l| Cid::try_from(l).context("the gateway answered a bad CID"))
                .collect()
        })
    }

    /// Stores blocks produced by `build` (any order), pinned under the root
    /// it returns: the blocks are spooled to a temporary file, then sent as
    /// one CAR.
    pub fn store_blocks<E>(
        &self,
        build: impl FnOnce(&mut dyn FnMut(Block) -> Result<()>) -> Result<Cid, E>,
    ) -> Result<Cid>
    where
        E: Into<anyhow::Error>,
    {
        let path = std::env::temp_dir().join(format!("cairn-add-{}.frames", std::process::id()));
        let mut spool = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)
            .with_context(|| format!("creating {}", path.display()))?;
        let _ = std::fs::remove_file(&path);
        let root = {
            let mut writer = std::io::BufWriter::new(&mut spool);
            let mut sink = |b: Block| -> Result<()> {
                writer.write_all(&frame_prefix(&b.cid, b.data.len()))?;
                writer.write_all(&b.data)?;
                Ok(())
            };
            let root = build(&mut sink).map_err(Into::into)?;
            writer.flush()?;
            root
        };
        spool.seek(SeekFrom::Start(0))?;
        let roots = self.import_parts(Bytes::from(car_header(&[root])), spool)?;
        if roots != [root] {
            bail!("the gateway imported {roots:?}, expected {root}");
        }
        Ok(root)
    }

    /// Streams `path` (under `/ipfs/`) into `out`.
    pub fn fetch(&self, path: &str, out: &mut dyn Write) -> Result<u64> {
        self.runtime.block_on(async {
            let resp = self
                .send(
                    Method::GET,
                    path,
                    BodyExt::boxed(Empty::new().map_err(|e| match e {})),
                )
                .await?;
            if resp.status() != StatusCode::OK {
                let (status, text) = Self::text(resp).await?;
                bail!("the gateway answered {status}: {}", text.trim());
            }
            let mut body = resp.into_body();
            let mut written = 0u64;
            while let Some(frame) = body.frame().await {
                let frame = frame.context("the gateway's answer broke off")?;
                if let Ok(data) = frame.into_data() {
                    out.write_all(&data)?;
                    written += data.len() as u64;
                }
            }
            Ok(written)
        })
    }

    /// Creates a bucket.
    pub fn bucket_create(
        &self,
        name: &str,
        profile: cairn_dag::Profile,
        placement: Option<cairn_store::BucketPlacement>,
    ) -> Result<()> {
        self.runtime.block_on(async {
            let mut path = format!("/v0/bucket/{name}?profile={}", profile.name());
            if let Some(p) = placement {
                path.push_str(&format!(
                    "&k={}&m={}&duration={}&max_price={}",
                    p.k, p.m, p.duration, p.max_price
                ));
            }
            let body = BodyExt::boxed(Empty::new().map_err(|e| match e {}));
            let (status, text) = Self::text(self.send(Method::POST, &path, body).await?).await?;
            if status != StatusCode::OK {
                bail!("the gateway refused: {}", text.trim());
            }
            Ok(())
        })
    }
}

//! The control socket: how `cairn` commands reach a running gateway.
//!
//! The store allows one process at a time. While `cairn gateway` holds a
//! data dir, `cairn add`, `get`, `car import|export` and `bucket create`
//! talk to it over a Unix socket in that dir (`gateway.sock`, mode 0600, so
//! only the store's owner can use it) instead of failing on the lock.
//!
//! Endpoints (HTTP/1.1 over the socket):
//! - `POST /v0/import`: the body is a CAR; every block is verified, the DAG
//!   must be complete, and its roots are pinned; all or nothing. Answers the
//!   roots, one per line.
//! - `POST /v0/bucket/{name}?profile=P`: creates a bucket.
//! - `GET /ipfs/...`: the trustless gateway, as on the HTTP port.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path as UrlPath, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use bytes::Bytes;
use cairn_dag::Profile;
use cairn_dag::car::{CarError, CarReader};
use cairn_store::{Store, StoreError};
use cid::Cid;
use futures::StreamExt;
use tokio::sync::mpsc;

use crate::s3::read::StoreSource;

/// The socket's file name inside the data dir.
pub const SOCKET_NAME: &str = "gateway.sock";

/// The socket path for a data dir.
pub fn socket_path(data_dir: &Path) -> PathBuf {
    data_dir.join(SOCKET_NAME)
}

/// Binds the control socket, replacing a stale one, readable by the owner only.
pub fn bind(data_dir: &Path) -> std::io::Result<tokio::net::UnixListener> {
    let path = socket_path(data_dir);
    match std::fs::remove_file(&path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    let listener = tokio::net::UnixListener::bind(&path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(listener)
}

/// The control API over `store`.
pub fn router(store: Store) -> axum::Router {
    let ipfs = crate::ipfs::router(Arc::new(StoreSource(store.clone())));
    axum::Router::new()
        .route("/v0/import", post(handle_import))
        .route("/v0/bucket/{name}", post(handle_bucket_create))
        .with_state(store)
        .merge(ipfs)
}

fn text(status: StatusCode, body: String) -> Response {
    (status, body).into_response()
}

#[derive(serde::Deserialize)]
struct BucketParams {
    profile: Option<String>,
    k: Option<u8>,
    m: Option<u8>,
    duration: Option<u64>,
    max_price: Option<u128>,
}

async fn handle_bucket_create(
    State(store): State<Store>,
    UrlPath(name): UrlPath<String>,
    Query(params): Query<BucketParams>,
) -> Response {
    let profile = match params
        .profile
        .as_deref()
        .map(str::parse::<Profile>)
        .transpose()
    {
        Ok(p) => p.unwrap_or_default(),
        Err(e) => return text(StatusCode::BAD_REQUEST, e.to_string()),
    };
    if crate::s3::validate_bucket_name(&name).is_err() {
        return text(
            StatusCode::BAD_REQUEST,
            format!("invalid bucket name {name:?}"),
        );
    }
    let placement = match (params.k, params.m, params.duration, params.max_price) {
        (Some(k), Some(m), Some(duration), Some(max_price)) => {
            if k == 0 || usize::from(k) + usize::from(m) > 255 {
                return text(
                    StatusCode::BAD_REQUEST,
                    format!("k={k} m={m}: k must be at least 1 and k+m at most 255"),
                );
            }
            Some(cairn_store::BucketPlacement {
                k,
                m,
                duration,
                max_price,
            })
        }
        (None, None, None, None) => None,
        _ => {
            return text(
                StatusCode::BAD_REQUEST,
                "placement settings need all of k, m, duration and max_price".into(),
            );
        }
    };
    let now = crate::s3::meta::now_ms();
    let result = tokio::task::spawn_blocking(move || {
        store.create_bucket_with(&name, profile.name(), now, placement)
    })
    .await;
    match result {
        Ok(Ok(_)) => text(StatusCode::OK, String::new()),
        Ok(Err(e @ StoreError::BucketAlreadyExists { .. })) => {
            text(StatusCode::CONFLICT, e.to_string())
        }
        Ok(Err(e)) => text(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
        Err(e) => text(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

/// A blocking `Read` over chunks arriving from the request body.
struct ChannelReader {
    rx: mpsc::Receiver<Result<Bytes, String>>,
    current: Bytes,
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.current.is_empty() {
            match self.rx.blocking_recv() {
                Some(Ok(b)) => self.current = b,
                Some(Err(e)) => return Err(std::io::Error::other(e)),
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current[..n]);
        let _ = self.current.split_to(n);
        Ok(n)
    }
}

#[derive(Debug, thiserror::Error)]
enum ImportError {
    #[error("{0}")]
    Car(#[from] CarError),
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("{0}")]
    Dag(#[from] cairn_dag::DagError),
}

fn import_blocking(store: &Store, reader: ChannelReader) -> Result<Vec<Cid>, ImportError> {
    let mut car = CarReader::new(reader)?;
    let mut upload = store.begin_upload()?;
    let outcome = (|| -> Result<Vec<Cid>, ImportError> {
        while let Some(block) = car.next_block()? {
            upload.put_block(block.cid.hash(), &block.data)?;
        }
        Ok(car.finish()?.roots)
    })();
    let roots = match outcome {
        Ok(roots) => roots,
        Err(e) => {
            let _ = upload.abort();
            return Err(e);
        }
    };
    let Some((first, rest)) = roots.split_first() else {
        let _ = upload.abort();
        return Ok(Vec::new());
    };
    upload.commit_pin(*first)?;
    for root in rest {
        let mut extra = store.begin_upload()?;
        for block in
            cairn_dag::car::DagWalk::new(&StoreSource(store.clone()), *root, Default::default())
        {
            let block = block?;
            extra.put_block(block.cid.hash(), &block.data)?;
        }
        extra.commit_pin(*root)?;
    }
    Ok(roots)
}

async fn handle_import(State(store): State<Store>, body: Body) -> Response {
    let (tx, rx) = mpsc::channel(8);
    let worker = tokio::task::spawn_blocking(move || {
        import_blocking(
            &store,
            ChannelReader {
                rx,
                current: Bytes::new(),
            },
        )
    });
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let item = chunk.map_err(|e| e.to_string());
        let failed = item.is_err();
        if tx.send(item).await.is_err() || failed {
            break;
        }
    }
    drop(tx);
    match worker.await {
        Ok(Ok(roots)) => text(
            StatusCode::OK,
            roots.iter().map(|r| format!("{r}\n")).collect(),
        ),
        Ok(Err(ImportError::Car(e))) => text(
            StatusCode::BAD_REQUEST,
            format!("refused: {e}; nothing was stored"),
        ),
        Ok(Err(e)) => text(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
        Err(e) => text(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

//! Wiring: the S3 listener, the trustless HTTP listener and the metrics
//! listener, each on its own socket, sharing one store.
//!
//! Every S3 response gets an `x-amz-request-id`; error bodies carry the same
//! id as `<RequestId>`, so a client's log line and the gateway's agree.
//! [`run`] takes its listeners and a shutdown future, so tests and the CLI
//! choose the addresses and the moment to stop.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use bytes::Bytes;
use cairn_store::Store;
use http::{HeaderValue, Request, Response, StatusCode};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder as ConnBuilder;
use s3s::auth::{S3Auth, SecretKey};
use s3s::host::{MultiDomain, S3Host, VirtualHost};
use s3s::service::{S3Service, S3ServiceBuilder};
use s3s::{S3Error, S3ErrorCode, S3Result};
use tokio::net::TcpListener;

use axum::serve::ListenerExt;

use crate::metrics::{GatewayMetrics, classify};
use crate::s3::read::StoreSource;
use crate::s3::{CairnS3, S3Settings};

/// What the gateway needs besides its sockets.
#[derive(Debug, Clone)]
pub struct GatewayConfig {
    /// S3 access key id.
    pub access_key: String,
    /// S3 secret key.
    pub secret_key: String,
    /// Base domains for virtual-host addressing (`bucket.DOMAIN`).
    pub domains: Vec<String>,
    /// Bucket profiles.
    pub s3: S3Settings,
}

/// The three listening sockets.
#[derive(Debug)]
pub struct Listeners {
    /// S3 API.
    pub s3: TcpListener,
    /// Trustless HTTP gateway.
    pub http: TcpListener,
    /// Prometheus metrics.
    pub metrics: TcpListener,
    /// The control socket for local `cairn` commands (see [`crate::control`]).
    pub control: Option<tokio::net::UnixListener>,
}

/// Why the gateway could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GatewayError {
    /// A virtual-host domain is invalid.
    #[error("invalid virtual-host domain: {0}")]
    Domain(String),
    /// Metrics could not be registered.
    #[error("metrics: {0}")]
    Metrics(#[from] prometheus::Error),
    /// A socket failed.
    #[error("socket: {0}")]
    Io(#[from] std::io::Error),
}

/// The addresses actually bound.
#[derive(Debug, Clone, Copy)]
pub struct BoundAddrs {
    /// S3 API.
    pub s3: SocketAddr,
    /// Trustless HTTP gateway.
    pub http: SocketAddr,
    /// Metrics.
    pub metrics: SocketAddr,
}

impl Listeners {
    /// The local addresses.
    pub fn addrs(&self) -> std::io::Result<BoundAddrs> {
        Ok(BoundAddrs {
            s3: self.s3.local_addr()?,
            http: self.http.local_addr()?,
            metrics: self.metrics.local_addr()?,
        })
    }
}

/// Builds the S3 service (auth, virtual hosts, handlers).
pub fn s3_service(store: Store, config: &GatewayConfig) -> Result<S3Service, GatewayError> {
    s3_service_for(CairnS3::new(store, config.s3.clone()), config)
}

fn s3_service_for(s3: CairnS3, config: &GatewayConfig) -> Result<S3Service, GatewayError> {
    let mut builder = S3ServiceBuilder::new(s3);
    builder.set_auth(KeyAuth {
        access_key: config.access_key.clone(),
        secret_key: config.secret_key.clone().into(),
    });
    if !config.domains.is_empty() {
        let domains =
            MultiDomain::new(&config.domains).map_err(|e| GatewayError::Domain(e.to_string()))?;
        builder.set_host(PortlessHost(domains));
    }
    Ok(builder.build())
}

/// One key pair; an unknown access key is `InvalidAccessKeyId`, as on S3.
struct KeyAuth {
    access_key: String,
    secret_key: SecretKey,
}

#[async_trait::async_trait]
impl S3Auth for KeyAuth {
    async fn get_secret_key(&self, access_key: &str) -> S3Result<SecretKey> {
        if access_key == self.access_key {
            Ok(self.secret_key.clone())
        } else {
            Err(S3Error::with_message(
                S3ErrorCode::InvalidAccessKeyId,
                "The AWS Access Key Id you provided does not exist in our records.",
            ))
        }
    }
}

/// Virtual-host matching that ignores the `:port` every client on a
/// non-default port sends in `Host`.
struct PortlessHost(MultiDomain);

impl S3Host for PortlessHost {
    fn parse_host_header<'a>(&'a self, host: &'a str) -> S3Result<VirtualHost<'a>> {
        let bare = match host.rsplit_once(':') {
            Some((name, port))
                if !host.starts_with('[')
                    && !port.is_empty()
                    && port.bytes().all(|b| b.is_ascii_digit()) =>
            {
                name
            }
            _ => host,
        };
        self.0.parse_host_header(bare)
    }
}

/// Serves until `shutdown` resolves, then drains open connections.
pub async fn run(
    store: Store,
    config: GatewayConfig,
    listeners: Listeners,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), GatewayError> {
    serve(store, config, listeners, None, shutdown).await
}

/// The storage network behind the gateway.
#[cfg(feature = "network")]
#[derive(Debug, Clone)]
pub struct Network {
    /// The placement worker's settings (its placer holds the ledger and
    /// libp2p clients that reads use too).
    pub worker: crate::net::worker::WorkerConfig,
}

#[cfg(not(feature = "network"))]
/// The storage network behind the gateway (built without it).
#[derive(Debug, Clone)]
pub enum Network {}

/// [`run`], with objects placed on the storage network in the background
/// and blocks missing locally (evicted hot copies) read back from it.
pub async fn serve(
    store: Store,
    config: GatewayConfig,
    listeners: Listeners,
    network: Option<Network>,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), GatewayError> {
    let metrics = GatewayMetrics::new()?;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    #[cfg_attr(not(feature = "network"), allow(unused_mut))]
    let mut s3 = CairnS3::new(store.clone(), config.s3.clone());
    let store_for_control = store.clone();
    #[cfg_attr(not(feature = "network"), allow(unused_mut))]
    let mut ipfs_source: Arc<dyn cairn_dag::BlockSource + Send + Sync> =
        Arc::new(StoreSource(store.clone()));
    #[cfg_attr(not(feature = "network"), allow(unused_mut))]
    let mut worker_task: Option<tokio::task::JoinHandle<()>> = None;
    #[cfg(feature = "network")]
    if let Some(net) = network {
        use crate::s3::read::{Fallback, TieredSource};
        store.queue_placements(true);
        let remote = Fallback(Arc::new(crate::net::remote::RemoteBlocks::new(
            store.clone(),
            net.worker.placer.ledger.clone(),
            net.worker.placer.p2p.clone(),
            tokio::runtime::Handle::current(),
        )));
        s3 = s3.with_fallback(remote.clone());
        ipfs_source = Arc::new(TieredSource(store.clone(), remote));
        worker_task = Some(tokio::spawn(crate::net::worker::run(
            store.clone(),
            net.worker,
            stop_rx.clone(),
        )));
    }
    #[cfg(not(feature = "network"))]
    if let Some(n) = network {
        match n {}
    }
    let s3 = s3_service_for(s3, &config)?;
    let ipfs = crate::ipfs::router(ipfs_source);
    let metrics_app = {
        let m = metrics.clone();
        axum::Router::new().route(
            "/metrics",
            axum::routing::get(move || {
                let m = m.clone();
                async move {
                    (
                        [(http::header::CONTENT_TYPE, "text/plain; version=0.0.4")],
                        m.render(),
                    )
                }
            }),
        )
    };
    let wait = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|stop| *stop).await;
    };
    let http_task = tokio::spawn(
        axum::serve(listeners.http.tap_io(no_delay), ipfs)
            .with_graceful_shutdown(wait(stop_rx.clone()))
            .into_future(),
    );
    let metrics_task = tokio::spawn(
        axum::serve(listeners.metrics, metrics_app)
            .with_graceful_shutdown(wait(stop_rx.clone()))
            .into_future(),
    );
    let control_task = listeners.control.map(|control| {
        let app = crate::control::router(store_for_control.clone());
        tokio::spawn(
            axum::serve(control, app)
                .with_graceful_shutdown(wait(stop_rx.clone()))
                .into_future(),
        )
    });
    let domains: Arc<[String]> = config.domains.clone().into();
    let s3_task = tokio::spawn(serve_s3(listeners.s3, s3, metrics, domains, wait(stop_rx)));
    shutdown.await;
    let _ = stop_tx.send(true);
    for task in [http_task, metrics_task].into_iter().chain(control_task) {
        if let Ok(Err(e)) = task.await {
            tracing::warn!(error = %e, "listener ended with an error");
        }
    }
    let _ = s3_task.await;
    if let Some(w) = worker_task {
        let _ = w.await;
    }
    Ok(())
}

async fn serve_s3(
    listener: TcpListener,
    service: S3Service,
    metrics: GatewayMetrics,
    domains: Arc<[String]>,
    shutdown: impl Future<Output = ()>,
) {
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let builder = ConnBuilder::new(TokioExecutor::new());
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let socket = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((socket, _)) => {
                    // Without it a small response's body waits for the
                    // peer's delayed ACK (~40 ms) behind its headers.
                    if let Err(e) = socket.set_nodelay(true) {
                        tracing::debug!(error = %e, "TCP_NODELAY failed");
                    }
                    socket
                }
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let service = service.clone();
        let metrics = metrics.clone();
        let domains = domains.clone();
        let handler = hyper::service::service_fn(move |req| {
            handle_s3(service.clone(), metrics.clone(), domains.clone(), req)
        });
        let conn = builder
            .serve_connection(TokioIo::new(socket), handler)
            .into_owned();
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "S3 connection ended with an error");
            }
        });
    }
    graceful.shutdown().await;
}

fn no_delay(tcp: &mut tokio::net::TcpStream) {
    if let Err(e) = tcp.set_nodelay(true) {
        tracing::debug!(error = %e, "TCP_NODELAY failed");
    }
}

fn request_id() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    format!(
        "{:016X}",
        t.rotate_left(17) ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15)
    )
}

async fn handle_s3(
    service: S3Service,
    metrics: GatewayMetrics,
    domains: Arc<[String]>,
    req: Request<Incoming>,
) -> Result<Response<s3s::Body>, Infallible> {
    let op = classify(
        req.method(),
        req.uri().path(),
        req.uri().query(),
        req.headers(),
        &domains,
    );
    let id = request_id();
    let started = Instant::now();
    let bytes_in = content_length(req.headers());
    let has_body = bytes_in > 0 || req.headers().contains_key(http::header::TRANSFER_ENCODING);
    let mut resp = match service.call(req.map(s3s::Body::from)).await {
        Ok(resp) => resp,
        Err(e) => {
            tracing::error!(error = ?e, "S3 service failed");
            let mut r = Response::new(s3s::Body::from(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>InternalError</Code><Message>internal error</Message></Error>".to_owned(),
            ));
            *r.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
            r
        }
    };
    let status = resp.status();
    if status.is_client_error() || status.is_server_error() {
        let code = stamp_error_body(&mut resp, &id);
        metrics.errors.with_label_values(&[op, &code]).inc();
        if has_body {
            // The request body may be left unread (a refusal before it was
            // needed, or after `Expect: 100-continue`): say the connection
            // ends here so the client does not reuse it mid-body.
            resp.headers_mut()
                .insert(http::header::CONNECTION, HeaderValue::from_static("close"));
        }
    }
    if let Ok(v) = HeaderValue::from_str(&id) {
        resp.headers_mut().insert("x-amz-request-id", v.clone());
        resp.headers_mut().insert("x-amz-id-2", v);
    }
    metrics
        .requests
        .with_label_values(&[op, status.as_str()])
        .inc();
    metrics
        .latency
        .with_label_values(&[op])
        .observe(started.elapsed().as_secs_f64());
    metrics.bytes_in.with_label_values(&[op]).inc_by(bytes_in);
    metrics
        .bytes_out
        .with_label_values(&[op])
        .inc_by(content_length(resp.headers()));
    Ok(resp)
}

fn content_length(headers: &http::HeaderMap) -> u64 {
    headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Puts the request id into an S3 XML error body and returns its code.
fn stamp_error_body(resp: &mut Response<s3s::Body>, id: &str) -> String {
    let Some(body) = resp.body().bytes() else {
        return "Unknown".into();
    };
    let text = String::from_utf8_lossy(&body).into_owned();
    let code = text
        .split_once("<Code>")
        .and_then(|(_, rest)| rest.split_once("</Code>"))
        .map_or_else(|| status_code_name(resp.status()), |(c, _)| c.to_owned());
    if !text.is_empty() && !text.contains("<RequestId>") && text.contains("</Error>") {
        let stamped = text.replacen(
            "</Error>",
            &format!("<RequestId>{id}</RequestId></Error>"),
            1,
        );
        let len = stamped.len();
        *resp.body_mut() = s3s::Body::from(Bytes::from(stamped));
        if let Ok(v) = HeaderValue::from_str(&len.to_string()) {
            resp.headers_mut().insert(http::header::CONTENT_LENGTH, v);
        }
    }
    code
}

fn status_code_name(status: StatusCode) -> String {
    status
        .canonical_reason()
        .unwrap_or("Unknown")
        .replace(' ', "")
}

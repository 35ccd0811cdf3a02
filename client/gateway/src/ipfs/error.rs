//! The gateway's error type and its one mapping to HTTP status codes.
//!
//! Handlers return [`GatewayError`]; [`IntoResponse`] turns it into a
//! status and a plain-text body naming the problem. The mapping follows the
//! path gateway spec's "Response Status Codes": 400 for malformed requests,
//! 404 for content this gateway does not have (a missing root block, a
//! missing path segment), 406 for formats it does not produce, 416 for an
//! unsatisfiable `Range`, 501 for codecs it cannot path through or render, 502
//! when stored bytes fail verification (a retry after repair may succeed),
//! and 500 for storage failures and undecodable DAGs.
//!
//! Errors that happen after the status line was sent cannot become a
//! status; see [`super::stream`] for how those abort the body instead.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use cairn_dag::DagError;
use cid::Cid;

use super::request::RequestError;

/// Why a gateway request failed before its response started.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GatewayError {
    /// The request itself is malformed or asks for an unsupported format.
    #[error(transparent)]
    Request(#[from] RequestError),
    /// The root block of the request is not in the store.
    #[error("block {cid} not found")]
    NotFound {
        /// The absent block.
        cid: Cid,
    },
    /// `Cache-Control: only-if-cached` and the root block is not here.
    #[error("block {cid} is not cached here")]
    NotCached {
        /// The absent block.
        cid: Cid,
    },
    /// A codec this gateway cannot deserialize or path through.
    #[error(
        "{cid} has codec {codec:#x}, which this gateway cannot {action}; ask for ?format=raw or ?format=car"
    )]
    UnsupportedCodec {
        /// The block.
        cid: Cid,
        /// Its codec.
        codec: u64,
        /// What was attempted: "path through" or "deserialize".
        action: &'static str,
    },
    /// A UnixFS node type with no deserialized form here (symlink, metadata).
    #[error(
        "{cid} is a UnixFS {kind}, which this gateway does not deserialize; ask for ?format=raw or ?format=car"
    )]
    UnsupportedNode {
        /// The node.
        cid: Cid,
        /// Its type.
        kind: &'static str,
    },
    /// A `Range` that no byte of the file satisfies.
    #[error("range not satisfiable: the file has {size} bytes")]
    RangeNotSatisfiable {
        /// The file's size.
        size: u64,
    },
    /// `entity-bytes` starts past the end of the entity.
    #[error("entity-bytes {requested} lies outside the entity's {size} bytes")]
    EntityBytesOutside {
        /// The parameter as given.
        requested: String,
        /// The entity's size.
        size: u64,
    },
    /// Reading the DAG failed.
    #[error(transparent)]
    Dag(Box<DagError>),
    /// A blocking task died (panicked or was cancelled).
    #[error("internal error: a worker task failed: {reason}")]
    Task {
        /// The join error.
        reason: String,
    },
}

// Boxed: `DagError` is large and would bloat every `Result` on the request path.
impl From<DagError> for GatewayError {
    fn from(e: DagError) -> Self {
        GatewayError::Dag(Box::new(e))
    }
}

impl GatewayError {
    /// The HTTP status for this error.
    pub fn status(&self) -> StatusCode {
        match self {
            GatewayError::Request(RequestError::NotAcceptable { .. }) => StatusCode::NOT_ACCEPTABLE,
            GatewayError::Request(_) | GatewayError::EntityBytesOutside { .. } => {
                StatusCode::BAD_REQUEST
            }
            GatewayError::NotFound { .. } => StatusCode::NOT_FOUND,
            GatewayError::NotCached { .. } => StatusCode::PRECONDITION_FAILED,
            GatewayError::UnsupportedCodec { .. } | GatewayError::UnsupportedNode { .. } => {
                StatusCode::NOT_IMPLEMENTED
            }
            GatewayError::RangeNotSatisfiable { .. } => StatusCode::RANGE_NOT_SATISFIABLE,
            GatewayError::Dag(e) => dag_status(e),
            GatewayError::Task { .. } => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

fn dag_status(e: &DagError) -> StatusCode {
    match e {
        // A non-recursive gateway knows it does not have the content; a
        // path that names nothing (or goes through a file) does not exist.
        DagError::MissingBlock { .. }
        | DagError::NotFound { .. }
        | DagError::NotADirectory { .. } => StatusCode::NOT_FOUND,
        DagError::Verify(_) => StatusCode::BAD_GATEWAY,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl IntoResponse for GatewayError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::warn!(target: "cairn.gateway.ipfs", error = %self, status = status.as_u16(), "request failed");
        }
        let mut response = (status, format!("{self}\n")).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        headers.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        headers.insert(header::VARY, HeaderValue::from_static("Accept"));
        if let GatewayError::RangeNotSatisfiable { size } = self
            && let Ok(v) = HeaderValue::from_str(&format!("bytes */{size}"))
        {
            headers.insert(header::CONTENT_RANGE, v);
        }
        response
    }
}

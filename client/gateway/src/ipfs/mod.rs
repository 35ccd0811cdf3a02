//! The IPFS HTTP gateway: `GET`/`HEAD /ipfs/{cid}[/{path}]` over any
//! [`BlockSource`], trustless (raw blocks, CAR streams) and deserialized
//! (file bytes, directory listings) per the IPFS path and trustless gateway
//! specs (specs.ipfs.tech/http-gateways).
//!
//! # Goals
//! - Never serve a byte that does not match its CID: every block is
//!   verified as it is read, and a failure after the status line aborts
//!   the response (see [`stream`]) rather than ending it short but "OK".
//! - Stream: files and CARs go out block by block from the blocking pool
//!   through a bounded channel, so memory per request is a few blocks.
//! - Answer with the spec's status codes and caching headers, so CDNs and
//!   trustless clients (Helia, `@helia/verified-fetch`, boxo) work unchanged.
//!
//! # Non-goals (for now)
//! `/ipns/`, DNSLink and subdomain gateways; TAR and dag-json/dag-cbor
//! conversions (406); pathing into non-UnixFS codecs (501); symlinks are
//! not followed; multi-range requests (served whole, as RFC 9110 allows).
//!
//! # Flow
//! ```text
//! request -> request::{split_content_path, parse_cid, Query, negotiate}   (400/406)
//!         -> resolve::resolve on the blocking pool: root + path blocks,
//!            plain and HAMT-sharded directories                            (404/501/502)
//!         -> If-None-Match vs the ETag                                     (304)
//!         -> raw block | car::write_car | deserialized::{file, directory}
//!            streamed by stream::blocking_body                             (abort on failure)
//! ```
//! Errors are [`GatewayError`]s, mapped to HTTP status once, in [`error`].

pub mod car;
mod deserialized;
pub mod error;
pub mod mime;
pub mod request;
pub mod resolve;
pub mod stream;

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use cairn_dag::BlockSource;
use cid::Cid;

pub use error::GatewayError;
use request::{Format, Negotiated, Query};
use resolve::{IdentityAware, Resolved};

/// `Cache-Control` for everything under `/ipfs/`: content never changes.
pub const IMMUTABLE: &str = "public, max-age=29030400, immutable";

/// The gateway's routes, serving blocks from `source`.
///
/// `source` must match blocks by multihash (a CIDv0 and a CIDv1 of the same
/// bytes name the same block); the gateway verifies whatever it returns.
pub fn router(source: Arc<dyn BlockSource + Send + Sync>) -> Router {
    let state = Gateway {
        source: IdentityAware(source),
    };
    // `get` also answers HEAD; handlers look at the method to skip bodies.
    Router::new()
        .route("/ipfs/{*rest}", get(handle_ipfs))
        .with_state(state)
}

#[derive(Clone, Debug)]
struct Gateway {
    source: IdentityAware,
}

/// Everything about one request that the response builders need.
#[derive(Debug)]
struct Ctx {
    head: bool,
    uri: Uri,
    headers: HeaderMap,
    root: Cid,
    segments: Vec<String>,
    trailing_slash: bool,
    query: Query,
    negotiated: Negotiated,
    resolved: Resolved,
}

async fn handle_ipfs(
    State(gw): State<Gateway>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    match handle(gw, method, uri, headers).await {
        Ok(response) => response,
        Err(e) => e.into_response(),
    }
}

async fn handle(
    gw: Gateway,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, GatewayError> {
    let rest = uri.path().strip_prefix("/ipfs/").unwrap_or_default();
    let (cid, segments, trailing_slash) = request::split_content_path(rest)?;
    let root = request::parse_cid(&cid)?;
    let query = Query::parse(uri.query())?;
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok());
    let negotiated = request::negotiate(&query, accept)?;

    let resolved = {
        let source = gw.source.clone();
        let segments = segments.clone();
        blocking(move || resolve::resolve(&source, root, &segments)).await
    };
    let resolved = match resolved {
        Err(GatewayError::NotFound { cid }) if only_if_cached(&headers) => {
            return Err(GatewayError::NotCached { cid });
        }
        other => other?,
    };
    let ctx = Ctx {
        head: method == Method::HEAD,
        uri,
        headers,
        root,
        segments,
        trailing_slash,
        query,
        negotiated,
        resolved,
    };
    match ctx.negotiated.format {
        Format::Raw => Ok(raw_block(&ctx)),
        Format::Car(params) => car_response(&gw, &ctx, &params),
        Format::Deserialized => deserialized::respond(&gw, &ctx).await,
    }
}

fn only_if_cached(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::CACHE_CONTROL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| {
            v.split(',')
                .any(|d| d.trim().eq_ignore_ascii_case("only-if-cached"))
        })
}

/// Runs a blocking DAG operation off the async threads.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, GatewayError> + Send + 'static,
) -> Result<T, GatewayError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| GatewayError::Task {
            reason: e.to_string(),
        })?
}

fn raw_block(ctx: &Ctx) -> Response {
    let cid = ctx.resolved.terminus;
    let etag = format!("\"{cid}.raw\"");
    if let Some(not_modified) = not_modified(ctx, &etag) {
        return not_modified;
    }
    let len = ctx.resolved.block.len();
    let body = if ctx.head {
        Body::empty()
    } else {
        Body::from(ctx.resolved.block.clone())
    };
    let mut response = Response::new(body);
    let h = response.headers_mut();
    common_headers(h, ctx, &etag);
    set(h, header::CONTENT_TYPE, "application/vnd.ipld.raw");
    set(h, header::CONTENT_LENGTH, &len.to_string());
    set(
        h,
        header::CONTENT_DISPOSITION,
        &disposition(
            "attachment",
            ctx.query.filename.as_deref(),
            &format!("{cid}.bin"),
        ),
    );
    if ctx.negotiated.from_accept {
        set(
            h,
            header::CONTENT_LOCATION,
            &content_location(&ctx.uri, "format=raw"),
        );
    }
    response
}

fn car_response(
    gw: &Gateway,
    ctx: &Ctx,
    params: &request::CarParams,
) -> Result<Response, GatewayError> {
    let plan = car::plan(ctx.root, &ctx.resolved, params)?;
    let etag = car::etag(&ctx.root, &ctx.segments, params);
    if let Some(not_modified) = not_modified(ctx, &etag) {
        return Ok(not_modified);
    }
    let body = if ctx.head {
        Body::empty()
    } else {
        let source = gw.source.clone();
        stream::blocking_body("car", move |sink| car::write_car(&source, &plan, sink))
    };
    let mut response = Response::new(body);
    let h = response.headers_mut();
    common_headers(h, ctx, &etag);
    set(h, header::CONTENT_TYPE, &params.content_type());
    set(h, header::ACCEPT_RANGES, "none");
    set(
        h,
        header::CONTENT_DISPOSITION,
        &disposition(
            "attachment",
            ctx.query.filename.as_deref(),
            &format!("{}.car", ctx.root),
        ),
    );
    if ctx.negotiated.from_accept {
        let dups = if params.dups { "y" } else { "n" };
        set(
            h,
            header::CONTENT_LOCATION,
            &content_location(
                &ctx.uri,
                &format!("format=car&car-version=1&car-order=dfs&car-dups={dups}"),
            ),
        );
    }
    Ok(response)
}

/// Headers every successful `/ipfs/` response carries.
fn common_headers(h: &mut HeaderMap, ctx: &Ctx, etag: &str) {
    set(h, header::ETAG, etag);
    set(h, header::CACHE_CONTROL, IMMUTABLE);
    set(h, header::VARY, "Accept");
    set(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(h, HeaderName::from_static("x-ipfs-path"), ctx.uri.path());
    let roots: Vec<String> = ctx.resolved.roots.iter().map(Cid::to_string).collect();
    set(h, HeaderName::from_static("x-ipfs-roots"), &roots.join(","));
}

/// A 304 if `If-None-Match` names `etag` (weak comparison, RFC 9110 §13.1.2).
fn not_modified(ctx: &Ctx, etag: &str) -> Option<Response> {
    let matches = ctx
        .headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .any(|tag| tag == "*" || opaque(tag) == opaque(etag));
    if !matches {
        return None;
    }
    let mut response = StatusCode::NOT_MODIFIED.into_response();
    common_headers(response.headers_mut(), ctx, etag);
    Some(response)
}

/// An entity tag without its weakness prefix.
fn opaque(tag: &str) -> &str {
    tag.strip_prefix("W/").unwrap_or(tag)
}

/// This request's URL with `extra` query parameters added.
fn content_location(uri: &Uri, extra: &str) -> String {
    match uri.query() {
        Some(q) if !q.is_empty() => format!("{}?{q}&{extra}", uri.path()),
        _ => format!("{}?{extra}", uri.path()),
    }
}

/// `Content-Disposition` with an ASCII fallback name and, for non-ASCII
/// names, the RFC 8187 UTF-8 form.
fn disposition(kind: &str, custom: Option<&str>, default: &str) -> String {
    let name = custom.filter(|n| !n.is_empty()).unwrap_or(default);
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if name.is_ascii() {
        format!("{kind}; filename=\"{ascii}\"")
    } else {
        format!(
            "{kind}; filename=\"{ascii}\"; filename*=UTF-8''{}",
            request::percent_encode_segment(name)
        )
    }
}

/// Sets a header, skipping values that are not valid header text (they
/// cannot occur for the values built here; logging keeps that honest).
fn set(h: &mut HeaderMap, name: HeaderName, value: &str) {
    match HeaderValue::from_str(value) {
        Ok(v) => {
            h.insert(name, v);
        }
        Err(_) => {
            tracing::warn!(target: "cairn.gateway.ipfs", header = %name, "skipping invalid header value")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dispositions() {
        assert_eq!(
            disposition("attachment", None, "x.car"),
            "attachment; filename=\"x.car\""
        );
        assert_eq!(
            disposition("inline", Some("testтест.pdf"), "x"),
            "inline; filename=\"test____.pdf\"; filename*=UTF-8''test%D1%82%D0%B5%D1%81%D1%82.pdf"
        );
        assert_eq!(
            disposition("attachment", Some("a\"b"), "x"),
            "attachment; filename=\"a_b\""
        );
    }

    #[test]
    fn content_location_appends_format() {
        let uri: Uri = "/ipfs/bafy/a?x=1".parse().unwrap_or_default();
        assert_eq!(
            content_location(&uri, "format=raw"),
            "/ipfs/bafy/a?x=1&format=raw"
        );
        let uri: Uri = "/ipfs/bafy".parse().unwrap_or_default();
        assert_eq!(
            content_location(&uri, "format=raw"),
            "/ipfs/bafy?format=raw"
        );
    }
}

//! Deserialized responses, for browsers: a file's bytes (whole or one
//! `Range`), a directory's `index.html`, or a generated listing.
//!
//! Files stream through [`cairn_dag::reader::FileReader`], which verifies
//! every block it reads; the content type comes from the file name (the
//! last path segment or `?filename=`), else from sniffing the first
//! [`mime::SNIFF_LEN`] bytes, read (and verified) before the status line so
//! that a bad first block is a 502 rather than an aborted 200.
//! Directories requested without a trailing `/` are redirected (301) to the
//! URL with one, as the path gateway spec requires, so relative links work.

use axum::body::Body;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use cairn_dag::reader::{DagError, FileReader, fetch_verified};
use cairn_dag::{DirLink, list_dir, resolve_path};
use cid::Cid;

use super::error::GatewayError;
use super::request::{self, RangeAnswer};
use super::resolve::{Entity, classify};
use super::stream::{self, ClientGone};
use super::{Ctx, Gateway, blocking, common_headers, disposition, mime, not_modified, set};

/// Version tag for generated listings' ETags: a new gateway release busts
/// caches of HTML it generated.
const DIR_INDEX_VERSION: &str = concat!("cairn-", env!("CARGO_PKG_VERSION"));

/// The deserialized response for the resolved path.
pub(super) async fn respond(gw: &Gateway, ctx: &Ctx) -> Result<Response, GatewayError> {
    let cid = ctx.resolved.terminus;
    match classify(&cid, &ctx.resolved.block)? {
        Entity::File { size } => {
            let name = ctx
                .query
                .filename
                .as_deref()
                .or(ctx.segments.last().map(String::as_str));
            file(gw, ctx, cid, size, name).await
        }
        Entity::Directory => directory(gw, ctx, cid).await,
        Entity::Other { kind } => Err(GatewayError::UnsupportedNode { cid, kind }),
        Entity::NotUnixFs { codec } => block_as_document(ctx, cid, codec),
    }
}

/// The bytes of the file `cid` of `size` bytes.
async fn file(
    gw: &Gateway,
    ctx: &Ctx,
    cid: Cid,
    size: u64,
    name: Option<&str>,
) -> Result<Response, GatewayError> {
    let etag = format!("\"{cid}\"");
    if let Some(not_modified) = not_modified(ctx, &etag) {
        return Ok(not_modified);
    }
    let range = requested_range(&ctx.headers, &etag)
        .map(|r| match r.resolve(size) {
            RangeAnswer::Partial(start, end) => Ok((start, end)),
            RangeAnswer::Unsatisfiable => Err(GatewayError::RangeNotSatisfiable { size }),
        })
        .transpose()?;
    let content_type = match name.and_then(mime::from_name) {
        Some(t) => t,
        None => {
            let source = gw.source.clone();
            let head = blocking(move || {
                let parts: Result<Vec<Vec<u8>>, DagError> =
                    FileReader::range(&source, cid, 0, mime::SNIFF_LEN).collect();
                Ok(parts?.concat())
            })
            .await?;
            mime::sniff(&head)
        }
    };
    let (start, end) = range.unwrap_or((0, size));
    let body = if ctx.head {
        Body::empty()
    } else {
        let source = gw.source.clone();
        stream::blocking_body("file", move |sink| {
            for chunk in FileReader::range(&source, cid, start, end) {
                sink.write_owned(chunk?)?;
            }
            Ok::<(), BodyError>(())
        })
    };
    let mut response = Response::new(body);
    let h = response.headers_mut();
    common_headers(h, ctx, &etag);
    set(h, header::CONTENT_TYPE, content_type);
    set(h, header::CONTENT_LENGTH, &(end - start).to_string());
    set(h, header::ACCEPT_RANGES, "bytes");
    if range.is_some() {
        *response.status_mut() = StatusCode::PARTIAL_CONTENT;
        let last = end.saturating_sub(1);
        set(
            response.headers_mut(),
            header::CONTENT_RANGE,
            &format!("bytes {start}-{last}/{size}"),
        );
    }
    if let Some(d) = user_disposition(ctx) {
        set(response.headers_mut(), header::CONTENT_DISPOSITION, &d);
    }
    Ok(response)
}

/// Why a file or listing stream stopped part-way.
#[derive(Debug, thiserror::Error)]
enum BodyError {
    #[error(transparent)]
    Dag(Box<DagError>),
    #[error(transparent)]
    ClientGone(#[from] ClientGone),
}

impl From<DagError> for BodyError {
    fn from(e: DagError) -> Self {
        BodyError::Dag(Box::new(e))
    }
}

/// The `Range` to honour: one well-formed range, and `If-Range` (when sent)
/// matching our strong ETag.
fn requested_range(headers: &HeaderMap, etag: &str) -> Option<request::ByteRange> {
    if let Some(if_range) = headers.get(header::IF_RANGE)
        && if_range.to_str().ok() != Some(etag)
    {
        return None;
    }
    request::parse_range(headers.get(header::RANGE)?.to_str().ok()?)
}

/// `Content-Disposition` asked for with `?filename=` or `?download=true`.
fn user_disposition(ctx: &Ctx) -> Option<String> {
    let download = ctx.query.download.as_deref() == Some("true");
    let name = ctx.query.filename.as_deref();
    match (download, name) {
        (false, None) => None,
        (true, _) => Some(disposition(
            "attachment",
            name,
            &ctx.resolved.terminus.to_string(),
        )),
        (false, Some(n)) => Some(disposition("inline", Some(n), n)),
    }
}

/// A directory (plain or sharded): redirect to the trailing-slash URL,
/// then serve its `index.html` if it has one, else a generated listing.
async fn directory(gw: &Gateway, ctx: &Ctx, cid: Cid) -> Result<Response, GatewayError> {
    if !ctx.trailing_slash {
        let location = match ctx.uri.query() {
            Some(q) => format!("{}/?{q}", ctx.uri.path()),
            None => format!("{}/", ctx.uri.path()),
        };
        let mut response = StatusCode::MOVED_PERMANENTLY.into_response();
        set(response.headers_mut(), header::LOCATION, &location);
        return Ok(response);
    }
    let source = gw.source.clone();
    let index = blocking(move || match resolve_path(&source, cid, &["index.html"]) {
        Ok(index) => {
            let block = fetch_verified(&source, &index)?;
            Ok(Some((index, block)))
        }
        Err(DagError::NotFound { .. }) => Ok(None),
        Err(e) => Err(e.into()),
    })
    .await?;
    if let Some((index, block)) = index
        && let Entity::File { size } = classify(&index, &block)?
    {
        return file(gw, ctx, index, size, Some("index.html")).await;
    }
    let etag = format!("\"DirIndex-{DIR_INDEX_VERSION}_CID-{cid}\"");
    if let Some(not_modified) = not_modified(ctx, &etag) {
        return Ok(not_modified);
    }
    let body = if ctx.head {
        Body::empty()
    } else {
        let source = gw.source.clone();
        let path = ctx.uri.path().to_owned();
        let has_parent = !ctx.segments.is_empty();
        stream::blocking_body("listing", move |sink| {
            sink.write(listing_head(&path, has_parent).as_bytes())?;
            for entry in list_dir(&source, cid)? {
                sink.write(listing_row(&entry?).as_bytes())?;
            }
            sink.write(LISTING_TAIL.as_bytes())?;
            Ok::<(), BodyError>(())
        })
    };
    let mut response = Response::new(body);
    let h = response.headers_mut();
    common_headers(h, ctx, &etag);
    set(h, header::CONTENT_TYPE, "text/html; charset=utf-8");
    Ok(response)
}

/// A minimal HTML index, streamed one entry at a time so that it costs one
/// shard per level whatever the directory's size. Sizes are the links'
/// `Tsize` (DAG size), which needs no read of the entries themselves.
fn listing_head(path: &str, has_parent: bool) -> String {
    let title = escape(&request::percent_decode(path).unwrap_or_else(|| path.to_owned()));
    let mut html = format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Index of {title}</title></head>\n\
         <body><h1>Index of {title}</h1>\n<table>\n<tr><th>Name</th><th>CID</th><th>Size</th></tr>\n"
    );
    if has_parent {
        html.push_str("<tr><td><a href=\"../\">..</a></td><td></td><td></td></tr>\n");
    }
    html
}

fn listing_row(entry: &DirLink) -> String {
    format!(
        "<tr><td><a href=\"./{href}\">{name}</a></td><td><a href=\"/ipfs/{cid}\">{cid}</a></td><td>{size}</td></tr>\n",
        href = request::percent_encode_segment(&entry.name),
        name = escape(&entry.name),
        cid = entry.cid,
        size = entry.size.map(|s| s.to_string()).unwrap_or_default(),
    )
}

const LISTING_TAIL: &str = "</table>\n</body></html>\n";

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Non-UnixFS codecs with a document form are served as their block, typed
/// by codec (path gateway spec, "Response Payload"); others are 501.
fn block_as_document(ctx: &Ctx, cid: Cid, codec: u64) -> Result<Response, GatewayError> {
    let content_type = match codec {
        0x71 => "application/vnd.ipld.dag-cbor",
        0x0129 => "application/vnd.ipld.dag-json",
        0x0200 => "application/json",
        0x51 => "application/cbor",
        _ => {
            return Err(GatewayError::UnsupportedCodec {
                cid,
                codec,
                action: "deserialize",
            });
        }
    };
    let etag = format!("\"{cid}\"");
    if let Some(not_modified) = not_modified(ctx, &etag) {
        return Ok(not_modified);
    }
    let block = &ctx.resolved.block;
    let mut response = Response::new(if ctx.head {
        Body::empty()
    } else {
        Body::from(block.clone())
    });
    let h = response.headers_mut();
    common_headers(h, ctx, &etag);
    set(h, header::CONTENT_TYPE, content_type);
    set(h, header::CONTENT_LENGTH, &block.len().to_string());
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listing_escapes_names_and_encodes_links() {
        let entry = DirLink {
            cid: Cid::default(),
            name: "<a b>.txt".into(),
            size: Some(7),
        };
        let row = listing_row(&entry);
        assert!(row.contains("href=\"./%3Ca%20b%3E.txt\""), "{row}");
        assert!(row.contains(">&lt;a b&gt;.txt<"), "{row}");
        assert!(!row.contains("<a b>"), "{row}");
        assert!(!listing_head("/ipfs/x/", false).contains("href=\"../\""));
        assert!(listing_head("/ipfs/x/y/", true).contains("href=\"../\""));
        assert!(listing_head("/ipfs/x/<y>/", true).contains("Index of /ipfs/x/&lt;y&gt;/"));
    }
}

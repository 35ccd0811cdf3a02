//! Target `s3_request`: one HTTP request, built from the input, through the
//! gateway's whole S3 service (`cairn_gateway::server::s3_service`: s3s
//! parsing, SigV4, virtual hosts, then Cairn's handlers over a real
//! RocksDB store), plus `cairn_gateway::metrics::classify`.
//!
//! Input layout (see also README.md and `tests/seeds/`):
//! - byte 0, flags: bits 0-2 method (GET PUT POST DELETE HEAD OPTIONS PATCH
//!   GET); bit 3 sign the request with the gateway's key; bits 4-5 host
//!   (`s3.cairn.test` path style, `fuzz.s3.cairn.test` virtual host, `fuzz`
//!   CNAME style, none); bit 6 sign with a wrong secret instead.
//! - the rest, split at the first eight `\n`: path and query, then the
//!   `authorization`, `x-amz-date`, `x-amz-content-sha256`, `range`,
//!   `x-amz-copy-source` and `content-length` header values (empty = absent),
//!   then extra `name:value` headers separated by `\r`, then the body (which
//!   may contain `\n`). The body is framed as hyper frames it: cut at a
//!   numeric `content-length`, or, when shorter, delivered as a stream that
//!   fails at its end (the client hung up); a non-numeric `content-length`
//!   is no request at all, and extra headers cannot add framing headers.
//! - when signing, the target computes `authorization` and `x-amz-date` (now,
//!   so s3s's clock-skew check passes) and, if that field is empty,
//!   `x-amz-content-sha256` from the body; the other fields stay as given.
//! - `{upload}` anywhere is replaced by the id of a multipart upload of
//!   `fuzz/mp` that has part 1 (`part one\n`), so the fuzzer can reach the
//!   multipart handlers without guessing a random id.
//!
//! State: one store per process, opened in a temp dir on first use, with
//! bucket `fuzz` (profile `kubo-legacy`) holding `fuzz/obj` (300 KiB, two
//! leaves) and the upload above. Before each input the fixture is restored
//! (object rewritten if a request changed it, upload recreated if completed
//! or aborted), so an input's outcome does not depend on earlier inputs'
//! writes to the fixture; other buckets and keys it creates persist.
//!
//! Oracle:
//! - no panic in s3s, the gateway or the store;
//! - the status is a valid HTTP status (100..=599);
//! - a request without a valid signature (unsigned, fuzzer-written
//!   credentials, or signed with a wrong secret) never gets a 2xx: not for
//!   writes, and not for reads either, since the gateway grants nothing
//!   anonymously;
//! - a validly signed request whose body arrives intact never gets a 500
//!   (outside input must map to 4xx, or to 501 for what is not
//!   implemented), and no request poisons the store. Exempt: bodies that
//!   fail to read (the client hung up, or the body does not match the
//!   signed `x-amz-content-sha256` or aws-chunked signatures), because
//!   s3s 0.14 answers a body read error on XML-body operations
//!   (CreateBucket, DeleteObjects, CompleteMultipartUpload) with
//!   InternalError; see `corpus/s3_request/upstream-*`;
//! - a 2xx GET streams its body without error and with exactly its
//!   `Content-Length`; when its ETag is the fixture object's, the body equals
//!   the fixture bytes for the `Content-Range` given (or the whole object).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

use cairn_dag::Profile;
use cairn_gateway::metrics::classify;
use cairn_gateway::s3::S3Settings;
use cairn_gateway::server::{GatewayConfig, s3_service};
use cairn_store::{Store, UploadId};
use hmac::{KeyInit, Mac};
use http::header::{HeaderName, HeaderValue};
use http::uri::PathAndQuery;
use http::{Method, Request, Response, StatusCode, Uri};
use s3s::service::S3Service;
use sha2::{Digest, Sha256};

const ACCESS_KEY: &str = "AKIACAIRNFUZZ";
const SECRET_KEY: &str = "cairn-fuzz-secret";
const WRONG_SECRET: &str = "not-the-secret";
const REGION: &str = "us-east-1";
const BASE_DOMAIN: &str = "s3.cairn.test";
const HOSTS: [Option<&str>; 4] = [
    Some(BASE_DOMAIN),
    Some("fuzz.s3.cairn.test"),
    Some("fuzz"),
    None,
];
const METHODS: [Method; 8] = [
    Method::GET,
    Method::PUT,
    Method::POST,
    Method::DELETE,
    Method::HEAD,
    Method::OPTIONS,
    Method::PATCH,
    Method::GET,
];
/// The fixture bucket, its object and the multipart upload's key.
const BUCKET: &str = "fuzz";
const OBJECT: &str = "obj";
const UPLOAD_KEY: &str = "mp";
/// Body of part 1 of the fixture upload (ETag `md5("part one\n")`).
pub const PART_ONE: &[u8] = b"part one\n";
/// Placeholder replaced by the fixture upload's id.
pub const UPLOAD_PLACEHOLDER: &[u8] = b"{upload}";
/// Largest response body read back.
const BODY_LIMIT: usize = 64 << 20;

/// The fixture object's bytes: 300 KiB, so `kubo-legacy` makes two leaves.
pub fn fixture_object() -> Vec<u8> {
    (0..300u32 << 10)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect()
}

struct Fixture {
    rt: tokio::runtime::Runtime,
    service: S3Service,
    store: Store,
    object: Vec<u8>,
    object_etag: String,
    upload: Mutex<String>,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap_or_else(|e| panic!("fixture: tokio runtime: {e}"));
        let store =
            Store::open(store_dir()).unwrap_or_else(|e| panic!("fixture: opening the store: {e}"));
        let config = GatewayConfig {
            access_key: ACCESS_KEY.into(),
            secret_key: SECRET_KEY.into(),
            domains: vec![BASE_DOMAIN.into()],
            s3: S3Settings {
                default_profile: Profile::UnixfsV1_2025,
                bucket_profiles: BTreeMap::from([(BUCKET.to_owned(), Profile::KuboLegacy)]),
            },
        };
        let service = s3_service(store.clone(), &config)
            .unwrap_or_else(|e| panic!("fixture: s3_service: {e}"));
        let object = fixture_object();
        let object_etag = hex::encode(md5::Md5::digest(&object));
        let fx = Fixture {
            rt,
            service,
            store,
            object,
            object_etag,
            upload: Mutex::new(String::new()),
        };
        let (status, _) = fx.signed(Method::PUT, &format!("/{BUCKET}"), Vec::new());
        assert_eq!(status, StatusCode::OK, "fixture: CreateBucket");
        fx
    })
}

/// A fresh directory for this process's store; directories left by earlier
/// processes that have exited are removed first.
fn store_dir() -> PathBuf {
    let tmp = std::env::temp_dir();
    let prefix = "cairn-fuzz-s3.";
    if cfg!(target_os = "linux")
        && let Ok(entries) = std::fs::read_dir(&tmp)
    {
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(pid) = name.to_str().and_then(|n| n.strip_prefix(prefix)) else {
                continue;
            };
            if pid.parse::<u32>().is_ok() && !std::path::Path::new("/proc").join(pid).exists() {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    }
    let dir = tmp.join(format!("{prefix}{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

impl Fixture {
    /// Sends a correctly signed path-style request; returns status and body.
    fn signed(&self, method: Method, path: &str, body: Vec<u8>) -> (StatusCode, Vec<u8>) {
        let uri = Uri::try_from(path).unwrap_or_else(|e| panic!("fixture: bad path {path:?}: {e}"));
        let sha = hex::encode(Sha256::digest(&body));
        let (auth, date) = sign(&method, &uri, Some(BASE_DOMAIN), &sha, SECRET_KEY);
        let req = Request::builder()
            .method(method)
            .uri(uri)
            .header("host", BASE_DOMAIN)
            .header("x-amz-content-sha256", sha)
            .header("x-amz-date", date)
            .header("authorization", auth)
            .header("content-length", body.len())
            .body(s3s::Body::from(body))
            .unwrap_or_else(|e| panic!("fixture: request: {e}"));
        let mut resp = self.call(req);
        let body = self
            .rt
            .block_on(resp.body_mut().store_all_limited(BODY_LIMIT))
            .map(|b| b.to_vec())
            .unwrap_or_default();
        (resp.status(), body)
    }

    fn call(&self, req: Request<s3s::Body>) -> Response<s3s::Body> {
        match self.rt.block_on(self.service.call(req)) {
            Ok(resp) => resp,
            // What the gateway's own handler answers when s3s fails.
            Err(e) => {
                eprintln!("S3 service failed: {e:?}");
                let mut r = Response::new(s3s::Body::empty());
                *r.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
                r
            }
        }
    }

    /// Restores the fixture object and upload; returns the upload id.
    fn restore(&self) -> String {
        assert!(!self.store.is_poisoned(), "the store is poisoned");
        let intact = matches!(
            self.store.get_object_record(BUCKET, OBJECT),
            Ok(Some(rec)) if rec.etag == self.object_etag && rec.parts.is_none()
        );
        if !intact {
            let (status, body) = self.signed(
                Method::PUT,
                &format!("/{BUCKET}/{OBJECT}"),
                self.object.clone(),
            );
            assert_eq!(
                status,
                StatusCode::OK,
                "fixture: PutObject: {}",
                String::from_utf8_lossy(&body)
            );
        }
        let mut upload = self.upload.lock().unwrap_or_else(|e| e.into_inner());
        let alive = UploadId::parse(&upload).is_ok_and(|id| self.store.get_multipart(&id).is_ok());
        if !alive {
            let (status, body) = self.signed(
                Method::POST,
                &format!("/{BUCKET}/{UPLOAD_KEY}?uploads"),
                Vec::new(),
            );
            let text = String::from_utf8_lossy(&body);
            assert_eq!(
                status,
                StatusCode::OK,
                "fixture: CreateMultipartUpload: {text}"
            );
            let id = text
                .split_once("<UploadId>")
                .and_then(|(_, rest)| rest.split_once("</UploadId>"))
                .map(|(id, _)| id.to_owned())
                .unwrap_or_else(|| panic!("fixture: no UploadId in {text}"));
            let path = format!("/{BUCKET}/{UPLOAD_KEY}?partNumber=1&uploadId={id}");
            let (status, body) = self.signed(Method::PUT, &path, PART_ONE.to_vec());
            assert_eq!(
                status,
                StatusCode::OK,
                "fixture: UploadPart: {}",
                String::from_utf8_lossy(&body)
            );
            *upload = id;
        }
        upload.clone()
    }
}

/// SigV4 `(authorization, x-amz-date)` for a request signing `host` (if any),
/// `x-amz-content-sha256` and `x-amz-date`, canonicalised as AWS clients and
/// s3s do (the path decoded then re-encoded, decoded query pairs sorted by
/// name and re-encoded).
fn sign(
    method: &Method,
    uri: &Uri,
    host: Option<&str>,
    content_sha: &str,
    secret: &str,
) -> (String, String) {
    let now = time::OffsetDateTime::now_utc();
    let date = format!(
        "{:04}{:02}{:02}",
        now.year(),
        u8::from(now.month()),
        now.day()
    );
    let amz_date = format!(
        "{date}T{:02}{:02}{:02}Z",
        now.hour(),
        now.minute(),
        now.second()
    );

    let mut pairs: Vec<(String, String)> =
        form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
    pairs.sort_by(|a, b| a.0.cmp(&b.0));
    let query: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{}={}", uri_encode(k), uri_encode(v)))
        .collect();

    let path = uri_encode_path(&percent_decode(uri.path()));
    let mut canonical = format!("{method}\n{path}\n{}\n", query.join("&"));
    let mut signed_headers = String::new();
    if let Some(host) = host {
        canonical.push_str(&format!("host:{}\n", normalize(host)));
        signed_headers.push_str("host;");
    }
    canonical.push_str(&format!(
        "x-amz-content-sha256:{}\nx-amz-date:{amz_date}\n\n",
        normalize(content_sha)
    ));
    signed_headers.push_str("x-amz-content-sha256;x-amz-date");
    canonical.push_str(&format!("{signed_headers}\n{content_sha}"));

    let scope = format!("{date}/{REGION}/s3/aws4_request");
    let to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
        hex::encode(Sha256::digest(canonical.as_bytes()))
    );
    let mut key = hmac(format!("AWS4{secret}").as_bytes(), date.as_bytes());
    for part in [REGION, "s3", "aws4_request"] {
        key = hmac(&key, part.as_bytes());
    }
    let signature = hex::encode(hmac(&key, to_sign.as_bytes()));
    let auth = format!(
        "AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/{scope}, SignedHeaders={signed_headers}, Signature={signature}"
    );
    (auth, amz_date)
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let Ok(mut mac) = hmac::Hmac::<Sha256>::new_from_slice(key) else {
        return Vec::new();
    };
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

/// `%XX` decoded (other `%` kept), as the `urlencoding` crate that s3s uses.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
            Some(v)
                if b == b'%' && hex.is_some_and(|h| h.bytes().all(|c| c.is_ascii_hexdigit())) =>
            {
                out.push(v);
                i += 3;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn uri_encode(s: &str) -> String {
    encode(s, false)
}

fn uri_encode_path(s: &str) -> String {
    encode(s, true)
}

fn encode(s: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'_' | b'.' | b'~')
            || (keep_slash && b == b'/')
        {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// SigV4 header value normalisation: trimmed, inner runs of spaces as one.
fn normalize(v: &str) -> String {
    v.split(' ')
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn replace_all(haystack: &[u8], needle: &[u8], with: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(haystack.len());
    let mut rest = haystack;
    while !rest.is_empty() {
        if rest.starts_with(needle) {
            out.extend_from_slice(with);
            rest = rest.get(needle.len()..).unwrap_or_default();
        } else {
            out.extend_from_slice(rest.get(..1).unwrap_or_default());
            rest = rest.get(1..).unwrap_or_default();
        }
    }
    out
}

/// How a request is authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Auth {
    /// Whatever the fuzzer wrote (no valid signature can be forged).
    AsGiven,
    /// Signed with the gateway's secret.
    Valid,
    /// Signed with a wrong secret.
    WrongKey,
}

/// The `s3_request` target.
pub fn s3_request(data: &[u8]) {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let fx = fixture();
    let upload = fx.restore();
    let rest = replace_all(rest, UPLOAD_PLACEHOLDER, upload.as_bytes());

    let method = METHODS
        .get(usize::from(flags & 7))
        .cloned()
        .unwrap_or(Method::GET);
    let auth = match (flags & 0x08 != 0, flags & 0x40 != 0) {
        (false, _) => Auth::AsGiven,
        (true, false) => Auth::Valid,
        (true, true) => Auth::WrongKey,
    };
    let host = HOSTS.get(usize::from((flags >> 4) & 3)).copied().flatten();
    let mut fields = rest.splitn(9, |&b| b == b'\n');
    let mut field = || fields.next().unwrap_or_default();
    let (path, authorization, amz_date, content_sha, range, copy_source, content_length, extra) = (
        field(),
        field(),
        field(),
        field(),
        field(),
        field(),
        field(),
        field(),
    );
    let body = field().to_vec();

    // Origin-form request targets, as hyper hands them to the service; a
    // target hyper would refuse is no request at all.
    let path = if path.first() == Some(&b'/') {
        path.to_vec()
    } else {
        [b"/", path].concat()
    };
    let Ok(pq) = PathAndQuery::try_from(path) else {
        return;
    };
    let Ok(uri) = Uri::builder().path_and_query(pq).build() else {
        return;
    };
    // Framing as hyper delivers it: a Content-Length that is not a number is
    // refused before any service runs; bytes past it belong to the next
    // request; fewer bytes mean the client hung up mid-body, which the
    // service sees as a body stream that fails.
    let (body, hung_up) = if content_length.is_empty() {
        (body, false)
    } else {
        let Some(declared) = std::str::from_utf8(content_length)
            .ok()
            .and_then(|v| v.parse::<u64>().ok())
        else {
            return;
        };
        let mut body = body;
        let hung_up = (body.len() as u64) < declared;
        body.truncate(usize::try_from(declared).unwrap_or(usize::MAX));
        (body, hung_up)
    };

    // Whether the signed payload hash (or aws-chunked signatures) cannot
    // match the body, so that reading the body fails inside s3s.
    let mut payload_unverifiable = false;
    let mut headers = http::HeaderMap::new();
    // Names are the lowercase constants below; a value hyper would refuse
    // on the wire is left out.
    let mut add = |name: &'static str, value: &[u8]| {
        if let Ok(v) = HeaderValue::from_bytes(value) {
            headers.append(HeaderName::from_static(name), v);
        }
    };
    if let Some(h) = host {
        add("host", h.as_bytes());
    }
    for (name, value) in [
        ("range", range),
        ("x-amz-copy-source", copy_source),
        ("content-length", content_length),
    ] {
        if !value.is_empty() {
            add(name, value);
        }
    }
    match auth {
        Auth::AsGiven => {
            for (name, value) in [
                ("authorization", authorization),
                ("x-amz-date", amz_date),
                ("x-amz-content-sha256", content_sha),
            ] {
                if !value.is_empty() {
                    add(name, value);
                }
            }
        }
        Auth::Valid | Auth::WrongKey => {
            let actual = hex::encode(Sha256::digest(&body));
            let sha = if content_sha.is_empty() {
                actual.clone()
            } else {
                String::from_utf8_lossy(content_sha).into_owned()
            };
            payload_unverifiable = sha != actual && sha != "UNSIGNED-PAYLOAD";
            if HeaderValue::from_str(&sha).is_err() {
                return;
            }
            let secret = if auth == Auth::Valid {
                SECRET_KEY
            } else {
                WRONG_SECRET
            };
            let (authorization, date) = sign(&method, &uri, host, &sha, secret);
            add("x-amz-content-sha256", sha.as_bytes());
            add("x-amz-date", date.as_bytes());
            add("authorization", authorization.as_bytes());
        }
    }
    for line in extra.split(|&b| b == b'\r') {
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let (name, value) = line.split_at(colon);
        let value = value.get(1..).unwrap_or_default();
        let value = value.strip_prefix(b" ").unwrap_or(value);
        if let (Ok(n), Ok(v)) = (HeaderName::from_bytes(name), HeaderValue::from_bytes(value)) {
            // hyper owns the framing headers; a second one is refused there.
            if n != http::header::CONTENT_LENGTH && n != http::header::TRANSFER_ENCODING {
                headers.append(n, v);
            }
        }
    }

    let op = classify(
        &method,
        uri.path(),
        uri.query(),
        &headers,
        &["s3.cairn.test".to_owned()],
    );
    let body = if hung_up {
        s3s::Body::http_body(HungUp(Some(body.into())))
    } else {
        s3s::Body::from(body)
    };
    let mut req = Request::new(body);
    *req.method_mut() = method.clone();
    *req.uri_mut() = uri;
    *req.headers_mut() = headers;
    let mut resp = fx.call(req);
    let status = resp.status();
    if verbose() {
        let body = resp.body().bytes().unwrap_or_default();
        let text = String::from_utf8_lossy(body.get(..body.len().min(300)).unwrap_or_default())
            .into_owned();
        eprintln!("s3_request: {op} {auth:?} -> {status} {text}");
    }

    assert!(
        (100..=599).contains(&status.as_u16()),
        "{op}: invalid status {status}"
    );
    if auth != Auth::Valid {
        assert!(
            !status.is_success(),
            "{op}: a request without a valid signature ({auth:?}) got {status}"
        );
    } else if !hung_up && !payload_unverifiable {
        assert!(
            status != StatusCode::INTERNAL_SERVER_ERROR,
            "{op}: a signed request got 500: {}",
            String::from_utf8_lossy(resp.body().bytes().as_deref().unwrap_or_default())
        );
    }
    assert!(
        !fx.store.is_poisoned(),
        "{op}: the request poisoned the store"
    );
    if !status.is_success() || method != Method::GET {
        return;
    }
    let declared: Option<u64> = resp
        .headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    let etag = resp
        .headers()
        .get("etag")
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim_matches('"').to_owned());
    let content_range = resp
        .headers()
        .get("content-range")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = match fx
        .rt
        .block_on(resp.body_mut().store_all_limited(BODY_LIMIT))
    {
        Ok(b) => b,
        Err(e) => panic!("{op}: a {status} response body failed to stream: {e}"),
    };
    if let Some(len) = declared {
        assert_eq!(
            body.len() as u64,
            len,
            "{op}: body length differs from Content-Length"
        );
    }
    if etag.as_deref() == Some(fx.object_etag.as_str()) {
        let expected = match content_range.as_deref() {
            None => fx.object.as_slice(),
            Some(cr) => {
                let (start, end, total) = parse_content_range(cr)
                    .unwrap_or_else(|| panic!("{op}: unparsable Content-Range {cr:?}"));
                assert_eq!(total, fx.object.len() as u64, "{op}: Content-Range total");
                fx.object
                    .get(start as usize..=end as usize)
                    .unwrap_or_else(|| panic!("{op}: Content-Range {cr:?} outside the object"))
            }
        };
        assert!(
            body.as_ref() == expected,
            "{op}: body differs from the fixture object's bytes"
        );
    }
}

/// A request body whose client hung up: its bytes, then an error.
struct HungUp(Option<bytes::Bytes>);

impl http_body::Body for HungUp {
    type Data = bytes::Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<bytes::Bytes>, std::io::Error>>> {
        std::task::Poll::Ready(Some(match self.0.take() {
            Some(data) if !data.is_empty() => Ok(http_body::Frame::data(data)),
            _ => Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "client hung up mid-body",
            )),
        }))
    }
}

/// `CAIRN_FUZZ_VERBOSE=1` prints each request's operation and outcome.
fn verbose() -> bool {
    static VERBOSE: OnceLock<bool> = OnceLock::new();
    *VERBOSE.get_or_init(|| std::env::var_os("CAIRN_FUZZ_VERBOSE").is_some_and(|v| v != "0"))
}

/// `bytes a-b/total` → `(a, b, total)`.
fn parse_content_range(v: &str) -> Option<(u64, u64, u64)> {
    let (range, total) = v.strip_prefix("bytes ")?.split_once('/')?;
    let (a, b) = range.split_once('-')?;
    let (a, b, total) = (a.parse().ok()?, b.parse().ok()?, total.parse().ok()?);
    (a <= b).then_some((a, b, total))
}

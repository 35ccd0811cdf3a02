//! A minimal S3 client (SigV4, path-style, plain HTTP/1.1) for the CLI's
//! own use: the devnet round trip and health checks.
//!
//! Users bring their own S3 clients; this one only needs PUT, GET and
//! CreateBucket against a Cairn gateway, so it stays small instead of
//! pulling a full SDK into the CLI.

use anyhow::{Context, Result, bail};
use bytes::Bytes;
use hmac::{KeyInit, Mac};
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use sha2::{Digest, Sha256};
use tokio::net::TcpStream;

type HmacSha256 = hmac::Hmac<Sha256>;

/// Credentials and endpoint.
#[derive(Debug, Clone)]
pub struct S3Client {
    /// `host:port` of the gateway.
    pub endpoint: String,
    /// Access key id.
    pub access_key: String,
    /// Secret key.
    pub secret_key: String,
    /// Region name used in the signature scope.
    pub region: String,
}

/// A response: status, headers, body.
#[derive(Debug)]
pub struct S3Response {
    /// HTTP status.
    pub status: StatusCode,
    /// Response headers.
    pub headers: http::HeaderMap,
    /// The body, read whole (the CLI only fetches small objects this way).
    pub body: Bytes,
}

fn hmac(key: &[u8], data: &str) -> Vec<u8> {
    // HMAC accepts keys of any length.
    let mut mac = match HmacSha256::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => return Vec::new(),
    };
    mac.update(data.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

fn uri_encode(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for b in segment.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl S3Client {
    /// Sends a signed request for `/{bucket}[/{key}]`.
    pub async fn send(
        &self,
        method: Method,
        bucket: &str,
        key: Option<&str>,
        body: Bytes,
    ) -> Result<S3Response> {
        let mut path = format!("/{}", uri_encode(bucket));
        if let Some(key) = key {
            for segment in key.split('/') {
                path.push('/');
                path.push_str(&uri_encode(segment));
            }
        }
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
        let payload_hash = hex::encode(Sha256::digest(&body));
        let canonical = format!(
            "{method}\n{path}\n\nhost:{host}\nx-amz-content-sha256:{payload_hash}\nx-amz-date:{amz_date}\n\nhost;x-amz-content-sha256;x-amz-date\n{payload_hash}",
            host = self.endpoint
        );
        let scope = format!("{date}/{}/s3/aws4_request", self.region);
        let to_sign = format!(
            "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
            hex::encode(Sha256::digest(canonical.as_bytes()))
        );
        let mut key = hmac(format!("AWS4{}", self.secret_key).as_bytes(), &date);
        for part in [self.region.as_str(), "s3", "aws4_request"] {
            key = hmac(&key, part);
        }
        let signature = hex::encode(hmac(&key, &to_sign));
        let auth = format!(
            "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature={signature}",
            self.access_key
        );
        let request = Request::builder()
            .method(method)
            .uri(&path)
            .header("host", &self.endpoint)
            .header("x-amz-content-sha256", &payload_hash)
            .header("x-amz-date", &amz_date)
            .header("authorization", auth)
            .body(Full::new(body))
            .context("building the S3 request")?;
        let stream = TcpStream::connect(&self.endpoint)
            .await
            .with_context(|| format!("connecting to the S3 gateway at {}", self.endpoint))?;
        let (mut sender, conn) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
                .await
                .context("HTTP handshake with the S3 gateway")?;
        tokio::spawn(conn);
        let resp = sender
            .send_request(request)
            .await
            .context("sending the S3 request")?;
        let (parts, body) = resp.into_parts();
        let body = body
            .collect()
            .await
            .context("reading the S3 response")?
            .to_bytes();
        Ok(S3Response {
            status: parts.status,
            headers: parts.headers,
            body,
        })
    }

    /// Like [`S3Client::send`], failing unless the status is 2xx.
    pub async fn send_ok(
        &self,
        method: Method,
        bucket: &str,
        key: Option<&str>,
        body: Bytes,
    ) -> Result<S3Response> {
        let what = format!("{method} /{bucket}/{}", key.unwrap_or_default());
        let resp = self.send(method, bucket, key, body).await?;
        if !resp.status.is_success() {
            bail!(
                "{what} answered {}: {}",
                resp.status,
                String::from_utf8_lossy(&resp.body)
            );
        }
        Ok(resp)
    }
}

/// A plain HTTP GET of `path` on `endpoint` (`host:port`), body read whole.
pub async fn http_get(endpoint: &str, path: &str) -> Result<S3Response> {
    let request = Request::builder()
        .method(Method::GET)
        .uri(path)
        .header("host", endpoint)
        .body(Full::new(Bytes::new()))
        .context("building the HTTP request")?;
    let stream = TcpStream::connect(endpoint)
        .await
        .with_context(|| format!("connecting to {endpoint}"))?;
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .context("HTTP handshake")?;
    tokio::spawn(conn);
    let resp = sender
        .send_request(request)
        .await
        .context("sending the HTTP request")?;
    let (parts, body) = resp.into_parts();
    let body = body
        .collect()
        .await
        .context("reading the HTTP response")?
        .to_bytes();
    Ok(S3Response {
        status: parts.status,
        headers: parts.headers,
        body,
    })
}

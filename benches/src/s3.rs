//! A small S3 client for throughput runs: path-style, HTTP/1.1 keep-alive,
//! SigV4 header auth with `x-amz-content-sha256: UNSIGNED-PAYLOAD`.
//!
//! Unsigned payloads keep the client's cost per byte at zero (no SHA-256 of
//! the body on the client side), so what a run measures is the server.
//! Bodies go out as a stream of [`Bytes`] chunks and come back counted and
//! dropped: a 1 GiB object never sits in memory on either side of the
//! client. One [`Connection`] is one TCP connection; concurrency is the
//! caller's choice of how many to open.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures::Stream;
use futures::StreamExt;
use hmac::{KeyInit, Mac};
use http::{Method, Request, StatusCode};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::Frame;
use hyper::client::conn::http1::SendRequest;
use sha2::{Digest, Sha256};
use tokio::net::TcpStream;

type HmacSha256 = hmac::Hmac<Sha256>;

/// A request body: whole or streamed.
pub type Body = BoxBody<Bytes, Infallible>;

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The TCP connection could not be made.
    #[error("connecting to {addr}: {source}")]
    Connect {
        /// The server.
        addr: SocketAddr,
        /// The socket error.
        source: std::io::Error,
    },
    /// The HTTP exchange failed.
    #[error("HTTP {method} {path}: {source}")]
    Http {
        /// Request method.
        method: Method,
        /// Request path.
        path: String,
        /// hyper's error.
        source: hyper::Error,
    },
    /// The request could not be built.
    #[error("building {method} {path}: {source}")]
    Build {
        /// Request method.
        method: Method,
        /// Request path.
        path: String,
        /// The builder's error.
        source: http::Error,
    },
    /// The server answered with a non-2xx status.
    #[error("{method} {path} answered {status}: {body}")]
    Status {
        /// Request method.
        method: Method,
        /// Request path.
        path: String,
        /// The status.
        status: StatusCode,
        /// The start of the error body.
        body: String,
    },
}

/// Endpoint and credentials, shared by every connection.
#[derive(Debug)]
pub struct S3Client {
    addr: SocketAddr,
    host: String,
    access_key: String,
    secret_key: String,
    region: String,
    /// `(yyyymmdd, signing key)` of the last request's day.
    key_cache: Mutex<Option<(String, Vec<u8>)>>,
}

/// One keep-alive connection.
#[derive(Debug)]
pub struct Connection {
    client: Arc<S3Client>,
    sender: SendRequest<Body>,
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    // HMAC takes keys of any length, so this never fails.
    match HmacSha256::new_from_slice(key) {
        Ok(mut mac) => {
            mac.update(data);
            mac.finalize().into_bytes().to_vec()
        }
        Err(_) => Vec::new(),
    }
}

fn uri_encode_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The encoded request path of `bucket` or `bucket/key`.
fn object_path(bucket: &str, key: Option<&str>) -> String {
    uri_encode_path(&match key {
        Some(key) => format!("/{bucket}/{key}"),
        None => format!("/{bucket}"),
    })
}

/// A body of one in-memory buffer.
pub fn full(bytes: Bytes) -> Body {
    Full::new(bytes).boxed()
}

/// A body streamed from `chunks`, each sent as one frame as it is produced.
pub fn streamed(chunks: impl Stream<Item = Bytes> + Send + Sync + 'static) -> Body {
    BodyExt::boxed(StreamBody::new(
        chunks.map(|b| Ok::<_, Infallible>(Frame::data(b))),
    ))
}

impl S3Client {
    /// A client for the server at `addr`.
    pub fn new(
        addr: SocketAddr,
        access_key: &str,
        secret_key: &str,
        region: &str,
    ) -> Arc<S3Client> {
        Arc::new(S3Client {
            addr,
            host: addr.to_string(),
            access_key: access_key.to_owned(),
            secret_key: secret_key.to_owned(),
            region: region.to_owned(),
            key_cache: Mutex::new(None),
        })
    }

    /// Opens a connection (Nagle off, as every S3 SDK does).
    pub async fn connect(self: &Arc<S3Client>) -> Result<Connection, ClientError> {
        let connect_err = |source| ClientError::Connect {
            addr: self.addr,
            source,
        };
        let stream = TcpStream::connect(self.addr).await.map_err(connect_err)?;
        stream.set_nodelay(true).map_err(connect_err)?;
        let (sender, conn) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
                .await
                .map_err(|source| ClientError::Http {
                    method: Method::GET,
                    path: "(handshake)".into(),
                    source,
                })?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        Ok(Connection {
            client: self.clone(),
            sender,
        })
    }

    fn signing_key(&self, date: &str) -> Vec<u8> {
        let mut cache = match self.key_cache.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        if let Some((day, key)) = cache.as_ref()
            && day == date
        {
            return key.clone();
        }
        let mut key = hmac(
            format!("AWS4{}", self.secret_key).as_bytes(),
            date.as_bytes(),
        );
        for part in [self.region.as_str(), "s3", "aws4_request"] {
            key = hmac(&key, part.as_bytes());
        }
        *cache = Some((date.to_owned(), key.clone()));
        key
    }

    /// The `authorization`, `x-amz-date` pair for `method path` with an
    /// unsigned payload and no query.
    fn sign(&self, method: &Method, path: &str) -> (String, String) {
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
        let canonical = format!(
            "{method}\n{path}\n\nhost:{host}\nx-amz-content-sha256:UNSIGNED-PAYLOAD\nx-amz-date:{amz_date}\n\nhost;x-amz-content-sha256;x-amz-date\nUNSIGNED-PAYLOAD",
            host = self.host
        );
        let scope = format!("{date}/{}/s3/aws4_request", self.region);
        let to_sign = format!(
            "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
            hex::encode(Sha256::digest(canonical.as_bytes()))
        );
        let signature = hex::encode(hmac(&self.signing_key(&date), to_sign.as_bytes()));
        let auth = format!(
            "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature={signature}",
            self.access_key
        );
        (auth, amz_date)
    }
}

impl Connection {
    /// Sends `method /bucket[/key]` with `body` of `len` bytes and returns
    /// the response as it arrives (headers read, body not yet).
    pub async fn send(
        &mut self,
        method: Method,
        bucket: &str,
        key: Option<&str>,
        body: Body,
        len: u64,
    ) -> Result<http::Response<hyper::body::Incoming>, ClientError> {
        let path = object_path(bucket, key);
        let (auth, amz_date) = self.client.sign(&method, &path);
        let mut builder = Request::builder()
            .method(method.clone())
            .uri(&path)
            .header(http::header::HOST, &self.client.host)
            .header("x-amz-content-sha256", "UNSIGNED-PAYLOAD")
            .header("x-amz-date", amz_date)
            .header(http::header::AUTHORIZATION, auth);
        if method == Method::PUT || len > 0 {
            builder = builder.header(http::header::CONTENT_LENGTH, len);
        }
        let request = builder.body(body).map_err(|source| ClientError::Build {
            method: method.clone(),
            path: path.clone(),
            source,
        })?;
        let http_err = |source| ClientError::Http {
            method: method.clone(),
            path: path.clone(),
            source,
        };
        self.sender.ready().await.map_err(http_err)?;
        self.sender.send_request(request).await.map_err(http_err)
    }

    /// Sends `method /bucket[/key]` with `body` of `len` bytes; returns the
    /// status and the number of response body bytes, which are read and
    /// dropped. A non-2xx status is an error.
    pub async fn request(
        &mut self,
        method: Method,
        bucket: &str,
        key: Option<&str>,
        body: Body,
        len: u64,
    ) -> Result<u64, ClientError> {
        let path = object_path(bucket, key);
        let resp = self.send(method.clone(), bucket, key, body, len).await?;
        let http_err = |source| ClientError::Http {
            method: method.clone(),
            path: path.clone(),
            source,
        };
        let status = resp.status();
        let mut body = resp.into_body();
        let mut read = 0u64;
        let mut error_body = Vec::new();
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(http_err)?;
            if let Ok(data) = frame.into_data() {
                read += data.len() as u64;
                if !status.is_success() && error_body.len() < 1024 {
                    error_body.extend_from_slice(&data);
                }
            }
        }
        if !status.is_success() {
            return Err(ClientError::Status {
                method,
                path,
                status,
                body: String::from_utf8_lossy(&error_body).into_owned(),
            });
        }
        Ok(read)
    }

    /// CreateBucket.
    pub async fn create_bucket(&mut self, bucket: &str) -> Result<(), ClientError> {
        self.request(Method::PUT, bucket, None, full(Bytes::new()), 0)
            .await
            .map(drop)
    }

    /// PutObject of `len` bytes from `body`.
    pub async fn put(
        &mut self,
        bucket: &str,
        key: &str,
        body: Body,
        len: u64,
    ) -> Result<(), ClientError> {
        self.request(Method::PUT, bucket, Some(key), body, len)
            .await
            .map(drop)
    }

    /// GetObject; returns the bytes read.
    pub async fn get(&mut self, bucket: &str, key: &str) -> Result<u64, ClientError> {
        self.request(Method::GET, bucket, Some(key), full(Bytes::new()), 0)
            .await
    }
}

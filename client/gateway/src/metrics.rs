//! Prometheus metrics for the gateway, served on their own address.
//!
//! Requests, bytes, latencies and errors by S3 operation. The operation is
//! classified from the request line (method, path depth, query and a few
//! headers), the same way S3 routes, so the counters exist even for
//! requests that fail authentication before reaching a handler.

use prometheus::{HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry};

/// The gateway's metric families.
#[derive(Clone, Debug)]
pub struct GatewayMetrics {
    registry: Registry,
    /// Requests by operation and HTTP status.
    pub requests: IntCounterVec,
    /// Error responses by operation and S3 error code.
    pub errors: IntCounterVec,
    /// Request body bytes by operation.
    pub bytes_in: IntCounterVec,
    /// Response body bytes by operation.
    pub bytes_out: IntCounterVec,
    /// Time to response headers, by operation.
    pub latency: HistogramVec,
}

impl GatewayMetrics {
    /// Registers the families in a fresh registry.
    pub fn new() -> Result<GatewayMetrics, prometheus::Error> {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new(
                "cairn_gateway_requests_total",
                "S3 requests by operation and status",
            ),
            &["op", "status"],
        )?;
        let errors = IntCounterVec::new(
            Opts::new(
                "cairn_gateway_errors_total",
                "S3 error responses by operation and code",
            ),
            &["op", "code"],
        )?;
        let bytes_in = IntCounterVec::new(
            Opts::new(
                "cairn_gateway_received_bytes_total",
                "request body bytes by operation",
            ),
            &["op"],
        )?;
        let bytes_out = IntCounterVec::new(
            Opts::new(
                "cairn_gateway_sent_bytes_total",
                "response body bytes by operation",
            ),
            &["op"],
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "cairn_gateway_request_duration_seconds",
                "time to response headers by operation",
            )
            .buckets(prometheus::exponential_buckets(0.0005, 2.0, 16)?),
            &["op"],
        )?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(errors.clone()))?;
        registry.register(Box::new(bytes_in.clone()))?;
        registry.register(Box::new(bytes_out.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        Ok(GatewayMetrics {
            registry,
            requests,
            errors,
            bytes_in,
            bytes_out,
            latency,
        })
    }

    /// The text exposition of every family.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if let Err(e) =
            prometheus::TextEncoder::new().encode_utf8(&self.registry.gather(), &mut out)
        {
            tracing::warn!(error = %e, "encoding metrics failed");
        }
        out
    }
}

/// Whether `Host` names a bucket under one of the virtual-host `domains`.
fn virtual_host_bucket(headers: &http::HeaderMap, domains: &[String]) -> bool {
    let Some(host) = headers
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
    else {
        return false;
    };
    let host = host
        .rsplit_once(':')
        .filter(|(_, port)| port.bytes().all(|b| b.is_ascii_digit()))
        .map_or(host, |(name, _)| name);
    domains.iter().any(|d| {
        host.strip_suffix(d.as_str())
            .and_then(|rest| rest.strip_suffix('.'))
            .is_some_and(|bucket| !bucket.is_empty())
    })
}

/// The S3 operation a request names, path-style or (with `domains`)
/// virtual-host style.
pub fn classify(
    method: &http::Method,
    path: &str,
    query: Option<&str>,
    headers: &http::HeaderMap,
    domains: &[String],
) -> &'static str {
    let has = |name: &str| {
        query.is_some_and(|q| q.split('&').any(|kv| kv.split('=').next() == Some(name)))
    };
    let trimmed = path.trim_start_matches('/');
    let (bucket, key) = if virtual_host_bucket(headers, domains) {
        ("(host)", (!trimmed.is_empty()).then_some(trimmed))
    } else {
        match trimmed.split_once('/') {
            Some((b, k)) if !k.is_empty() => (b, Some(k)),
            Some((b, _)) => (b, None),
            None => (trimmed, None),
        }
    };
    let copy = headers.contains_key("x-amz-copy-source");
    match (method.as_str(), bucket.is_empty(), key.is_some()) {
        ("GET", true, _) => "ListBuckets",
        ("PUT", false, false) => "CreateBucket",
        ("DELETE", false, false) => "DeleteBucket",
        ("HEAD", false, false) => "HeadBucket",
        ("GET", false, false) if has("uploads") => "ListMultipartUploads",
        ("GET", false, false) if has("location") => "GetBucketLocation",
        ("GET", false, false) if has("list-type") => "ListObjectsV2",
        ("GET", false, false) => "ListObjects",
        ("POST", false, false) if has("delete") => "DeleteObjects",
        ("PUT", false, true) if has("uploadId") && copy => "UploadPartCopy",
        ("PUT", false, true) if has("uploadId") => "UploadPart",
        ("PUT", false, true) if copy => "CopyObject",
        ("PUT", false, true) => "PutObject",
        ("POST", false, true) if has("uploads") => "CreateMultipartUpload",
        ("POST", false, true) if has("uploadId") => "CompleteMultipartUpload",
        ("DELETE", false, true) if has("uploadId") => "AbortMultipartUpload",
        ("DELETE", false, true) => "DeleteObject",
        ("GET", false, true) if has("uploadId") => "ListParts",
        ("GET", false, true) => "GetObject",
        ("HEAD", false, true) => "HeadObject",
        _ => "Other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_operations() {
        let h = http::HeaderMap::new();
        let get = http::Method::GET;
        assert_eq!(classify(&get, "/", None, &h, &[]), "ListBuckets");
        assert_eq!(
            classify(&get, "/b", Some("list-type=2&prefix=a"), &h, &[]),
            "ListObjectsV2"
        );
        assert_eq!(classify(&get, "/b/k/x", None, &h, &[]), "GetObject");
        assert_eq!(
            classify(
                &http::Method::PUT,
                "/b/k",
                Some("partNumber=1&uploadId=x"),
                &h,
                &[]
            ),
            "UploadPart"
        );
        let mut copy = http::HeaderMap::new();
        copy.insert("x-amz-copy-source", http::HeaderValue::from_static("/a/b"));
        assert_eq!(
            classify(&http::Method::PUT, "/b/k", None, &copy, &[]),
            "CopyObject"
        );
    }

    #[test]
    fn classifies_virtual_host_requests() {
        let domains = ["s3.localhost".to_owned()];
        let mut h = http::HeaderMap::new();
        h.insert(
            http::header::HOST,
            http::HeaderValue::from_static("photos.s3.localhost:9000"),
        );
        let get = http::Method::GET;
        assert_eq!(classify(&get, "/cat.jpg", None, &h, &domains), "GetObject");
        assert_eq!(
            classify(&get, "/", Some("list-type=2"), &h, &domains),
            "ListObjectsV2"
        );
        assert_eq!(
            classify(&http::Method::PUT, "/", None, &h, &domains),
            "CreateBucket"
        );
        // The bare domain is path-style.
        h.insert(
            http::header::HOST,
            http::HeaderValue::from_static("s3.localhost:9000"),
        );
        assert_eq!(classify(&get, "/photos", None, &h, &domains), "ListObjects");
    }
}

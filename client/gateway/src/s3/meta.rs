//! S3 object metadata: checksums, conditional requests, header fields.
//!
//! Small pure helpers shared by the object and multipart handlers, kept
//! apart so the handlers read as the S3 rules they implement.

use cairn_dag::Profile;
use cairn_store::ObjectRecord;
use cid::Cid;
use http::{HeaderName, HeaderValue};
use s3s::TrailingHeaders;
use s3s::checksum::ChecksumHasher;
use s3s::dto::{
    Checksum, ChecksumAlgorithm, ChecksumMode, ETag, ETagCondition, GetObjectOutput, Metadata,
    Timestamp, TimestampFormat,
};
use s3s::{S3Error, S3ErrorCode, S3Response};

use super::error::s3_err;

/// The response header that carries an object's root CID.
pub const CID_HEADER: &str = "x-cairn-cid";

/// Names of the checksum algorithms, as S3 spells them.
const ALGORITHMS: [&str; 5] = ["CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256"];

/// Adds the `x-cairn-cid` header.
pub(crate) fn with_cid<T>(mut resp: S3Response<T>, cid: &Cid) -> S3Response<T> {
    if let Ok(v) = HeaderValue::from_str(&cid.to_string()) {
        resp.headers.insert(HeaderName::from_static(CID_HEADER), v);
    }
    resp
}

/// Refuses keys the store cannot hold, before any body is read.
pub(crate) fn validate_key(key: &str) -> Result<(), S3Error> {
    if key.is_empty() || key.contains('\0') || key.len() > 1024 {
        return Err(s3_err(
            S3ErrorCode::InvalidArgument,
            "object keys must be 1 to 1024 bytes of UTF-8 without NUL",
        ));
    }
    Ok(())
}

/// A bucket's stored profile name, parsed.
pub(crate) fn profile_of(name: &str) -> Result<Profile, S3Error> {
    name.parse::<Profile>().map_err(|e| {
        s3_err(
            S3ErrorCode::InternalError,
            format!("bucket has an unusable profile: {e}"),
        )
    })
}

/// Milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

/// A store time as an S3 timestamp.
pub(crate) fn timestamp(ms: i64) -> Timestamp {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    Timestamp::from(t)
}

fn whole_seconds(t: &Timestamp) -> i64 {
    let mut buf = Vec::new();
    if t.format(TimestampFormat::EpochSeconds, &mut buf).is_err() {
        return 0;
    }
    std::str::from_utf8(&buf)
        .ok()
        .and_then(|s| s.split('.').next().and_then(|s| s.parse().ok()))
        .unwrap_or(0)
}

/// An HTTP-date string for a timestamp.
pub(crate) fn http_date(t: &Timestamp) -> Option<String> {
    let mut buf = Vec::new();
    t.format(TimestampFormat::HttpDate, &mut buf).ok()?;
    String::from_utf8(buf).ok()
}

/// The object's Content-Encoding without the transfer-only `aws-chunked`
/// token that SDKs add to streaming uploads.
pub(crate) fn stored_content_encoding(header: Option<String>) -> Option<String> {
    let header = header?;
    let kept: Vec<&str> = header
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty() && !t.eq_ignore_ascii_case("aws-chunked"))
        .collect();
    (!kept.is_empty()).then(|| kept.join(","))
}

/// S3's content type for objects stored without one.
pub(crate) const DEFAULT_CONTENT_TYPE: &str = "binary/octet-stream";

/// User metadata in a stable order.
pub(crate) fn sorted_metadata(m: Option<Metadata>) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = m.unwrap_or_default().into_iter().collect();
    v.sort();
    v
}

/// The checksums the client declared for an upload, by algorithm.
#[derive(Debug, Default, Clone)]
pub(crate) struct Wanted {
    pub crc32: Option<String>,
    pub crc32c: Option<String>,
    pub crc64nvme: Option<String>,
    pub sha1: Option<String>,
    pub sha256: Option<String>,
    /// Algorithms that will arrive in a trailer.
    pub trailer: Vec<String>,
}

impl Wanted {
    pub(crate) fn new(
        crc32: Option<String>,
        crc32c: Option<String>,
        crc64nvme: Option<String>,
        sha1: Option<String>,
        sha256: Option<String>,
        headers: &http::HeaderMap,
    ) -> Wanted {
        let trailer = headers
            .get_all("x-amz-trailer")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|name| {
                name.trim()
                    .to_ascii_lowercase()
                    .strip_prefix("x-amz-checksum-")
                    .map(str::to_ascii_uppercase)
            })
            .collect();
        Wanted {
            crc32,
            crc32c,
            crc64nvme,
            sha1,
            sha256,
            trailer,
        }
    }

    fn slot(&mut self, alg: &str) -> Option<&mut Option<String>> {
        Some(match alg {
            "CRC32" => &mut self.crc32,
            "CRC32C" => &mut self.crc32c,
            "CRC64NVME" => &mut self.crc64nvme,
            "SHA1" => &mut self.sha1,
            "SHA256" => &mut self.sha256,
            _ => return None,
        })
    }

    /// Fills in values that arrived in an aws-chunked trailer.
    pub(crate) fn with_trailers(
        mut self,
        trailers: Option<TrailingHeaders>,
    ) -> Result<Wanted, S3Error> {
        let Some(map) = trailers.and_then(|t| t.take()) else {
            if let Some(alg) = self.trailer.first() {
                return Err(s3_err(
                    S3ErrorCode::InvalidRequest,
                    format!(
                        "x-amz-trailer announced x-amz-checksum-{} but no trailer arrived",
                        alg.to_ascii_lowercase()
                    ),
                ));
            }
            return Ok(self);
        };
        for alg in ALGORITHMS {
            let name = format!("x-amz-checksum-{}", alg.to_ascii_lowercase());
            if let Some(v) = map.get(name.as_str()) {
                let v = v.to_str().map_err(|_| {
                    s3_err(
                        S3ErrorCode::InvalidArgument,
                        format!("{name} trailer is not text"),
                    )
                })?;
                if let Some(slot) = self.slot(alg) {
                    *slot = Some(v.to_owned());
                }
            }
        }
        Ok(self)
    }
}

/// A hasher computing every checksum that was declared, named as the
/// checksum algorithm, or announced for the trailer.
pub(crate) fn checksum_hasher(
    wanted: &Wanted,
    algorithm: Option<&ChecksumAlgorithm>,
) -> Result<ChecksumHasher, S3Error> {
    let mut h = ChecksumHasher::default();
    let mut enable = |alg: &str| -> Result<(), S3Error> {
        match alg {
            "CRC32" => h.crc32 = Some(Default::default()),
            "CRC32C" => h.crc32c = Some(Default::default()),
            "CRC64NVME" => h.crc64nvme = Some(Default::default()),
            "SHA1" => h.sha1 = Some(Default::default()),
            "SHA256" => h.sha256 = Some(Default::default()),
            other => {
                return Err(s3_err(
                    S3ErrorCode::InvalidRequest,
                    format!("unsupported checksum algorithm {other}"),
                ));
            }
        }
        Ok(())
    };
    if wanted.crc32.is_some() {
        enable("CRC32")?;
    }
    if wanted.crc32c.is_some() {
        enable("CRC32C")?;
    }
    if wanted.crc64nvme.is_some() {
        enable("CRC64NVME")?;
    }
    if wanted.sha1.is_some() {
        enable("SHA1")?;
    }
    if wanted.sha256.is_some() {
        enable("SHA256")?;
    }
    for alg in &wanted.trailer {
        enable(alg)?;
    }
    if let Some(alg) = algorithm {
        enable(&alg.as_str().to_ascii_uppercase())?;
    }
    Ok(h)
}

/// Checks Content-MD5 and every declared checksum against what was computed.
pub(crate) fn verify_checksums(
    wanted: &Wanted,
    content_md5: Option<&str>,
    md5_hex: &str,
    got: &Checksum,
) -> Result<(), S3Error> {
    use base64::Engine as _;
    if let Some(b64) = content_md5 {
        let declared = base64::engine::general_purpose::STANDARD
            .decode(b64.trim())
            .map_err(|_| {
                s3_err(
                    S3ErrorCode::InvalidDigest,
                    "Content-MD5 is not valid base64",
                )
            })?;
        if declared.len() != 16 {
            return Err(s3_err(
                S3ErrorCode::InvalidDigest,
                "Content-MD5 is not 16 bytes",
            ));
        }
        if hex::encode(declared) != md5_hex {
            return Err(s3_err(
                S3ErrorCode::BadDigest,
                "The Content-MD5 you specified did not match what we received.",
            ));
        }
    }
    let pairs = [
        ("CRC32", &wanted.crc32, &got.checksum_crc32),
        ("CRC32C", &wanted.crc32c, &got.checksum_crc32c),
        ("CRC64NVME", &wanted.crc64nvme, &got.checksum_crc64nvme),
        ("SHA1", &wanted.sha1, &got.checksum_sha1),
        ("SHA256", &wanted.sha256, &got.checksum_sha256),
    ];
    for (alg, declared, computed) in pairs {
        if let Some(declared) = declared
            && computed.as_deref() != Some(declared.as_str())
        {
            return Err(s3_err(
                S3ErrorCode::BadDigest,
                format!("The {alg} you specified did not match the calculated checksum."),
            ));
        }
    }
    Ok(())
}

/// Checksums to keep with the object, as (algorithm, base64) pairs.
pub(crate) fn checksum_pairs(c: &Checksum) -> Vec<(String, String)> {
    [
        ("CRC32", &c.checksum_crc32),
        ("CRC32C", &c.checksum_crc32c),
        ("CRC64NVME", &c.checksum_crc64nvme),
        ("SHA1", &c.checksum_sha1),
        ("SHA256", &c.checksum_sha256),
    ]
    .into_iter()
    .filter_map(|(alg, v)| v.clone().map(|v| (alg.to_owned(), v)))
    .collect()
}

/// Whether the request asked for stored checksums.
pub(crate) fn wants_checksums(mode: Option<&ChecksumMode>) -> bool {
    mode.is_some_and(|m| m.as_str().eq_ignore_ascii_case("enabled"))
}

fn etag_matches(cond: &ETagCondition, etag: &str) -> bool {
    match cond {
        ETagCondition::Any => true,
        ETagCondition::ETag(tag) => tag.value() == etag,
    }
}

/// RFC 9110 / S3 evaluation of GET and HEAD preconditions.
pub(crate) fn check_read_conditions(
    rec: &ObjectRecord,
    if_match: Option<&ETagCondition>,
    if_none_match: Option<&ETagCondition>,
    if_modified_since: Option<&Timestamp>,
    if_unmodified_since: Option<&Timestamp>,
) -> Result<(), S3Error> {
    let modified = rec.last_modified.div_euclid(1000);
    match (if_match, if_unmodified_since) {
        (Some(cond), _) if !etag_matches(cond, &rec.etag) => {
            return Err(s3_err(
                S3ErrorCode::PreconditionFailed,
                "At least one of the pre-conditions you specified did not hold",
            ));
        }
        (None, Some(since)) if modified > whole_seconds(since) => {
            return Err(s3_err(
                S3ErrorCode::PreconditionFailed,
                "At least one of the pre-conditions you specified did not hold",
            ));
        }
        _ => {}
    }
    match (if_none_match, if_modified_since) {
        (Some(cond), _) if etag_matches(cond, &rec.etag) => Err(not_modified()),
        (None, Some(since)) if modified <= whole_seconds(since) => Err(not_modified()),
        _ => Ok(()),
    }
}

fn not_modified() -> S3Error {
    let mut e = S3Error::new(S3ErrorCode::NotModified);
    e.set_status_code(http::StatusCode::NOT_MODIFIED);
    e
}

/// CopyObject's `x-amz-copy-source-if-*` preconditions (all fail with 412).
pub(crate) fn check_copy_conditions(
    rec: &ObjectRecord,
    if_match: Option<&ETagCondition>,
    if_none_match: Option<&ETagCondition>,
    if_modified_since: Option<&Timestamp>,
    if_unmodified_since: Option<&Timestamp>,
) -> Result<(), S3Error> {
    check_read_conditions(
        rec,
        if_match,
        if_none_match,
        if_modified_since,
        if_unmodified_since,
    )
    .map_err(|e| {
        if *e.code() == S3ErrorCode::NotModified {
            s3_err(
                S3ErrorCode::PreconditionFailed,
                "At least one of the pre-conditions you specified did not hold",
            )
        } else {
            e
        }
    })
}

/// Fills the metadata fields of a GET (or HEAD) answer from a record.
pub(crate) fn fill_get_output(out: &mut GetObjectOutput, rec: &ObjectRecord, checksums: bool) {
    out.e_tag = Some(ETag::Strong(rec.etag.clone()));
    out.last_modified = Some(timestamp(rec.last_modified));
    out.content_type = rec
        .content_type
        .as_deref()
        .unwrap_or(DEFAULT_CONTENT_TYPE)
        .parse()
        .ok();
    out.content_encoding = rec.content_encoding.clone();
    out.content_disposition = rec.content_disposition.clone();
    out.content_language = rec.content_language.clone();
    out.cache_control = rec.cache_control.clone();
    out.expires = rec
        .expires
        .as_deref()
        .and_then(|e| Timestamp::parse(TimestampFormat::HttpDate, e).ok());
    if !rec.user_metadata.is_empty() {
        out.metadata = Some(rec.user_metadata.iter().cloned().collect());
    }
    out.parts_count = rec.parts.map(|p| p as i32);
    if checksums {
        let c = checksum_from_pairs(&rec.checksums);
        out.checksum_crc32 = c.checksum_crc32;
        out.checksum_crc32c = c.checksum_crc32c;
        out.checksum_crc64nvme = c.checksum_crc64nvme;
        out.checksum_sha1 = c.checksum_sha1;
        out.checksum_sha256 = c.checksum_sha256;
    }
}

/// Stored (algorithm, base64) pairs back into S3's checksum fields.
pub(crate) fn checksum_from_pairs(pairs: &[(String, String)]) -> Checksum {
    let mut c = Checksum::default();
    for (alg, v) in pairs {
        let v = Some(v.clone());
        match alg.as_str() {
            "CRC32" => c.checksum_crc32 = v,
            "CRC32C" => c.checksum_crc32c = v,
            "CRC64NVME" => c.checksum_crc64nvme = v,
            "SHA1" => c.checksum_sha1 = v,
            "SHA256" => c.checksum_sha256 = v,
            _ => {}
        }
    }
    c
}

/// Applies GET's `response-*` query overrides.
#[allow(clippy::too_many_arguments)]
pub(crate) fn apply_response_overrides(
    out: &mut GetObjectOutput,
    content_type: Option<String>,
    content_disposition: Option<String>,
    content_encoding: Option<String>,
    content_language: Option<String>,
    cache_control: Option<String>,
    expires: Option<Timestamp>,
) {
    if let Some(v) = content_type.and_then(|c| c.parse().ok()) {
        out.content_type = Some(v);
    }
    if content_disposition.is_some() {
        out.content_disposition = content_disposition;
    }
    if content_encoding.is_some() {
        out.content_encoding = content_encoding;
    }
    if content_language.is_some() {
        out.content_language = content_language;
    }
    if cache_control.is_some() {
        out.cache_control = cache_control;
    }
    if expires.is_some() {
        out.expires = expires;
    }
}

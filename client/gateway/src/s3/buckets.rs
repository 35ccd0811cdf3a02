//! Bucket operations and object listings (ListObjects v1 and v2).

use base64::Engine as _;
use cairn_store::{ListPage, ListQuery, ObjectRecord};
use s3s::dto::*;
use s3s::{S3ErrorCode, S3Request, S3Response, S3Result};

use super::CairnS3;
use super::error::s3_err;
use super::meta::{now_ms, timestamp};

/// S3's cap on keys per listing page.
const MAX_KEYS: i32 = 1000;

impl CairnS3 {
    pub(crate) async fn handle_create_bucket(
        &self,
        req: S3Request<CreateBucketInput>,
    ) -> S3Result<S3Response<CreateBucketOutput>> {
        let name = req.input.bucket;
        validate_bucket_name(&name)?;
        let profile = self.profile_for_new_bucket(&name);
        let owned = name.clone();
        self.blocking(move |s| s.create_bucket(&owned, profile.name(), now_ms()))
            .await?;
        Ok(S3Response::new(CreateBucketOutput {
            location: Some(format!("/{name}")),
        }))
    }

    pub(crate) async fn handle_delete_bucket(
        &self,
        req: S3Request<DeleteBucketInput>,
    ) -> S3Result<S3Response<DeleteBucketOutput>> {
        let name = req.input.bucket;
        self.blocking(move |s| s.delete_bucket(&name)).await?;
        Ok(S3Response::new(DeleteBucketOutput::default()))
    }

    pub(crate) async fn handle_head_bucket(
        &self,
        req: S3Request<HeadBucketInput>,
    ) -> S3Result<S3Response<HeadBucketOutput>> {
        self.bucket(&req.input.bucket).await?;
        Ok(S3Response::new(HeadBucketOutput::default()))
    }

    pub(crate) async fn handle_list_buckets(
        &self,
        _req: S3Request<ListBucketsInput>,
    ) -> S3Result<S3Response<ListBucketsOutput>> {
        let buckets = self.blocking(|s| s.list_buckets()).await?;
        let buckets = buckets
            .into_iter()
            .map(|b| Bucket {
                name: Some(b.name),
                creation_date: Some(timestamp(b.created)),
                bucket_region: None,
            })
            .collect();
        Ok(S3Response::new(ListBucketsOutput {
            buckets: Some(buckets),
            owner: Some(owner()),
            ..Default::default()
        }))
    }

    async fn list_page(
        &self,
        bucket: &str,
        prefix: Option<&str>,
        delimiter: Option<&str>,
        start_after: Option<String>,
        max_keys: Option<i32>,
    ) -> S3Result<(ListPage, i32)> {
        let max_keys = max_keys.unwrap_or(MAX_KEYS).clamp(0, MAX_KEYS);
        if max_keys == 0 {
            self.bucket(bucket).await?;
            return Ok((ListPage::default(), 0));
        }
        let query = ListQuery {
            prefix: prefix.unwrap_or_default().to_owned(),
            delimiter: delimiter.filter(|d| !d.is_empty()).map(str::to_owned),
            start_after,
            max_keys: max_keys as usize,
        };
        let b = bucket.to_owned();
        let page = self.blocking(move |s| s.list_objects(&b, &query)).await?;
        Ok((page, max_keys))
    }

    pub(crate) async fn handle_list_objects(
        &self,
        req: S3Request<ListObjectsInput>,
    ) -> S3Result<S3Response<ListObjectsOutput>> {
        let input = req.input;
        let url = wants_url(input.encoding_type.as_ref())?;
        let (page, max_keys) = self
            .list_page(
                &input.bucket,
                input.prefix.as_deref(),
                input.delimiter.as_deref(),
                input.marker.clone(),
                input.max_keys,
            )
            .await?;
        let next_marker = page
            .next_start_after
            .clone()
            .filter(|_| page.is_truncated)
            .map(|m| enc(url, m));
        let output = ListObjectsOutput {
            name: Some(input.bucket),
            prefix: Some(enc(url, input.prefix.unwrap_or_default())),
            marker: Some(enc(url, input.marker.unwrap_or_default())),
            delimiter: input.delimiter.map(|d| enc(url, d)),
            max_keys: Some(max_keys),
            is_truncated: Some(page.is_truncated),
            next_marker,
            encoding_type: input.encoding_type,
            contents: Some(contents(&page, url)),
            common_prefixes: Some(prefixes(&page, url)),
            ..Default::default()
        };
        Ok(S3Response::new(output))
    }

    pub(crate) async fn handle_list_objects_v2(
        &self,
        req: S3Request<ListObjectsV2Input>,
    ) -> S3Result<S3Response<ListObjectsV2Output>> {
        let input = req.input;
        let url = wants_url(input.encoding_type.as_ref())?;
        let after = match input.continuation_token.as_deref() {
            Some(token) => Some(decode_token(token)?),
            None => input.start_after.clone(),
        };
        let (page, max_keys) = self
            .list_page(
                &input.bucket,
                input.prefix.as_deref(),
                input.delimiter.as_deref(),
                after,
                input.max_keys,
            )
            .await?;
        let next = page
            .next_start_after
            .clone()
            .filter(|_| page.is_truncated)
            .map(|k| encode_token(&k));
        let contents = contents(&page, url);
        let common = prefixes(&page, url);
        let output = ListObjectsV2Output {
            name: Some(input.bucket),
            prefix: Some(enc(url, input.prefix.unwrap_or_default())),
            delimiter: input.delimiter.map(|d| enc(url, d)),
            max_keys: Some(max_keys),
            key_count: Some((contents.len() + common.len()) as i32),
            is_truncated: Some(page.is_truncated),
            continuation_token: input.continuation_token,
            next_continuation_token: next,
            start_after: input.start_after.map(|s| enc(url, s)),
            encoding_type: input.encoding_type,
            contents: Some(contents),
            common_prefixes: Some(common),
            ..Default::default()
        };
        Ok(S3Response::new(output))
    }
}

fn owner() -> Owner {
    Owner {
        display_name: Some("cairn".into()),
        id: Some("cairn".into()),
    }
}

fn object_entry(key: &str, rec: &ObjectRecord, url: bool) -> Object {
    Object {
        key: Some(enc(url, key.to_owned())),
        e_tag: Some(ETag::Strong(rec.etag.clone())),
        last_modified: Some(timestamp(rec.last_modified)),
        size: Some(rec.size as i64),
        storage_class: Some(ObjectStorageClass::from_static(
            ObjectStorageClass::STANDARD,
        )),
        owner: Some(owner()),
        ..Default::default()
    }
}

fn contents(page: &ListPage, url: bool) -> Vec<Object> {
    page.entries
        .iter()
        .map(|(k, r)| object_entry(k, r, url))
        .collect()
}

fn prefixes(page: &ListPage, url: bool) -> Vec<CommonPrefix> {
    page.common_prefixes
        .iter()
        .map(|p| CommonPrefix {
            prefix: Some(enc(url, p.clone())),
        })
        .collect()
}

fn wants_url(encoding: Option<&EncodingType>) -> S3Result<bool> {
    match encoding.map(EncodingType::as_str) {
        None => Ok(false),
        Some(e) if e.eq_ignore_ascii_case(EncodingType::URL) => Ok(true),
        Some(other) => Err(s3_err(
            S3ErrorCode::InvalidArgument,
            format!("Invalid Encoding Method specified in Request: {other}"),
        )),
    }
}

/// Percent-encodes a listing value as S3 does for `encoding-type=url`.
fn enc(url: bool, value: String) -> String {
    if !url {
        return value;
    }
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn encode_token(key: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key.as_bytes())
}

fn decode_token(token: &str) -> S3Result<String> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| {
            s3_err(
                S3ErrorCode::InvalidArgument,
                "The continuation token provided is incorrect",
            )
        })
}

/// S3's bucket naming rules (the subset that matters for addressing).
pub fn validate_bucket_name(name: &str) -> S3Result<()> {
    let ok = (3..=63).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
        && name
            .as_bytes()
            .first()
            .is_some_and(|b| b.is_ascii_alphanumeric())
        && name
            .as_bytes()
            .last()
            .is_some_and(|b| b.is_ascii_alphanumeric())
        && !name.contains("..")
        && name.parse::<std::net::Ipv4Addr>().is_err();
    if ok {
        Ok(())
    } else {
        Err(s3_err(
            S3ErrorCode::InvalidBucketName,
            format!("The specified bucket is not valid: {name}"),
        ))
    }
}

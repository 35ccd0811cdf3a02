//! Multipart uploads: create, upload part (and part copy), complete, abort,
//! and their listings.
//!
//! Parts are kept as files until completion; completing streams them, in
//! order, through the bucket's DAG builder, so the object's CID is that of
//! its whole bytes whatever the part sizes. A repeated complete of the same
//! upload returns the first result.

use std::io::{Read, Write};

use base64::Engine as _;
use bytes::Bytes;
use cairn_dag::reader::FileReader;
use cairn_store::{MultipartMeta, ObjectRecord, PartRecord, StoreError, UploadId};
use futures::StreamExt;
use md5::{Digest, Md5};
use s3s::checksum::ChecksumHasher;
use s3s::dto::*;
use s3s::{S3ErrorCode, S3Request, S3Response, S3Result};
use tokio::sync::mpsc;

use super::CairnS3;
use super::error::{dag_error, join_error, s3_err, store_error};
use super::ingest::{IngestError, ingest_blocking};
use super::meta::{self, Wanted, checksum_hasher, verify_checksums};
use super::read::LeasedSource;

/// S3's minimum size for every part but the last.
const MIN_PART_SIZE: u64 = 5 << 20;
/// S3's limit on part numbers.
const MAX_PART_NUMBER: i32 = 10_000;

fn upload_id(s: &str) -> S3Result<UploadId> {
    UploadId::parse(s).map_err(|_| {
        s3_err(
            S3ErrorCode::NoSuchUpload,
            "The specified upload does not exist.",
        )
    })
}

fn part_number(n: i32) -> S3Result<u32> {
    if (1..=MAX_PART_NUMBER).contains(&n) {
        Ok(n as u32)
    } else {
        Err(s3_err(
            S3ErrorCode::InvalidArgument,
            "Part number must be an integer between 1 and 10000, inclusive",
        ))
    }
}

fn part_checksums(c: &Checksum, out: &mut Part) {
    out.checksum_crc32 = c.checksum_crc32.clone();
    out.checksum_crc32c = c.checksum_crc32c.clone();
    out.checksum_crc64nvme = c.checksum_crc64nvme.clone();
    out.checksum_sha1 = c.checksum_sha1.clone();
    out.checksum_sha256 = c.checksum_sha256.clone();
}

impl CairnS3 {
    async fn require_upload(
        &self,
        id: &UploadId,
        bucket: &str,
        key: &str,
    ) -> S3Result<cairn_store::MultipartUpload> {
        let owned = id.clone();
        let mp = self.blocking(move |s| s.get_multipart(&owned)).await?;
        if mp.bucket != bucket || mp.key != key {
            return Err(s3_err(
                S3ErrorCode::NoSuchUpload,
                "The specified upload does not exist.",
            ));
        }
        Ok(mp)
    }

    pub(crate) async fn handle_create_multipart_upload(
        &self,
        req: S3Request<CreateMultipartUploadInput>,
    ) -> S3Result<S3Response<CreateMultipartUploadOutput>> {
        let input = req.input;
        meta::validate_key(&input.key)?;
        self.bucket(&input.bucket).await?;
        let algorithm = input.checksum_algorithm.clone();
        let meta = MultipartMeta {
            content_type: input.content_type.map(|c| c.to_string()),
            user_metadata: meta::sorted_metadata(input.metadata),
            content_encoding: meta::stored_content_encoding(input.content_encoding),
            content_disposition: input.content_disposition,
            content_language: input.content_language,
            cache_control: input.cache_control,
            expires: input.expires.as_ref().and_then(meta::http_date),
            checksum_algorithm: algorithm.as_ref().map(|a| a.as_str().to_ascii_uppercase()),
        };
        let (bucket, key) = (input.bucket.clone(), input.key.clone());
        let id = self
            .blocking(move |s| s.create_multipart(&bucket, &key, meta, meta::now_ms()))
            .await?;
        Ok(S3Response::new(CreateMultipartUploadOutput {
            bucket: Some(input.bucket),
            key: Some(input.key),
            upload_id: Some(id.as_str().to_owned()),
            checksum_algorithm: algorithm,
            ..Default::default()
        }))
    }

    pub(crate) async fn handle_upload_part(
        &self,
        req: S3Request<UploadPartInput>,
    ) -> S3Result<S3Response<UploadPartOutput>> {
        let trailers = req.trailing_headers.clone();
        let input = req.input;
        let wanted = Wanted::new(
            input.checksum_crc32.clone(),
            input.checksum_crc32c.clone(),
            input.checksum_crc64nvme.clone(),
            input.checksum_sha1.clone(),
            input.checksum_sha256.clone(),
            &req.headers,
        );
        let id = upload_id(&input.upload_id)?;
        let number = part_number(input.part_number)?;
        let mp = self.require_upload(&id, &input.bucket, &input.key).await?;
        let algorithm = input.checksum_algorithm.clone().or_else(|| {
            mp.meta
                .checksum_algorithm
                .clone()
                .map(ChecksumAlgorithm::from)
        });
        let mut hasher = checksum_hasher(&wanted, algorithm.as_ref())?;
        let body = input
            .body
            .ok_or_else(|| s3_err(S3ErrorCode::IncompleteBody, "UploadPart needs a body"))?;

        let store = self.store.clone();
        let writer_id = id.clone();
        let writer = self
            .blocking(move |s| s.part_writer(&writer_id, number))
            .await?;
        let (tx, mut rx) = mpsc::channel::<Bytes>(8);
        let worker =
            tokio::task::spawn_blocking(move || -> std::io::Result<cairn_store::PartWriter> {
                let mut writer = writer;
                while let Some(bytes) = rx.blocking_recv() {
                    writer.write_all(&bytes)?;
                }
                Ok(writer)
            });
        let mut md5 = Md5::new();
        let mut body = body;
        let mut failure = None;
        while let Some(item) = body.next().await {
            match item {
                Ok(bytes) => {
                    md5.update(&bytes);
                    hasher.update(&bytes);
                    if tx.send(bytes).await.is_err() {
                        break;
                    }
                }
                Err(e) => {
                    failure = Some(e.to_string());
                    break;
                }
            }
        }
        drop(tx);
        let writer = worker.await.map_err(join_error)?.map_err(|e| {
            s3_err(
                S3ErrorCode::InternalError,
                format!("writing the part failed: {e}"),
            )
        })?;
        if let Some(reason) = failure {
            return Err(super::ingest::body_read_error(reason));
        }
        let md5_hex = hex::encode(md5.finalize());
        let checksums = hasher.finalize();
        let expected = wanted.with_trailers(trailers)?;
        verify_checksums(
            &expected,
            input.content_md5.as_deref(),
            &md5_hex,
            &checksums,
        )?;
        let record = PartRecord {
            part_number: number,
            size: writer.written(),
            etag: md5_hex.clone(),
            checksums: meta::checksum_pairs(&checksums),
            last_modified: meta::now_ms(),
        };
        tokio::task::spawn_blocking(move || {
            let _keep = &store;
            writer.finish(record)
        })
        .await
        .map_err(join_error)?
        .map_err(store_error)?;
        Ok(S3Response::new(UploadPartOutput {
            e_tag: Some(ETag::Strong(md5_hex)),
            checksum_crc32: checksums.checksum_crc32,
            checksum_crc32c: checksums.checksum_crc32c,
            checksum_crc64nvme: checksums.checksum_crc64nvme,
            checksum_sha1: checksums.checksum_sha1,
            checksum_sha256: checksums.checksum_sha256,
            ..Default::default()
        }))
    }

    pub(crate) async fn handle_upload_part_copy(
        &self,
        req: S3Request<UploadPartCopyInput>,
    ) -> S3Result<S3Response<UploadPartCopyOutput>> {
        let input = req.input;
        let id = upload_id(&input.upload_id)?;
        let number = part_number(input.part_number)?;
        self.require_upload(&id, &input.bucket, &input.key).await?;
        let CopySource::Bucket {
            bucket: sb,
            key: sk,
            ..
        } = &input.copy_source
        else {
            return Err(s3_err(
                S3ErrorCode::NotImplemented,
                "access-point copy sources are not supported",
            ));
        };
        let handle = self.open(sb, sk).await?;
        let src = handle.record().clone();
        meta::check_copy_conditions(
            &src,
            input.copy_source_if_match.as_ref(),
            input.copy_source_if_none_match.as_ref(),
            input.copy_source_if_modified_since.as_ref(),
            input.copy_source_if_unmodified_since.as_ref(),
        )?;
        let (start, end) = match input.copy_source_range.as_deref() {
            None => (0, src.size),
            Some(r) => parse_copy_range(r, src.size)?,
        };
        let fallback = self.fallback.clone();
        let store = self.store.clone();
        let root = src.root_cid;
        let record = tokio::task::spawn_blocking(move || -> S3Result<PartRecord> {
            let mut writer = store.part_writer(&id, number).map_err(store_error)?;
            let source = LeasedSource(handle, fallback);
            let mut md5 = Md5::new();
            for piece in FileReader::range(&source, root, start, end) {
                let piece = piece.map_err(dag_error)?;
                md5.update(&piece);
                writer.write_all(&piece).map_err(|e| {
                    s3_err(
                        S3ErrorCode::InternalError,
                        format!("writing the part failed: {e}"),
                    )
                })?;
            }
            let record = PartRecord {
                part_number: number,
                size: writer.written(),
                etag: hex::encode(md5.finalize()),
                checksums: Vec::new(),
                last_modified: meta::now_ms(),
            };
            writer.finish(record).map_err(store_error)
        })
        .await
        .map_err(join_error)??;
        Ok(S3Response::new(UploadPartCopyOutput {
            copy_part_result: Some(CopyPartResult {
                e_tag: Some(ETag::Strong(record.etag)),
                last_modified: Some(meta::timestamp(record.last_modified)),
                ..Default::default()
            }),
            ..Default::default()
        }))
    }

    pub(crate) async fn handle_complete_multipart_upload(
        &self,
        req: S3Request<CompleteMultipartUploadInput>,
    ) -> S3Result<S3Response<CompleteMultipartUploadOutput>> {
        let input = req.input;
        let id = upload_id(&input.upload_id)?;
        let done_id = id.clone();
        if let Some(done) = self
            .blocking(move |s| s.completed_multipart(&done_id))
            .await?
            && done.bucket == input.bucket
            && done.key == input.key
        {
            return Ok(complete_output(&input.bucket, &input.key, &done.record));
        }
        let mp = self.require_upload(&id, &input.bucket, &input.key).await?;
        let bucket = self.bucket(&input.bucket).await?;
        let profile = meta::profile_of(&bucket.profile)?;
        let requested = input
            .multipart_upload
            .and_then(|m| m.parts)
            .unwrap_or_default();
        if requested.is_empty() {
            return Err(s3_err(
                S3ErrorCode::MalformedXML,
                "You must specify at least one part",
            ));
        }
        let parts_id = id.clone();
        let stored = self
            .blocking(move |s| s.list_parts(&parts_id, None, MAX_PART_NUMBER as usize))
            .await?
            .parts;
        let mut chosen: Vec<PartRecord> = Vec::with_capacity(requested.len());
        let mut last = 0;
        for part in &requested {
            let n = part.part_number.unwrap_or(0);
            if n <= last {
                return Err(s3_err(
                    S3ErrorCode::InvalidPartOrder,
                    "The list of parts was not in ascending order.",
                ));
            }
            last = n;
            let rec = stored
                .iter()
                .find(|p| i64::from(p.part_number) == i64::from(n))
                .ok_or_else(|| {
                    s3_err(
                        S3ErrorCode::InvalidPart,
                        format!("part {n} was not uploaded"),
                    )
                })?;
            if let Some(tag) = &part.e_tag
                && tag.value().trim_matches('"') != rec.etag
            {
                return Err(s3_err(
                    S3ErrorCode::InvalidPart,
                    format!("part {n}'s ETag does not match"),
                ));
            }
            chosen.push(rec.clone());
        }
        if let Some((_, init)) = chosen.split_last()
            && let Some(small) = init.iter().find(|p| p.size < MIN_PART_SIZE)
        {
            return Err(s3_err(
                S3ErrorCode::EntityTooSmall,
                format!(
                    "Your proposed upload is smaller than the minimum allowed object size (part {}).",
                    small.part_number
                ),
            ));
        }
        let mut md5s = Vec::with_capacity(chosen.len() * 16);
        for p in &chosen {
            md5s.extend(hex::decode(&p.etag).unwrap_or_default());
        }
        let etag = format!("{}-{}", hex::encode(Md5::digest(&md5s)), chosen.len());
        let composite = composite_checksum(mp.meta.checksum_algorithm.as_deref(), &chosen);
        let size: u64 = chosen.iter().map(|p| p.size).sum();

        let store = self.store.clone();
        let numbers: Vec<u32> = chosen.iter().map(|p| p.part_number).collect();
        let reader_id = id.clone();
        let (root, upload) = tokio::task::spawn_blocking(move || {
            let pieces = PartPieces::new(&store, &reader_id, numbers);
            ingest_blocking(&store, profile, pieces)
        })
        .await
        .map_err(join_error)?
        .map_err(|e| match e {
            IngestError::Store(e) | IngestError::Source(e) => store_error(e),
        })?;
        let m = mp.meta;
        let record = ObjectRecord {
            root_cid: root.cid,
            size,
            etag,
            content_type: m.content_type,
            user_metadata: m.user_metadata,
            content_encoding: m.content_encoding,
            content_disposition: m.content_disposition,
            content_language: m.content_language,
            cache_control: m.cache_control,
            expires: m.expires,
            checksums: composite,
            last_modified: meta::now_ms(),
            profile: profile.name().to_owned(),
            parts: Some(chosen.len() as u32),
        };
        let done = self
            .blocking(move |s| s.complete_multipart(&id, upload, record))
            .await?;
        Ok(complete_output(&input.bucket, &input.key, &done.record))
    }

    pub(crate) async fn handle_abort_multipart_upload(
        &self,
        req: S3Request<AbortMultipartUploadInput>,
    ) -> S3Result<S3Response<AbortMultipartUploadOutput>> {
        let input = req.input;
        let id = upload_id(&input.upload_id)?;
        self.require_upload(&id, &input.bucket, &input.key).await?;
        self.blocking(move |s| s.abort_multipart(&id)).await?;
        Ok(S3Response::new(AbortMultipartUploadOutput::default()))
    }

    pub(crate) async fn handle_list_parts(
        &self,
        req: S3Request<ListPartsInput>,
    ) -> S3Result<S3Response<ListPartsOutput>> {
        let input = req.input;
        let id = upload_id(&input.upload_id)?;
        let mp = self.require_upload(&id, &input.bucket, &input.key).await?;
        let max = input.max_parts.unwrap_or(1000).clamp(0, 1000);
        let marker = input
            .part_number_marker
            .filter(|m| *m > 0)
            .map(|m| m as u32);
        let page_id = id.clone();
        let page = self
            .blocking(move |s| s.list_parts(&page_id, marker, max as usize))
            .await?;
        let parts = page
            .parts
            .iter()
            .map(|p| {
                let mut part = Part {
                    part_number: Some(p.part_number as i32),
                    size: Some(p.size as i64),
                    e_tag: Some(ETag::Strong(p.etag.clone())),
                    last_modified: Some(meta::timestamp(p.last_modified)),
                    ..Default::default()
                };
                part_checksums(&meta::checksum_from_pairs(&p.checksums), &mut part);
                part
            })
            .collect();
        Ok(S3Response::new(ListPartsOutput {
            bucket: Some(input.bucket),
            key: Some(input.key),
            upload_id: Some(id.as_str().to_owned()),
            max_parts: Some(max),
            part_number_marker: input.part_number_marker,
            next_part_number_marker: page.next_part_number_marker.map(|n| n as i32),
            is_truncated: Some(page.is_truncated),
            parts: Some(parts),
            checksum_algorithm: mp.meta.checksum_algorithm.map(ChecksumAlgorithm::from),
            storage_class: Some(StorageClass::from_static(StorageClass::STANDARD)),
            ..Default::default()
        }))
    }

    pub(crate) async fn handle_list_multipart_uploads(
        &self,
        req: S3Request<ListMultipartUploadsInput>,
    ) -> S3Result<S3Response<ListMultipartUploadsOutput>> {
        let input = req.input;
        let max = input.max_uploads.unwrap_or(1000).clamp(0, 1000);
        let id_marker = match input.upload_id_marker.as_deref().filter(|s| !s.is_empty()) {
            Some(s) => Some(upload_id(s)?),
            None => None,
        };
        let (bucket, prefix, key_marker) = (
            input.bucket.clone(),
            input.prefix.clone().unwrap_or_default(),
            input.key_marker.clone(),
        );
        let page = self
            .blocking(move |s| {
                s.list_multipart_uploads(
                    &bucket,
                    &prefix,
                    key_marker.as_deref(),
                    id_marker.as_ref(),
                    max as usize,
                )
            })
            .await?;
        let uploads = page
            .uploads
            .into_iter()
            .map(|u| MultipartUpload {
                key: Some(u.key),
                upload_id: Some(u.upload_id.as_str().to_owned()),
                initiated: Some(meta::timestamp(u.initiated)),
                storage_class: Some(StorageClass::from_static(StorageClass::STANDARD)),
                checksum_algorithm: u.meta.checksum_algorithm.map(ChecksumAlgorithm::from),
                ..Default::default()
            })
            .collect();
        Ok(S3Response::new(ListMultipartUploadsOutput {
            bucket: Some(input.bucket),
            prefix: input.prefix,
            key_marker: input.key_marker,
            upload_id_marker: input.upload_id_marker,
            max_uploads: Some(max),
            is_truncated: Some(page.is_truncated),
            next_key_marker: page.next_key_marker,
            next_upload_id_marker: page.next_upload_id_marker.map(|u| u.as_str().to_owned()),
            uploads: Some(uploads),
            ..Default::default()
        }))
    }
}

fn complete_output(
    bucket: &str,
    key: &str,
    rec: &ObjectRecord,
) -> S3Response<CompleteMultipartUploadOutput> {
    let c = meta::checksum_from_pairs(&rec.checksums);
    let output = CompleteMultipartUploadOutput {
        bucket: Some(bucket.to_owned()),
        key: Some(key.to_owned()),
        location: Some(format!("/{bucket}/{key}")),
        e_tag: Some(ETag::Strong(rec.etag.clone())),
        checksum_crc32: c.checksum_crc32,
        checksum_crc32c: c.checksum_crc32c,
        checksum_crc64nvme: c.checksum_crc64nvme,
        checksum_sha1: c.checksum_sha1,
        checksum_sha256: c.checksum_sha256,
        ..Default::default()
    };
    meta::with_cid(S3Response::new(output), &rec.root_cid)
}

/// S3's composite checksum of a multipart object: the checksum of the
/// concatenated part checksums, suffixed with the part count.
fn composite_checksum(algorithm: Option<&str>, parts: &[PartRecord]) -> Vec<(String, String)> {
    let Some(alg) = algorithm else {
        return Vec::new();
    };
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut hasher = ChecksumHasher::default();
    match alg {
        "CRC32" => hasher.crc32 = Some(Default::default()),
        "CRC32C" => hasher.crc32c = Some(Default::default()),
        "CRC64NVME" => hasher.crc64nvme = Some(Default::default()),
        "SHA1" => hasher.sha1 = Some(Default::default()),
        "SHA256" => hasher.sha256 = Some(Default::default()),
        _ => return Vec::new(),
    }
    for part in parts {
        let Some((_, v)) = part.checksums.iter().find(|(a, _)| a == alg) else {
            return Vec::new();
        };
        match b64.decode(v) {
            Ok(raw) => hasher.update(&raw),
            Err(_) => return Vec::new(),
        }
    }
    meta::checksum_pairs(&hasher.finalize())
        .into_iter()
        .map(|(a, v)| (a, format!("{v}-{}", parts.len())))
        .collect()
}

fn parse_copy_range(r: &str, size: u64) -> S3Result<(u64, u64)> {
    let bad = || {
        s3_err(
            S3ErrorCode::InvalidArgument,
            format!("invalid x-amz-copy-source-range {r:?}"),
        )
    };
    let spec = r.strip_prefix("bytes=").ok_or_else(bad)?;
    let (a, b) = spec.split_once('-').ok_or_else(bad)?;
    let (a, b): (u64, u64) = (a.parse().map_err(|_| bad())?, b.parse().map_err(|_| bad())?);
    if a > b || b >= size {
        return Err(s3_err(
            S3ErrorCode::InvalidRange,
            "The requested range is not satisfiable",
        ));
    }
    Ok((a, b + 1))
}

/// The bytes of several stored parts, in order, in 1 MiB pieces.
struct PartPieces<'a> {
    store: &'a cairn_store::Store,
    upload: &'a UploadId,
    numbers: std::vec::IntoIter<u32>,
    current: Option<std::fs::File>,
}

impl<'a> PartPieces<'a> {
    fn new(store: &'a cairn_store::Store, upload: &'a UploadId, numbers: Vec<u32>) -> Self {
        PartPieces {
            store,
            upload,
            numbers: numbers.into_iter(),
            current: None,
        }
    }
}

impl Iterator for PartPieces<'_> {
    type Item = Result<Vec<u8>, StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.current.is_none() {
                let n = self.numbers.next()?;
                match self.store.open_part(self.upload, n) {
                    Ok((_, file)) => self.current = Some(file),
                    Err(e) => return Some(Err(e)),
                }
            }
            let file = self.current.as_mut()?;
            let mut buf = vec![0u8; 1 << 20];
            match file.read(&mut buf) {
                Ok(0) => self.current = None,
                Ok(n) => {
                    buf.truncate(n);
                    return Some(Ok(buf));
                }
                Err(e) => {
                    return Some(Err(StoreError::Io {
                        path: std::path::PathBuf::from(format!(
                            "multipart part {n}",
                            n = self.upload
                        )),
                        source: e,
                    }));
                }
            }
        }
    }
}

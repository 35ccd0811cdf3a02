//! Object operations: PUT, GET, HEAD, DELETE, DeleteObjects, CopyObject.

use cairn_dag::car::{DagWalk, WalkOptions};
use cairn_store::ObjectRecord;
use s3s::dto::*;
use s3s::{S3ErrorCode, S3Request, S3Response, S3Result};

use super::CairnS3;
use super::error::{join_error, s3_err, store_error};
use super::ingest::{IngestError, ingest_blocking, ingest_stream};
use super::meta::{self, checksum_hasher, verify_checksums};
use super::read::{LeasedSource, stream_file};

impl CairnS3 {
    pub(crate) async fn handle_put_object(
        &self,
        req: S3Request<PutObjectInput>,
    ) -> S3Result<S3Response<PutObjectOutput>> {
        let trailers = req.trailing_headers.clone();
        let input = req.input;
        let wanted = meta::Wanted::new(
            input.checksum_crc32.clone(),
            input.checksum_crc32c.clone(),
            input.checksum_crc64nvme.clone(),
            input.checksum_sha1.clone(),
            input.checksum_sha256.clone(),
            &req.headers,
        );
        meta::validate_key(&input.key)?;
        let bucket = self.bucket(&input.bucket).await?;
        let profile = meta::profile_of(&bucket.profile)?;
        self.check_write_conditions(
            &input.bucket,
            &input.key,
            input.if_match.as_ref(),
            input.if_none_match.as_ref(),
        )
        .await?;
        let body = input
            .body
            .ok_or_else(|| s3_err(S3ErrorCode::IncompleteBody, "PutObject needs a body"))?;
        let hasher = checksum_hasher(&wanted, input.checksum_algorithm.as_ref())?;
        let ingested = ingest_stream(&self.store, profile, body, hasher).await?;
        if let Some(declared) = input.content_length
            && u64::try_from(declared).ok() != Some(ingested.root.size)
        {
            self.abort(ingested.upload).await;
            return Err(s3_err(
                S3ErrorCode::IncompleteBody,
                "body length differs from Content-Length",
            ));
        }
        let expected = wanted.with_trailers(trailers)?;
        if let Err(e) = verify_checksums(
            &expected,
            input.content_md5.as_deref(),
            &ingested.md5_hex,
            &ingested.checksums,
        ) {
            self.abort(ingested.upload).await;
            return Err(e);
        }
        let record = ObjectRecord {
            root_cid: ingested.root.cid,
            size: ingested.root.size,
            etag: ingested.md5_hex.clone(),
            content_type: input.content_type.map(|c| c.to_string()),
            user_metadata: meta::sorted_metadata(input.metadata),
            content_encoding: meta::stored_content_encoding(input.content_encoding),
            content_disposition: input.content_disposition,
            content_language: input.content_language,
            cache_control: input.cache_control,
            expires: input.expires.as_ref().and_then(meta::http_date),
            checksums: meta::checksum_pairs(&ingested.checksums),
            last_modified: meta::now_ms(),
            profile: profile.name().to_owned(),
            parts: None,
        };
        let cid = record.root_cid;
        let checksums = ingested.checksums.clone();
        self.commit(ingested.upload, &input.bucket, &input.key, record)
            .await?;
        let output = PutObjectOutput {
            e_tag: Some(ETag::Strong(ingested.md5_hex)),
            checksum_crc32: checksums.checksum_crc32,
            checksum_crc32c: checksums.checksum_crc32c,
            checksum_crc64nvme: checksums.checksum_crc64nvme,
            checksum_sha1: checksums.checksum_sha1,
            checksum_sha256: checksums.checksum_sha256,
            ..Default::default()
        };
        Ok(meta::with_cid(S3Response::new(output), &cid))
    }

    pub(crate) async fn handle_get_object(
        &self,
        req: S3Request<GetObjectInput>,
    ) -> S3Result<S3Response<GetObjectOutput>> {
        let input = req.input;
        let handle = self.open(&input.bucket, &input.key).await?;
        let rec = handle.record().clone();
        meta::check_read_conditions(
            &rec,
            input.if_match.as_ref(),
            input.if_none_match.as_ref(),
            input.if_modified_since.as_ref(),
            input.if_unmodified_since.as_ref(),
        )?;
        let (start, end, content_range) = match &input.range {
            None => (0, rec.size, None),
            Some(range) => {
                let r = range.check(rec.size).map_err(|_| {
                    s3_err(
                        S3ErrorCode::InvalidRange,
                        "the requested range is not satisfiable",
                    )
                })?;
                let header = format!("bytes {}-{}/{}", r.start, r.end.saturating_sub(1), rec.size);
                (r.start, r.end, Some(header))
            }
        };
        let full = content_range.is_none();
        let body = stream_file(
            LeasedSource(handle, self.fallback.clone()),
            rec.root_cid,
            start,
            end,
        );
        let mut output = GetObjectOutput {
            body: Some(body),
            content_length: Some((end - start) as i64),
            content_range,
            accept_ranges: Some("bytes".into()),
            ..Default::default()
        };
        meta::fill_get_output(
            &mut output,
            &rec,
            full && meta::wants_checksums(input.checksum_mode.as_ref()),
        );
        meta::apply_response_overrides(
            &mut output,
            input.response_content_type,
            input.response_content_disposition,
            input.response_content_encoding,
            input.response_content_language,
            input.response_cache_control,
            input.response_expires,
        );
        Ok(meta::with_cid(S3Response::new(output), &rec.root_cid))
    }

    pub(crate) async fn handle_head_object(
        &self,
        req: S3Request<HeadObjectInput>,
    ) -> S3Result<S3Response<HeadObjectOutput>> {
        let input = req.input;
        let rec = self
            .record(&input.bucket, &input.key)
            .await?
            .ok_or_else(|| s3_err(S3ErrorCode::NoSuchKey, "The specified key does not exist."))?;
        meta::check_read_conditions(
            &rec,
            input.if_match.as_ref(),
            input.if_none_match.as_ref(),
            input.if_modified_since.as_ref(),
            input.if_unmodified_since.as_ref(),
        )?;
        let (length, content_range) = match &input.range {
            None => (rec.size, None),
            Some(range) => {
                let r = range.check(rec.size).map_err(|_| {
                    s3_err(
                        S3ErrorCode::InvalidRange,
                        "the requested range is not satisfiable",
                    )
                })?;
                (
                    r.end - r.start,
                    Some(format!(
                        "bytes {}-{}/{}",
                        r.start,
                        r.end.saturating_sub(1),
                        rec.size
                    )),
                )
            }
        };
        let mut get = GetObjectOutput::default();
        meta::fill_get_output(
            &mut get,
            &rec,
            meta::wants_checksums(input.checksum_mode.as_ref()),
        );
        meta::apply_response_overrides(
            &mut get,
            input.response_content_type,
            input.response_content_disposition,
            input.response_content_encoding,
            input.response_content_language,
            input.response_cache_control,
            input.response_expires,
        );
        let output = HeadObjectOutput {
            accept_ranges: Some("bytes".into()),
            content_length: Some(length as i64),
            content_range,
            content_type: get.content_type,
            content_encoding: get.content_encoding,
            content_disposition: get.content_disposition,
            content_language: get.content_language,
            cache_control: get.cache_control,
            expires: get.expires,
            e_tag: get.e_tag,
            last_modified: get.last_modified,
            metadata: get.metadata,
            parts_count: get.parts_count,
            checksum_crc32: get.checksum_crc32,
            checksum_crc32c: get.checksum_crc32c,
            checksum_crc64nvme: get.checksum_crc64nvme,
            checksum_sha1: get.checksum_sha1,
            checksum_sha256: get.checksum_sha256,
            ..Default::default()
        };
        Ok(meta::with_cid(S3Response::new(output), &rec.root_cid))
    }

    pub(crate) async fn handle_delete_object(
        &self,
        req: S3Request<DeleteObjectInput>,
    ) -> S3Result<S3Response<DeleteObjectOutput>> {
        let input = req.input;
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || store.delete_object(&input.bucket, &input.key))
            .await
            .map_err(join_error)?
            .map_err(store_error)?;
        Ok(S3Response::new(DeleteObjectOutput::default()))
    }

    pub(crate) async fn handle_delete_objects(
        &self,
        req: S3Request<DeleteObjectsInput>,
    ) -> S3Result<S3Response<DeleteObjectsOutput>> {
        let input = req.input;
        self.bucket(&input.bucket).await?;
        let quiet = input.delete.quiet.unwrap_or(false);
        let store = self.store.clone();
        let bucket = input.bucket.clone();
        let keys: Vec<String> = input.delete.objects.into_iter().map(|o| o.key).collect();
        if keys.len() > 1000 {
            return Err(s3_err(
                S3ErrorCode::MalformedXML,
                "DeleteObjects takes at most 1000 keys",
            ));
        }
        let results = tokio::task::spawn_blocking(move || {
            keys.into_iter()
                .map(|key| {
                    let r = store.delete_object(&bucket, &key);
                    (key, r)
                })
                .collect::<Vec<_>>()
        })
        .await
        .map_err(join_error)?;
        let mut deleted = Vec::new();
        let mut errors = Vec::new();
        for (key, result) in results {
            match result {
                Ok(_) => {
                    if !quiet {
                        deleted.push(DeletedObject {
                            key: Some(key),
                            ..Default::default()
                        });
                    }
                }
                Err(e) => errors.push(Error {
                    code: Some("InternalError".into()),
                    key: Some(key),
                    message: Some(e.to_string()),
                    version_id: None,
                }),
            }
        }
        let output = DeleteObjectsOutput {
            deleted: Some(deleted),
            errors: (!errors.is_empty()).then_some(errors),
            ..Default::default()
        };
        Ok(S3Response::new(output))
    }

    pub(crate) async fn handle_copy_object(
        &self,
        req: S3Request<CopyObjectInput>,
    ) -> S3Result<S3Response<CopyObjectOutput>> {
        let input = req.input;
        let CopySource::Bucket {
            bucket: src_bucket,
            key: src_key,
            ..
        } = &input.copy_source
        else {
            return Err(s3_err(
                S3ErrorCode::NotImplemented,
                "access-point copy sources are not supported",
            ));
        };
        let (src_bucket, src_key) = (src_bucket.to_string(), src_key.to_string());
        meta::validate_key(&input.key)?;
        meta::validate_key(&src_key)?;
        let dest = self.bucket(&input.bucket).await?;
        let profile = meta::profile_of(&dest.profile)?;
        let handle = self.open(&src_bucket, &src_key).await?;
        let src = handle.record().clone();
        meta::check_copy_conditions(
            &src,
            input.copy_source_if_match.as_ref(),
            input.copy_source_if_none_match.as_ref(),
            input.copy_source_if_modified_since.as_ref(),
            input.copy_source_if_unmodified_since.as_ref(),
        )?;
        let replace = input
            .metadata_directive
            .as_ref()
            .is_some_and(|d| d.as_str() == MetadataDirective::REPLACE);
        if src_bucket == input.bucket && src_key == input.key && !replace {
            return Err(s3_err(
                S3ErrorCode::InvalidRequest,
                "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
            ));
        }
        let fallback = self.fallback.clone();
        let store = self.store.clone();
        let same_profile = src.profile == profile.name();
        let root = src.root_cid;
        let size = src.size;
        let (root, upload) = tokio::task::spawn_blocking(move || {
            let source = LeasedSource(handle, fallback);
            if same_profile {
                // The bytes hash to the same DAG: share its blocks.
                let mut upload = store.begin_upload().map_err(IngestError::Store)?;
                let mut blocks = 0u64;
                for block in DagWalk::new(&source, root, WalkOptions::default()) {
                    let stored = block.map_err(IngestError::Source).and_then(|b| {
                        upload
                            .put_block(b.cid.hash(), &b.data)
                            .map_err(IngestError::Store)
                    });
                    if let Err(e) = stored {
                        let _ = upload.abort();
                        return Err(e);
                    }
                    blocks += 1;
                }
                Ok((
                    cairn_dag::FileRoot {
                        cid: root,
                        size,
                        dag_size: 0,
                        blocks,
                    },
                    upload,
                ))
            } else {
                let reader = cairn_dag::reader::FileReader::new(&source, root);
                ingest_blocking(&store, profile, reader)
            }
        })
        .await
        .map_err(join_error)?
        .map_err(|e| match e {
            IngestError::Store(e) => store_error(e),
            IngestError::Source(e) => super::error::dag_error(e),
        })?;
        let record = if replace {
            ObjectRecord {
                content_type: input.content_type.map(|c| c.to_string()),
                user_metadata: meta::sorted_metadata(input.metadata),
                content_encoding: meta::stored_content_encoding(input.content_encoding),
                content_disposition: input.content_disposition,
                content_language: input.content_language,
                cache_control: input.cache_control,
                expires: input.expires.as_ref().and_then(meta::http_date),
                ..src.clone()
            }
        } else {
            src.clone()
        };
        let record = ObjectRecord {
            root_cid: root.cid,
            last_modified: meta::now_ms(),
            profile: profile.name().to_owned(),
            ..record
        };
        let last_modified = meta::timestamp(record.last_modified);
        let etag = record.etag.clone();
        let cid = record.root_cid;
        self.commit(upload, &input.bucket, &input.key, record)
            .await?;
        let output = CopyObjectOutput {
            copy_object_result: Some(CopyObjectResult {
                e_tag: Some(ETag::Strong(etag)),
                last_modified: Some(last_modified),
                ..Default::default()
            }),
            ..Default::default()
        };
        Ok(meta::with_cid(S3Response::new(output), &cid))
    }
}

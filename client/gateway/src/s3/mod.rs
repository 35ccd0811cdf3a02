//! The S3 API over Cairn's store, through the `s3s` protocol crate.
//!
//! `s3s` parses requests, checks SigV4 (headers, presigned URLs and
//! aws-chunked payloads with trailers) and writes XML; this module holds the
//! S3 semantics: buckets with a UnixFS profile each, objects whose bytes are
//! a UnixFS DAG (so every object has a root CID, returned in `x-cairn-cid`),
//! conditional requests, checksums, listing and multipart uploads.
//!
//! Module tour: [`ingest`] (write path), [`read`] (read path), `objects`,
//! `buckets`, `multipart` (handlers), `meta` (checksums, conditions,
//! headers), `error` (store errors to S3 codes).

mod buckets;
mod error;
pub(crate) mod ingest;
pub(crate) mod meta;
mod multipart;
mod objects;
pub mod read;

use std::collections::BTreeMap;
use std::sync::Arc;

use cairn_dag::Profile;
use cairn_store::{BucketInfo, ObjectHandle, ObjectRecord, Store, Upload};
use s3s::dto::*;
use s3s::{S3, S3ErrorCode, S3Request, S3Response, S3Result};

use error::{join_error, s3_err, store_error};

pub use buckets::validate_bucket_name;
pub use meta::CID_HEADER;

/// The S3 service: a store plus per-bucket settings.
#[derive(Clone, Debug)]
pub struct CairnS3 {
    store: Store,
    settings: Arc<S3Settings>,
    fallback: Option<read::Fallback>,
}

/// Settings the S3 service takes from the gateway config.
#[derive(Clone, Debug, Default)]
pub struct S3Settings {
    /// Profile for buckets created without one.
    pub default_profile: Profile,
    /// Profiles of named buckets (`[buckets.NAME]` in the config).
    pub bucket_profiles: BTreeMap<String, Profile>,
}

impl CairnS3 {
    /// A service over `store`.
    pub fn new(store: Store, settings: S3Settings) -> CairnS3 {
        CairnS3 {
            store,
            settings: Arc::new(settings),
            fallback: None,
        }
    }

    /// Blocks missing from the store (evicted hot copies) come from `f`.
    pub fn with_fallback(mut self, f: read::Fallback) -> CairnS3 {
        self.fallback = Some(f);
        self
    }

    async fn blocking<T, F>(&self, f: F) -> S3Result<T>
    where
        F: FnOnce(&Store) -> Result<T, cairn_store::StoreError> + Send + 'static,
        T: Send + 'static,
    {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || f(&store))
            .await
            .map_err(join_error)?
            .map_err(store_error)
    }

    async fn bucket(&self, name: &str) -> S3Result<BucketInfo> {
        let owned = name.to_owned();
        self.blocking(move |s| s.head_bucket(&owned))
            .await?
            .ok_or_else(|| {
                s3_err(
                    S3ErrorCode::NoSuchBucket,
                    format!("The specified bucket does not exist: {name}"),
                )
            })
    }

    async fn record(&self, bucket: &str, key: &str) -> S3Result<Option<ObjectRecord>> {
        let (b, k) = (bucket.to_owned(), key.to_owned());
        self.blocking(move |s| s.get_object_record(&b, &k)).await
    }

    async fn open(&self, bucket: &str, key: &str) -> S3Result<ObjectHandle> {
        let (b, k) = (bucket.to_owned(), key.to_owned());
        self.blocking(move |s| s.open_object(&b, &k))
            .await?
            .ok_or_else(|| s3_err(S3ErrorCode::NoSuchKey, "The specified key does not exist."))
    }

    async fn commit(
        &self,
        upload: Upload,
        bucket: &str,
        key: &str,
        record: ObjectRecord,
    ) -> S3Result<()> {
        let (b, k) = (bucket.to_owned(), key.to_owned());
        self.blocking(move |_| upload.commit_object(&b, &k, record).map(drop))
            .await
    }

    async fn abort(&self, upload: Upload) {
        let _ = self.blocking(move |_| upload.abort()).await;
    }

    /// PutObject's If-Match / If-None-Match (conditional writes).
    async fn check_write_conditions(
        &self,
        bucket: &str,
        key: &str,
        if_match: Option<&ETagCondition>,
        if_none_match: Option<&ETagCondition>,
    ) -> S3Result<()> {
        if if_match.is_none() && if_none_match.is_none() {
            return Ok(());
        }
        let current = self.record(bucket, key).await?;
        if let Some(cond) = if_none_match
            && cond.is_any()
            && current.is_some()
        {
            return Err(s3_err(
                S3ErrorCode::PreconditionFailed,
                "At least one of the pre-conditions you specified did not hold",
            ));
        }
        if let Some(cond) = if_match {
            let ok = match (&current, cond) {
                (None, _) => false,
                (Some(_), ETagCondition::Any) => true,
                (Some(rec), ETagCondition::ETag(tag)) => tag.value() == rec.etag,
            };
            if !ok {
                if current.is_none() {
                    return Err(s3_err(
                        S3ErrorCode::NoSuchKey,
                        "The specified key does not exist.",
                    ));
                }
                return Err(s3_err(
                    S3ErrorCode::PreconditionFailed,
                    "At least one of the pre-conditions you specified did not hold",
                ));
            }
        }
        Ok(())
    }

    fn profile_for_new_bucket(&self, name: &str) -> Profile {
        self.settings
            .bucket_profiles
            .get(name)
            .copied()
            .unwrap_or(self.settings.default_profile)
    }
}

#[async_trait::async_trait]
impl S3 for CairnS3 {
    async fn create_bucket(
        &self,
        req: S3Request<CreateBucketInput>,
    ) -> S3Result<S3Response<CreateBucketOutput>> {
        self.handle_create_bucket(req).await
    }
    async fn delete_bucket(
        &self,
        req: S3Request<DeleteBucketInput>,
    ) -> S3Result<S3Response<DeleteBucketOutput>> {
        self.handle_delete_bucket(req).await
    }
    async fn head_bucket(
        &self,
        req: S3Request<HeadBucketInput>,
    ) -> S3Result<S3Response<HeadBucketOutput>> {
        self.handle_head_bucket(req).await
    }
    async fn get_bucket_location(
        &self,
        req: S3Request<GetBucketLocationInput>,
    ) -> S3Result<S3Response<GetBucketLocationOutput>> {
        self.bucket(&req.input.bucket).await?;
        Ok(S3Response::new(GetBucketLocationOutput::default()))
    }
    async fn list_buckets(
        &self,
        req: S3Request<ListBucketsInput>,
    ) -> S3Result<S3Response<ListBucketsOutput>> {
        self.handle_list_buckets(req).await
    }
    async fn list_objects(
        &self,
        req: S3Request<ListObjectsInput>,
    ) -> S3Result<S3Response<ListObjectsOutput>> {
        self.handle_list_objects(req).await
    }
    async fn list_objects_v2(
        &self,
        req: S3Request<ListObjectsV2Input>,
    ) -> S3Result<S3Response<ListObjectsV2Output>> {
        self.handle_list_objects_v2(req).await
    }
    async fn put_object(
        &self,
        req: S3Request<PutObjectInput>,
    ) -> S3Result<S3Response<PutObjectOutput>> {
        self.handle_put_object(req).await
    }
    async fn get_object(
        &self,
        req: S3Request<GetObjectInput>,
    ) -> S3Result<S3Response<GetObjectOutput>> {
        self.handle_get_object(req).await
    }
    async fn head_object(
        &self,
        req: S3Request<HeadObjectInput>,
    ) -> S3Result<S3Response<HeadObjectOutput>> {
        self.handle_head_object(req).await
    }
    async fn delete_object(
        &self,
        req: S3Request<DeleteObjectInput>,
    ) -> S3Result<S3Response<DeleteObjectOutput>> {
        self.handle_delete_object(req).await
    }
    async fn delete_objects(
        &self,
        req: S3Request<DeleteObjectsInput>,
    ) -> S3Result<S3Response<DeleteObjectsOutput>> {
        self.handle_delete_objects(req).await
    }
    async fn copy_object(
        &self,
        req: S3Request<CopyObjectInput>,
    ) -> S3Result<S3Response<CopyObjectOutput>> {
        self.handle_copy_object(req).await
    }
    async fn create_multipart_upload(
        &self,
        req: S3Request<CreateMultipartUploadInput>,
    ) -> S3Result<S3Response<CreateMultipartUploadOutput>> {
        self.handle_create_multipart_upload(req).await
    }
    async fn upload_part(
        &self,
        req: S3Request<UploadPartInput>,
    ) -> S3Result<S3Response<UploadPartOutput>> {
        self.handle_upload_part(req).await
    }
    async fn upload_part_copy(
        &self,
        req: S3Request<UploadPartCopyInput>,
    ) -> S3Result<S3Response<UploadPartCopyOutput>> {
        self.handle_upload_part_copy(req).await
    }
    async fn complete_multipart_upload(
        &self,
        req: S3Request<CompleteMultipartUploadInput>,
    ) -> S3Result<S3Response<CompleteMultipartUploadOutput>> {
        self.handle_complete_multipart_upload(req).await
    }
    async fn abort_multipart_upload(
        &self,
        req: S3Request<AbortMultipartUploadInput>,
    ) -> S3Result<S3Response<AbortMultipartUploadOutput>> {
        self.handle_abort_multipart_upload(req).await
    }
    async fn list_parts(
        &self,
        req: S3Request<ListPartsInput>,
    ) -> S3Result<S3Response<ListPartsOutput>> {
        self.handle_list_parts(req).await
    }
    async fn list_multipart_uploads(
        &self,
        req: S3Request<ListMultipartUploadsInput>,
    ) -> S3Result<S3Response<ListMultipartUploadsOutput>> {
        self.handle_list_multipart_uploads(req).await
    }
}

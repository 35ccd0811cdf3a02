//! Mapping store and DAG errors to S3 error codes, once, at the edge.

use cairn_dag::DagError;
use cairn_store::{NameKind, StoreError};
use s3s::{S3Error, S3ErrorCode};

/// The S3 error for a store failure.
pub(crate) fn store_error(err: StoreError) -> S3Error {
    let code = match &err {
        StoreError::NoSuchBucket { .. } => S3ErrorCode::NoSuchBucket,
        StoreError::BucketNotEmpty { .. } => S3ErrorCode::BucketNotEmpty,
        StoreError::BucketAlreadyExists { .. } => S3ErrorCode::BucketAlreadyOwnedByYou,
        StoreError::NoSuchKey { .. } => S3ErrorCode::NoSuchKey,
        StoreError::NoSuchUpload { .. } => S3ErrorCode::NoSuchUpload,
        StoreError::InvalidPart { .. } => S3ErrorCode::InvalidPart,
        StoreError::InvalidName {
            kind: NameKind::Bucket,
            ..
        } => S3ErrorCode::InvalidBucketName,
        StoreError::InvalidName {
            kind: NameKind::Key,
            ..
        } => S3ErrorCode::InvalidArgument,
        StoreError::InvalidPartNumber { .. } => S3ErrorCode::InvalidArgument,
        _ => {
            tracing::error!(error = %err, "store failure");
            S3ErrorCode::InternalError
        }
    };
    S3Error::with_message(code, err.to_string())
}

/// The S3 error for a DAG that cannot be read back.
pub(crate) fn dag_error(err: DagError) -> S3Error {
    tracing::error!(error = %err, "stored object is unreadable");
    S3Error::with_message(
        S3ErrorCode::InternalError,
        format!("stored object is unreadable: {err}"),
    )
}

/// The S3 error for a background task that died.
pub(crate) fn join_error(err: tokio::task::JoinError) -> S3Error {
    tracing::error!(error = %err, "worker task failed");
    S3Error::with_message(S3ErrorCode::InternalError, "worker task failed")
}

/// Shorthand for an error with a code and message.
pub(crate) fn s3_err(code: S3ErrorCode, msg: impl Into<String>) -> S3Error {
    S3Error::with_message(code, msg.into())
}

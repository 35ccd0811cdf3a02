"""Bucket operations through boto3."""

import pytest

from support import bucket_name, s3_error


def test_create_bucket_then_head_and_list(s3, request):
    name = bucket_name(request)
    resp = s3.create_bucket(Bucket=name)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
    head = s3.head_bucket(Bucket=name)
    assert head["ResponseMetadata"]["HTTPStatusCode"] == 200
    listed = s3.list_buckets()
    names = [b["Name"] for b in listed["Buckets"]]
    assert name in names
    assert names == sorted(names), "ListBuckets should be in name order"
    created = next(b["CreationDate"] for b in listed["Buckets"] if b["Name"] == name)
    assert created.year >= 2024


def test_create_existing_bucket_is_refused(s3, bucket):
    code, status, _ = s3_error(s3.create_bucket, Bucket=bucket)
    assert (code, status) == ("BucketAlreadyOwnedByYou", 409)


def test_bucket_location(s3, bucket):
    loc = s3.get_bucket_location(Bucket=bucket)
    assert loc["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert loc.get("LocationConstraint") in (None, "", "us-east-1")


def test_delete_bucket_only_when_empty(s3, bucket):
    s3.put_object(Bucket=bucket, Key="x", Body=b"x")
    code, status, _ = s3_error(s3.delete_bucket, Bucket=bucket)
    assert (code, status) == ("BucketNotEmpty", 409)
    # Still there, with its object.
    s3.head_bucket(Bucket=bucket)
    assert s3.get_object(Bucket=bucket, Key="x")["Body"].read() == b"x"

    s3.delete_object(Bucket=bucket, Key="x")
    resp = s3.delete_bucket(Bucket=bucket)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 204
    code, status, _ = s3_error(s3.head_bucket, Bucket=bucket)
    assert status == 404
    assert bucket not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_bucket_with_pending_multipart_upload(gateway, s3, bucket):
    """A bucket with an unfinished multipart upload is not empty in S3; at
    least, deleting it must not leave the upload completable into nothing."""
    up = s3.create_multipart_upload(Bucket=bucket, Key="pending")
    try:
        s3.delete_bucket(Bucket=bucket)
    except Exception:
        # Refused: the bucket and its upload are still there.
        s3.head_bucket(Bucket=bucket)
        s3.abort_multipart_upload(Bucket=bucket, Key="pending", UploadId=up["UploadId"])
        return
    # Accepted: the upload must be gone with the bucket.
    code, status, _ = s3_error(
        gateway.client().upload_part, Bucket=bucket, Key="pending", UploadId=up["UploadId"], PartNumber=1, Body=b"x"
    )
    assert code in ("NoSuchBucket", "NoSuchUpload"), code


def test_no_such_bucket(s3, gateway, request):
    missing = bucket_name(request, "missing")
    code, status, _ = s3_error(s3.head_bucket, Bucket=missing)
    assert status == 404
    for call, kwargs in [
        (s3.list_objects_v2, {}),
        (s3.list_objects, {}),
        (s3.get_object, {"Key": "k"}),
        (s3.delete_bucket, {}),
        (s3.create_multipart_upload, {"Key": "k"}),
    ]:
        code, status, _ = s3_error(call, Bucket=missing, **kwargs)
        assert (code, status) == ("NoSuchBucket", 404), call.__name__
    # A PUT with a body gets its own client: the gateway drops the
    # connection after refusing a body it did not read (test_http.py).
    code, status, _ = s3_error(gateway.client().put_object, Bucket=missing, Key="k", Body=b"data")
    assert (code, status) == ("NoSuchBucket", 404)
    # The failed PUT did not create the bucket.
    assert missing not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


@pytest.mark.parametrize(
    "name",
    ["Upper-Case", "ab", "under_score", "-leading-dash", "trailing-dash-", "double..dot", "192.168.1.1", "x" * 64],
)
def test_invalid_bucket_name(s3, name):
    code, status, _ = s3_error(s3.create_bucket, Bucket=name)
    assert status == 400, (code, status)
    assert code == "InvalidBucketName"
    assert name not in [b["Name"] for b in s3.list_buckets()["Buckets"]]

"""SigV4 authentication: presigned URLs, wrong keys, anonymous requests,
and request ids in error bodies."""

import time
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET

from support import SECRET_KEY, exists, http_get, s3_error, signed_request


def urlopen(req, timeout=30):
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, {k.lower(): v for k, v in r.headers.items()}, r.read()
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read()


def error_code(body: bytes):
    return ET.fromstring(body).findtext("Code")


def test_presigned_get(s3, bucket):
    s3.put_object(Bucket=bucket, Key="shared file.txt", Body=b"presigned body", ContentType="text/plain")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "shared file.txt"}, ExpiresIn=300)
    assert "X-Amz-Signature=" in url
    status, headers, body = http_get(url)
    assert status == 200, body
    assert body == b"presigned body"
    assert headers["content-type"] == "text/plain"
    # With a response-* override signed into the URL.
    url = s3.generate_presigned_url(
        "get_object",
        Params={"Bucket": bucket, "Key": "shared file.txt", "ResponseContentDisposition": "attachment"},
        ExpiresIn=300,
    )
    status, headers, body = http_get(url)
    assert status == 200 and headers["content-disposition"] == "attachment"


def test_presigned_put(s3, bucket):
    url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "uploaded"}, ExpiresIn=300)
    req = urllib.request.Request(url, data=b"uploaded through a presigned URL", method="PUT")
    status, headers, body = urlopen(req)
    assert status == 200, body
    assert s3.get_object(Bucket=bucket, Key="uploaded")["Body"].read() == b"uploaded through a presigned URL"
    assert "x-cairn-cid" in headers


def test_presigned_url_tampered_or_expired(s3, bucket):
    s3.put_object(Bucket=bucket, Key="secret", Body=b"s")
    s3.put_object(Bucket=bucket, Key="other", Body=b"o")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "secret"}, ExpiresIn=300)
    status, _, body = http_get(url.replace("/secret?", "/other?"))
    assert status == 403 and error_code(body) == "SignatureDoesNotMatch", body
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "secret"}, ExpiresIn=1)
    time.sleep(2.1)
    status, _, body = http_get(url)
    assert status == 403, body
    assert error_code(body) == "AccessDenied"
    # A presigned PUT for one key cannot write another.
    url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "a"}, ExpiresIn=300)
    status, _, body = urlopen(urllib.request.Request(url.replace("/a?", "/b?"), data=b"x", method="PUT"))
    assert status == 403
    assert not exists(s3, bucket, "b")


def test_wrong_secret_is_refused_and_nothing_stored(gateway, s3, bucket):
    # A fresh client per refused call: the gateway drops the connection after
    # refusing a request whose body it did not read (see test_http.py).
    def bad():
        return gateway.client(secret_key=SECRET_KEY + "-wrong")

    code, status, _ = s3_error(bad().put_object, Bucket=bucket, Key="forged", Body=b"forged")
    assert (code, status) == ("SignatureDoesNotMatch", 403)
    assert not exists(s3, bucket, "forged")
    code, status, _ = s3_error(bad().list_buckets)
    assert (code, status) == ("SignatureDoesNotMatch", 403)
    code, status, _ = s3_error(bad().create_bucket, Bucket=bucket + "-forged")
    assert (code, status) == ("SignatureDoesNotMatch", 403)
    assert bucket + "-forged" not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    s3.put_object(Bucket=bucket, Key="real", Body=b"real")
    code, status, _ = s3_error(bad().delete_object, Bucket=bucket, Key="real")
    assert (code, status) == ("SignatureDoesNotMatch", 403)
    assert exists(s3, bucket, "real")


def test_unknown_access_key(gateway, s3, bucket):
    def stranger():
        return gateway.client(access_key="AKIDONTKNOWYOU", secret_key=SECRET_KEY)

    code, status, _ = s3_error(stranger().put_object, Bucket=bucket, Key="x", Body=b"x")
    assert status == 403
    assert not exists(s3, bucket, "x")
    code, status, _ = s3_error(stranger().list_buckets)
    assert (code, status) == ("InvalidAccessKeyId", 403)


def test_anonymous_requests_are_refused(gateway, s3, bucket):
    s3.put_object(Bucket=bucket, Key="private", Body=b"private")
    status, _, body = http_get(f"{gateway.endpoint}/{bucket}/private")
    assert status == 403, body
    assert body != b"private"
    assert error_code(body) == "AccessDenied"
    status, _, body = http_get(f"{gateway.endpoint}/")
    assert status == 403 and error_code(body) == "AccessDenied"
    status, _, body = urlopen(urllib.request.Request(f"{gateway.endpoint}/{bucket}/anon", data=b"anon", method="PUT"))
    assert status == 403
    assert not exists(s3, bucket, "anon")


def test_request_id_in_error_body_matches_header(gateway, s3, bucket):
    for method, path, kw in [
        ("GET", f"/{bucket}/no-such-key", {}),
        ("GET", "/no-such-bucket-here/k", {}),
        ("GET", f"/{bucket}/x", {"secret_key": "wrong"}),
    ]:
        resp = signed_request(gateway.s3_port, method, path, **kw)
        assert resp.status in (403, 404), resp
        rid = resp.headers.get("x-amz-request-id")
        assert rid, resp.headers
        root = ET.fromstring(resp.body)
        assert root.tag == "Error"
        assert root.findtext("RequestId") == rid, resp.body
        assert root.findtext("Code") in ("NoSuchKey", "NoSuchBucket", "SignatureDoesNotMatch")
    # boto3 reports the same id from the header.
    code, status, err = s3_error(s3.get_object, Bucket=bucket, Key="no-such-key")
    rid = err.response["ResponseMetadata"]["RequestId"]
    assert rid and rid == err.response["ResponseMetadata"]["HTTPHeaders"]["x-amz-request-id"]


def test_request_ids_are_unique(gateway, s3, bucket):
    ids = {s3.head_bucket(Bucket=bucket)["ResponseMetadata"]["HTTPHeaders"]["x-amz-request-id"] for _ in range(50)}
    assert len(ids) == 50


def test_unsigned_payload_and_wrong_payload_hash(gateway, s3, bucket):
    """A SigV4 header-signed PUT with UNSIGNED-PAYLOAD is accepted; one whose
    signed x-amz-content-sha256 does not match the body is refused."""
    port = gateway.s3_port
    resp = signed_request(port, "PUT", f"/{bucket}/unsigned", b"unsigned body", payload_hash="UNSIGNED-PAYLOAD")
    assert resp.status == 200, resp
    assert s3.get_object(Bucket=bucket, Key="unsigned")["Body"].read() == b"unsigned body"
    wrong = "0" * 64
    resp = signed_request(port, "PUT", f"/{bucket}/mismatch", b"some body", payload_hash=wrong)
    assert not exists(s3, bucket, "mismatch")
    assert resp.status == 400, resp
    # S3 says XAmzContentSHA256Mismatch: the body arrived whole, its hash is wrong.
    assert resp.error_code() in ("XAmzContentSHA256Mismatch", "BadDigest"), resp

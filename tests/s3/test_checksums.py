"""Flexible checksums (x-amz-checksum-*), aws-chunked trailers and
Content-MD5: what boto3 sends, what the gateway keeps and returns, and
that a wrong value stores nothing."""

import base64
import hashlib

import pytest

from support import (
    MiB,
    checksum_b64,
    exists,
    pattern,
    raw_request,
    s3_error,
    sign,
)

ALGORITHMS = ["CRC32", "CRC32C", "SHA1", "SHA256", "CRC64NVME"]
CRT_ALGORITHMS = {"CRC32C", "CRC64NVME"}


def need_crt(algorithm):
    if algorithm in CRT_ALGORITHMS:
        pytest.importorskip("awscrt", reason=f"boto3 needs awscrt (botocore[crt]) to compute {algorithm}")


class Recorder:
    """Captures the headers of every request a client sends."""

    def __init__(self, client):
        self.requests = []
        client.meta.events.register("before-send.s3.*", self._record)

    def _record(self, request, **kwargs):
        self.requests.append({k.lower(): v for k, v in request.headers.items()})

    @property
    def last(self):
        return self.requests[-1]


def force_trailer(client):
    """Makes boto3 send its flexible checksum in an aws-chunked trailer, as
    it does by default over https (over http it uses a header)."""

    def _flip(params, **kwargs):
        algorithm = params.get("context", {}).get("checksum", {}).get("request_algorithm")
        if isinstance(algorithm, dict):
            algorithm["in"] = "trailer"

    client.meta.events.register("before-call.s3.PutObject", _flip)
    client.meta.events.register("before-call.s3.UploadPart", _flip)


def h(value):
    return value.decode() if isinstance(value, bytes) else value


def assert_stored_checksum(s3, bucket, key, algorithm, want):
    head = s3.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
    assert head.get(f"Checksum{algorithm}") == want, head
    # botocore validates the body against the returned checksum as it reads.
    get = s3.get_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
    assert get.get(f"Checksum{algorithm}") == want
    return get["Body"].read()


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_checksum_algorithm_as_boto3_sends_it(gateway, bucket, algorithm):
    need_crt(algorithm)
    s3 = gateway.client()
    rec = Recorder(s3)
    data = pattern(MiB + 3, seed=1)
    want = checksum_b64(algorithm, data)
    resp = s3.put_object(Bucket=bucket, Key="k", Body=data, ChecksumAlgorithm=algorithm)
    sent = rec.last
    name = f"x-amz-checksum-{algorithm.lower()}"
    if h(sent.get("x-amz-trailer", "")) == name:
        form = "trailer"
        assert "aws-chunked" in h(sent["content-encoding"])
    else:
        form = "header"
        assert h(sent[name]) == want
    print(f"boto3 sent {algorithm} as a {form} (endpoint {gateway.endpoint})")
    assert resp[f"Checksum{algorithm}"] == want
    assert assert_stored_checksum(s3, bucket, "k", algorithm, want) == data


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_checksum_in_aws_chunked_trailer(gateway, bucket, algorithm):
    need_crt(algorithm)
    s3 = gateway.client()
    force_trailer(s3)
    rec = Recorder(s3)
    data = pattern(2 * MiB + 5, seed=2)
    want = checksum_b64(algorithm, data)
    resp = s3.put_object(Bucket=bucket, Key="t", Body=data, ChecksumAlgorithm=algorithm)
    sent = rec.last
    assert h(sent["x-amz-trailer"]) == f"x-amz-checksum-{algorithm.lower()}"
    assert h(sent["content-encoding"]) == "aws-chunked"
    assert h(sent["x-amz-content-sha256"]) == "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
    assert h(sent["x-amz-decoded-content-length"]) == str(len(data))
    assert f"x-amz-checksum-{algorithm.lower()}" not in sent
    assert resp[f"Checksum{algorithm}"] == want
    assert s3.head_object(Bucket=bucket, Key="t")["ContentLength"] == len(data)
    assert assert_stored_checksum(s3, bucket, "t", algorithm, want) == data


def test_aws_chunked_is_not_stored_as_content_encoding(gateway, bucket):
    """aws-chunked is how the body travelled, not how the object is encoded:
    S3 drops it, and keeps any real encoding sent alongside."""
    s3 = gateway.client()
    force_trailer(s3)
    s3.put_object(Bucket=bucket, Key="plain", Body=b"plain bytes", ChecksumAlgorithm="CRC32")
    s3.put_object(
        Bucket=bucket, Key="gz", Body=b"\x1f\x8b fake gzip", ContentEncoding="gzip", ChecksumAlgorithm="CRC32"
    )
    assert s3.get_object(Bucket=bucket, Key="gz")["Body"].read() == b"\x1f\x8b fake gzip"
    assert s3.head_object(Bucket=bucket, Key="plain").get("ContentEncoding") is None
    assert s3.head_object(Bucket=bucket, Key="gz").get("ContentEncoding") == "gzip"


def test_boto3_default_checksum(gateway, bucket):
    """No ChecksumAlgorithm: boto3 still sends a CRC32 (when_supported), and
    the gateway keeps it."""
    s3 = gateway.client()
    rec = Recorder(s3)
    data = b"default checksum body"
    s3.put_object(Bucket=bucket, Key="d", Body=data)
    sent = rec.last
    in_header = h(sent.get("x-amz-checksum-crc32", "")) == checksum_b64("CRC32", data)
    in_trailer = h(sent.get("x-amz-trailer", "")) == "x-amz-checksum-crc32"
    assert in_header or in_trailer, sent
    assert assert_stored_checksum(s3, bucket, "d", "CRC32", checksum_b64("CRC32", data)) == data


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_explicit_checksum_header(gateway, bucket, algorithm):
    s3 = gateway.client()
    rec = Recorder(s3)
    data = b"hello world, explicitly"
    want = checksum_b64(algorithm, data)
    resp = s3.put_object(Bucket=bucket, Key="e", Body=data, **{f"Checksum{algorithm}": want})
    assert h(rec.last[f"x-amz-checksum-{algorithm.lower()}"]) == want
    assert "x-amz-trailer" not in rec.last
    assert resp[f"Checksum{algorithm}"] == want
    assert assert_stored_checksum(s3, bucket, "e", algorithm, want) == data


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_wrong_checksum_header_is_bad_digest(gateway, bucket, algorithm):
    s3 = gateway.client()
    s3.put_object(Bucket=bucket, Key="old", Body=b"old bytes")
    wrong = checksum_b64(algorithm, b"something else")
    code, status, _ = s3_error(
        s3.put_object, Bucket=bucket, Key="new", Body=b"the bytes", **{f"Checksum{algorithm}": wrong}
    )
    assert (code, status) == ("BadDigest", 400)
    code, status, _ = s3_error(
        s3.put_object, Bucket=bucket, Key="old", Body=b"new bytes", **{f"Checksum{algorithm}": wrong}
    )
    assert (code, status) == ("BadDigest", 400)
    s3 = gateway.client()
    assert not exists(s3, bucket, "new")
    assert s3.get_object(Bucket=bucket, Key="old")["Body"].read() == b"old bytes"
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["old"]


def chunked_body(chunks, trailer_lines):
    out = b""
    for c in chunks:
        out += f"{len(c):x}\r\n".encode() + c + b"\r\n"
    out += b"0\r\n"
    for line in trailer_lines:
        out += line.encode() + b"\r\n"
    return out + b"\r\n"


def hand_built_put(port, bucket, key, chunks, trailer_lines, announce="x-amz-checksum-crc32"):
    """A PUT with an unsigned aws-chunked body and trailer, SigV4-signed
    over its headers."""
    body = chunked_body(chunks, trailer_lines)
    headers = {
        "content-encoding": "aws-chunked",
        "x-amz-decoded-content-length": str(sum(len(c) for c in chunks)),
        "content-length": str(len(body)),
    }
    if announce:
        headers["x-amz-trailer"] = announce
    path = f"/{bucket}/{key}"
    signed = sign("PUT", f"http://127.0.0.1:{port}{path}", headers, payload_hash="STREAMING-UNSIGNED-PAYLOAD-TRAILER")
    assert signed["x-amz-content-sha256"] == "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
    assert "x-amz-trailer" in signed["Authorization"] or not announce
    return raw_request(port, "PUT", path, signed, body)


def test_hand_built_trailer_with_wrong_crc32_is_refused(gateway, s3, bucket):
    data = b"hand built aws-chunked body"
    bad = checksum_b64("CRC32", b"not the body")
    resp = hand_built_put(gateway.s3_port, bucket, "bad", [data], [f"x-amz-checksum-crc32:{bad}"])
    assert resp.status == 400, resp
    assert resp.error_code() == "BadDigest", resp
    assert not exists(s3, bucket, "bad")
    # Also with a value that is not a checksum at all.
    resp = hand_built_put(gateway.s3_port, bucket, "bad2", [data], ["x-amz-checksum-crc32:BAD"])
    assert resp.status == 400, resp
    assert not exists(s3, bucket, "bad2")


def test_hand_built_trailer_with_right_crc32_is_stored(gateway, s3, bucket):
    chunks = [pattern(65536, seed=5), pattern(1000, seed=6), b"end"]
    data = b"".join(chunks)
    good = checksum_b64("CRC32", data)
    resp = hand_built_put(gateway.s3_port, bucket, "good", chunks, [f"x-amz-checksum-crc32:{good}"])
    assert resp.status == 200, resp
    assert resp.headers["etag"] == f'"{hashlib.md5(data).hexdigest()}"'
    assert resp.headers.get("x-amz-checksum-crc32") == good
    assert assert_stored_checksum(s3, bucket, "good", "CRC32", good) == data
    assert s3.head_object(Bucket=bucket, Key="good")["ContentLength"] == len(data)


def test_hand_built_trailer_announced_but_missing(gateway, s3, bucket):
    resp = hand_built_put(gateway.s3_port, bucket, "missing", [b"body without its trailer"], [])
    assert resp.status == 400, resp
    assert not exists(s3, bucket, "missing")


def test_hand_built_wrong_decoded_length(gateway, s3, bucket):
    data = b"twelve bytes"
    body = chunked_body([data], [f"x-amz-checksum-crc32:{checksum_b64('CRC32', data)}"])
    headers = {
        "content-encoding": "aws-chunked",
        "x-amz-decoded-content-length": str(len(data) + 5),
        "x-amz-trailer": "x-amz-checksum-crc32",
        "content-length": str(len(body)),
    }
    path = f"/{bucket}/short"
    signed = sign(
        "PUT", f"http://127.0.0.1:{gateway.s3_port}{path}", headers, payload_hash="STREAMING-UNSIGNED-PAYLOAD-TRAILER"
    )
    resp = raw_request(gateway.s3_port, "PUT", path, signed, body)
    assert resp.status == 400, resp
    assert not exists(s3, bucket, "short")


def test_content_md5(gateway, bucket):
    s3 = gateway.client()
    data = b"content md5 body"
    right = base64.b64encode(hashlib.md5(data).digest()).decode()
    s3.put_object(Bucket=bucket, Key="ok", Body=data, ContentMD5=right)
    assert s3.get_object(Bucket=bucket, Key="ok")["Body"].read() == data
    wrong = base64.b64encode(hashlib.md5(b"other").digest()).decode()
    code, status, _ = s3_error(s3.put_object, Bucket=bucket, Key="bad", Body=data, ContentMD5=wrong)
    assert (code, status) == ("BadDigest", 400)
    assert not exists(gateway.client(), bucket, "bad")
    code, status, _ = s3_error(s3.put_object, Bucket=bucket, Key="bad", Body=data, ContentMD5="not base64!")
    assert status == 400 and code in ("InvalidDigest", "BadDigest"), code
    assert not exists(gateway.client(), bucket, "bad")


def test_upload_part_with_wrong_checksum(gateway, bucket):
    s3 = gateway.client()
    uid = s3.create_multipart_upload(Bucket=bucket, Key="mp", ChecksumAlgorithm="SHA256")["UploadId"]
    code, status, _ = s3_error(
        s3.upload_part,
        Bucket=bucket,
        Key="mp",
        UploadId=uid,
        PartNumber=1,
        Body=b"part",
        ChecksumSHA256=checksum_b64("SHA256", b"other"),
    )
    assert (code, status) == ("BadDigest", 400)
    assert s3.list_parts(Bucket=bucket, Key="mp", UploadId=uid).get("Parts", []) == []


def test_multipart_composite_checksum(gateway, bucket):
    s3 = gateway.client()
    parts = [pattern(5 * MiB, seed=20), pattern(1234, seed=21)]
    uid = s3.create_multipart_upload(Bucket=bucket, Key="cmp", ChecksumAlgorithm="SHA256")["UploadId"]
    done = []
    for i, p in enumerate(parts, start=1):
        r = s3.upload_part(Bucket=bucket, Key="cmp", UploadId=uid, PartNumber=i, Body=p, ChecksumAlgorithm="SHA256")
        assert r["ChecksumSHA256"] == checksum_b64("SHA256", p)
        done.append({"PartNumber": i, "ETag": r["ETag"], "ChecksumSHA256": r["ChecksumSHA256"]})
    listed = s3.list_parts(Bucket=bucket, Key="cmp", UploadId=uid)["Parts"]
    assert [p.get("ChecksumSHA256") for p in listed] == [d["ChecksumSHA256"] for d in done]
    resp = s3.complete_multipart_upload(Bucket=bucket, Key="cmp", UploadId=uid, MultipartUpload={"Parts": done})
    composite = hashlib.sha256(b"".join(hashlib.sha256(p).digest() for p in parts)).digest()
    want = base64.b64encode(composite).decode() + "-2"
    assert resp.get("ChecksumSHA256") == want
    head = s3.head_object(Bucket=bucket, Key="cmp", ChecksumMode="ENABLED")
    assert head.get("ChecksumSHA256") == want
    assert s3.get_object(Bucket=bucket, Key="cmp")["Body"].read() == b"".join(parts)


def test_upload_part_checksum_in_trailer(gateway, bucket):
    s3 = gateway.client()
    force_trailer(s3)
    rec = Recorder(s3)
    uid = s3.create_multipart_upload(Bucket=bucket, Key="tp", ChecksumAlgorithm="CRC32")["UploadId"]
    part = pattern(5 * MiB + 9, seed=30)
    r = s3.upload_part(Bucket=bucket, Key="tp", UploadId=uid, PartNumber=1, Body=part, ChecksumAlgorithm="CRC32")
    assert h(rec.last["x-amz-trailer"]) == "x-amz-checksum-crc32"
    assert r["ChecksumCRC32"] == checksum_b64("CRC32", part)
    assert r["ETag"] == f'"{hashlib.md5(part).hexdigest()}"'
    listed = s3.list_parts(Bucket=bucket, Key="tp", UploadId=uid)["Parts"]
    assert [(p["Size"], p.get("ChecksumCRC32")) for p in listed] == [(len(part), checksum_b64("CRC32", part))]
    s3.complete_multipart_upload(
        Bucket=bucket,
        Key="tp",
        UploadId=uid,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": r["ETag"], "ChecksumCRC32": r["ChecksumCRC32"]}]},
    )
    assert s3.get_object(Bucket=bucket, Key="tp")["Body"].read() == part

"""Object operations through boto3: PUT/GET/HEAD, headers and metadata,
ETags and CIDs, ranges, conditional requests, delete and copy."""

import datetime as dt
import gzip

import pytest

from support import MiB, cid_header, exists, md5_hex, pattern, s3_error


@pytest.fixture(scope="module")
def legacy(s3):
    """A bucket the config gives the kubo-legacy profile."""
    s3.create_bucket(Bucket="legacy")
    return "legacy"


def test_put_get_head_with_headers_and_metadata(s3, bucket):
    body = gzip.compress(b"hello, cairn\n" * 100)
    expires = dt.datetime(2031, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
    put = s3.put_object(
        Bucket=bucket,
        Key="doc.txt",
        Body=body,
        ContentType="text/plain; charset=utf-8",
        ContentEncoding="gzip",
        ContentDisposition='attachment; filename="doc.txt"',
        ContentLanguage="en-GB",
        CacheControl="max-age=3600, public",
        Expires=expires,
        Metadata={"color": "blue", "Mixed-Case": "Some Value", "empty": ""},
    )
    assert put["ETag"] == f'"{md5_hex(body)}"'

    for resp in (s3.head_object(Bucket=bucket, Key="doc.txt"), s3.get_object(Bucket=bucket, Key="doc.txt")):
        assert resp["ContentType"] == "text/plain; charset=utf-8"
        assert resp["ContentEncoding"] == "gzip"
        assert resp["ContentDisposition"] == 'attachment; filename="doc.txt"'
        assert resp["ContentLanguage"] == "en-GB"
        assert resp["CacheControl"] == "max-age=3600, public"
        assert resp.get("Expires") == expires or resp.get("ExpiresString", "").startswith("Thu, 02 Jan 2031 03:04:05")
        assert resp["Metadata"] == {"color": "blue", "mixed-case": "Some Value", "empty": ""}
        assert resp["ETag"] == put["ETag"]
        assert resp["ContentLength"] == len(body)
        assert resp["ResponseMetadata"]["HTTPHeaders"]["last-modified"].endswith("GMT")
        assert cid_header(resp) == cid_header(put)
    got = s3.get_object(Bucket=bucket, Key="doc.txt")["Body"].read()
    assert got == body, "the stored bytes come back untouched (no transcoding of gzip)"
    assert gzip.decompress(got) == b"hello, cairn\n" * 100


def test_no_metadata_when_none_given(s3, bucket):
    s3.put_object(Bucket=bucket, Key="plain", Body=b"x")
    head = s3.head_object(Bucket=bucket, Key="plain")
    assert head.get("Metadata", {}) == {}
    assert head["ContentLength"] == 1
    for field in ("ContentEncoding", "ContentDisposition", "ContentLanguage", "CacheControl", "Expires"):
        assert field not in head, field


def test_default_content_type_is_binary_octet_stream(s3, bucket):
    """S3 serves an object stored without Content-Type as binary/octet-stream."""
    s3.put_object(Bucket=bucket, Key="untyped", Body=b"x")
    assert s3.head_object(Bucket=bucket, Key="untyped").get("ContentType") == "binary/octet-stream"
    assert s3.get_object(Bucket=bucket, Key="untyped").get("ContentType") == "binary/octet-stream"


def test_key_length_limit(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k" * 1024, Body=b"max")
    assert s3.get_object(Bucket=bucket, Key="k" * 1024)["Body"].read() == b"max"
    code, status, _ = s3_error(s3.put_object, Bucket=bucket, Key="k" * 1025, Body=b"too long")
    assert (code, status) == ("KeyTooLongError", 400)
    # 1024 bytes, not characters.
    code, status, _ = s3_error(s3.put_object, Bucket=bucket, Key="é" * 513, Body=b"too long")
    assert code == "KeyTooLongError"


def test_dot_segments_are_literal_key_bytes(s3, bucket):
    s3.put_object(Bucket=bucket, Key="x/../y", Body=b"dots")
    s3.put_object(Bucket=bucket, Key="./z", Body=b"dot")
    assert not exists(s3, bucket, "y")
    assert not exists(s3, bucket, "z")
    assert s3.get_object(Bucket=bucket, Key="x/../y")["Body"].read() == b"dots"
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["./z", "x/../y"]


def test_overwrite_replaces_bytes_metadata_and_etag(s3, bucket):
    first = s3.put_object(Bucket=bucket, Key="k", Body=b"first", Metadata={"v": "1"}, ContentType="text/a")
    second = s3.put_object(Bucket=bucket, Key="k", Body=b"second!", Metadata={"w": "2"})
    assert first["ETag"] != second["ETag"]
    assert cid_header(first) != cid_header(second)
    got = s3.get_object(Bucket=bucket, Key="k")
    assert got["Body"].read() == b"second!"
    assert got["Metadata"] == {"w": "2"}
    assert got.get("ContentType") != "text/a"
    assert got["ETag"] == second["ETag"]


@pytest.mark.parametrize("size", [0, 11, 3 * MiB + 1], ids=["0B", "11B", "3MiB+1"])
@pytest.mark.parametrize("profile", ["default", "kubo-legacy"])
def test_etag_and_cid_match_local_hash(s3, request, cid, size, profile):
    """ETag is the MD5 of the bytes and x-cairn-cid is what `cairn add
    --only-hash` computes for them under the bucket's profile, on every
    response that carries it."""
    if profile == "default":
        b = request.getfixturevalue("bucket")
        want = cid(pattern(size, seed=size))
    else:
        b = request.getfixturevalue("legacy")
        want = cid(pattern(size, seed=size), "kubo-legacy")
    data = pattern(size, seed=size)
    key = f"obj-{size}"
    put = s3.put_object(Bucket=b, Key=key, Body=data)
    assert put["ETag"] == f'"{md5_hex(data)}"'
    assert cid_header(put) == want
    head = s3.head_object(Bucket=b, Key=key)
    assert head["ETag"] == put["ETag"] and head["ContentLength"] == size
    assert cid_header(head) == want
    get = s3.get_object(Bucket=b, Key=key)
    assert cid_header(get) == want
    assert get["Body"].read() == data


def test_profiles_give_different_cids(cid):
    """Sanity for the test above: the two profiles really differ."""
    for size in (0, 11, 3 * MiB + 1):
        data = pattern(size, seed=size)
        assert cid(data) != cid(data, "kubo-legacy")


def test_only_configured_bucket_gets_legacy_profile(s3, bucket, legacy, cid):
    data = b"same bytes, two buckets"
    a = s3.put_object(Bucket=bucket, Key="x", Body=data)
    b = s3.put_object(Bucket=legacy, Key="x", Body=data)
    assert cid_header(a) == cid(data)
    assert cid_header(b) == cid(data, "kubo-legacy")
    assert a["ETag"] == b["ETag"]


@pytest.fixture
def thousand(s3, bucket):
    data = pattern(1000, seed=7)
    s3.put_object(Bucket=bucket, Key="r", Body=data)
    return bucket, data


@pytest.mark.parametrize(
    "header,start,end",
    [
        ("bytes=0-9", 0, 9),
        ("bytes=100-199", 100, 199),
        ("bytes=-10", 990, 999),
        ("bytes=990-", 990, 999),
        ("bytes=995-5000", 995, 999),
        ("bytes=0-0", 0, 0),
    ],
)
def test_get_range(s3, thousand, header, start, end):
    bucket, data = thousand
    resp = s3.get_object(Bucket=bucket, Key="r", Range=header)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert resp["ContentRange"] == f"bytes {start}-{end}/1000"
    assert resp["ContentLength"] == end - start + 1
    assert resp["Body"].read() == data[start : end + 1]


@pytest.mark.parametrize("header", ["bytes=1000-1010", "bytes=5000-"])
def test_get_range_unsatisfiable(s3, thousand, header):
    bucket, _ = thousand
    code, status, err = s3_error(s3.get_object, Bucket=bucket, Key="r", Range=header)
    assert (code, status) == ("InvalidRange", 416)


def test_get_range_across_chunk_boundaries(s3, bucket):
    data = pattern(3 * MiB + 1, seed=3)
    s3.put_object(Bucket=bucket, Key="big", Body=data)
    for a, b in [(MiB - 10, MiB + 10), (256 * 1024 - 1, 256 * 1024), (1, 3 * MiB), (3 * MiB, 3 * MiB)]:
        resp = s3.get_object(Bucket=bucket, Key="big", Range=f"bytes={a}-{b}")
        assert resp["Body"].read() == data[a : b + 1], (a, b)
        assert resp["ContentRange"] == f"bytes {a}-{b}/{len(data)}"


def test_head_range(s3, thousand):
    bucket, _ = thousand
    head = s3.head_object(Bucket=bucket, Key="r", Range="bytes=10-19")
    assert head["ContentLength"] == 10


@pytest.fixture
def conditional(s3, bucket):
    s3.put_object(Bucket=bucket, Key="c", Body=b"conditional body")
    head = s3.head_object(Bucket=bucket, Key="c")
    return bucket, head["ETag"], head["LastModified"]


def test_if_match(s3, conditional):
    bucket, etag, _ = conditional
    assert s3.get_object(Bucket=bucket, Key="c", IfMatch=etag)["Body"].read() == b"conditional body"
    assert s3.get_object(Bucket=bucket, Key="c", IfMatch="*")["ResponseMetadata"]["HTTPStatusCode"] == 200
    code, status, _ = s3_error(s3.get_object, Bucket=bucket, Key="c", IfMatch='"0123456789abcdef0123456789abcdef"')
    assert (code, status) == ("PreconditionFailed", 412)
    code, status, _ = s3_error(s3.head_object, Bucket=bucket, Key="c", IfMatch='"0123456789abcdef0123456789abcdef"')
    assert status == 412


def test_if_none_match(s3, conditional):
    bucket, etag, _ = conditional
    code, status, _ = s3_error(s3.get_object, Bucket=bucket, Key="c", IfNoneMatch=etag)
    assert status == 304
    code, status, _ = s3_error(s3.head_object, Bucket=bucket, Key="c", IfNoneMatch=etag)
    assert status == 304
    resp = s3.get_object(Bucket=bucket, Key="c", IfNoneMatch='"0123456789abcdef0123456789abcdef"')
    assert resp["Body"].read() == b"conditional body"


def test_if_modified_since(s3, conditional):
    bucket, _, modified = conditional
    code, status, _ = s3_error(s3.get_object, Bucket=bucket, Key="c", IfModifiedSince=modified)
    assert status == 304
    code, status, _ = s3_error(s3.get_object, Bucket=bucket, Key="c", IfModifiedSince=modified + dt.timedelta(days=1))
    assert status == 304
    resp = s3.get_object(Bucket=bucket, Key="c", IfModifiedSince=modified - dt.timedelta(days=1))
    assert resp["Body"].read() == b"conditional body"


def test_if_unmodified_since(s3, conditional):
    bucket, _, modified = conditional
    code, status, _ = s3_error(s3.get_object, Bucket=bucket, Key="c", IfUnmodifiedSince=modified - dt.timedelta(days=1))
    assert (code, status) == ("PreconditionFailed", 412)
    resp = s3.get_object(Bucket=bucket, Key="c", IfUnmodifiedSince=modified + dt.timedelta(days=1))
    assert resp["Body"].read() == b"conditional body"
    resp = s3.get_object(Bucket=bucket, Key="c", IfUnmodifiedSince=modified)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_if_match_wins_over_if_unmodified_since(s3, conditional):
    """S3: If-Match true and If-Unmodified-Since false -> 200."""
    bucket, etag, modified = conditional
    resp = s3.get_object(Bucket=bucket, Key="c", IfMatch=etag, IfUnmodifiedSince=modified - dt.timedelta(days=1))
    assert resp["Body"].read() == b"conditional body"


def test_conditional_put_if_none_match_star(gateway, bucket):
    s3 = gateway.client()  # a refused body may close the connection
    s3.put_object(Bucket=bucket, Key="once", Body=b"first", IfNoneMatch="*")
    code, status, _ = s3_error(s3.put_object, Bucket=bucket, Key="once", Body=b"second", IfNoneMatch="*")
    assert (code, status) == ("PreconditionFailed", 412)
    assert gateway.client().get_object(Bucket=bucket, Key="once")["Body"].read() == b"first"


def test_response_header_overrides(s3, bucket):
    s3.put_object(
        Bucket=bucket,
        Key="o",
        Body=b"{}",
        ContentType="application/json",
        CacheControl="no-store",
        ContentLanguage="en",
    )
    expires = dt.datetime(2030, 5, 6, 7, 8, 9, tzinfo=dt.timezone.utc)
    resp = s3.get_object(
        Bucket=bucket,
        Key="o",
        ResponseContentType="text/csv",
        ResponseContentDisposition='attachment; filename="report.csv"',
        ResponseCacheControl="max-age=60",
        ResponseContentLanguage="fr",
        ResponseContentEncoding="identity",
        ResponseExpires=expires,
    )
    assert resp["ContentType"] == "text/csv"
    assert resp["ContentDisposition"] == 'attachment; filename="report.csv"'
    assert resp["CacheControl"] == "max-age=60"
    assert resp["ContentLanguage"] == "fr"
    assert resp["ContentEncoding"] == "identity"
    assert resp["ResponseMetadata"]["HTTPHeaders"]["expires"] == "Mon, 06 May 2030 07:08:09 GMT"
    assert resp["Body"].read() == b"{}"
    # The stored headers are unchanged.
    head = s3.head_object(Bucket=bucket, Key="o")
    assert head["ContentType"] == "application/json"
    assert head["CacheControl"] == "no-store"
    assert head["ContentLanguage"] == "en"
    assert "ContentDisposition" not in head


def test_missing_key(s3, bucket):
    code, status, _ = s3_error(s3.get_object, Bucket=bucket, Key="nope")
    assert (code, status) == ("NoSuchKey", 404)
    code, status, _ = s3_error(s3.head_object, Bucket=bucket, Key="nope")
    assert status == 404


def test_delete_object(s3, bucket):
    s3.put_object(Bucket=bucket, Key="d", Body=b"bye")
    resp = s3.delete_object(Bucket=bucket, Key="d")
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert not exists(s3, bucket, "d")
    code, status, _ = s3_error(s3.get_object, Bucket=bucket, Key="d")
    assert code == "NoSuchKey"
    # Deleting what is not there succeeds, as in S3.
    assert s3.delete_object(Bucket=bucket, Key="d")["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert s3.delete_object(Bucket=bucket, Key="never")["ResponseMetadata"]["HTTPStatusCode"] == 204


@pytest.mark.parametrize("quiet", [False, True], ids=["verbose", "quiet"])
def test_delete_objects(s3, bucket, quiet):
    for k in ("a", "b", "dir/c", "keep"):
        s3.put_object(Bucket=bucket, Key=k, Body=k.encode())
    resp = s3.delete_objects(
        Bucket=bucket,
        Delete={"Objects": [{"Key": "a"}, {"Key": "b"}, {"Key": "dir/c"}, {"Key": "never-existed"}], "Quiet": quiet},
    )
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert not resp.get("Errors"), resp.get("Errors")
    deleted = sorted(d["Key"] for d in resp.get("Deleted", []))
    if quiet:
        assert deleted == []
    else:
        assert deleted == ["a", "b", "dir/c", "never-existed"]
    listed = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert listed == ["keep"]


def test_copy_object_metadata_copy(s3, bucket, cid):
    data = pattern(300_000, seed=11)
    src = s3.put_object(
        Bucket=bucket,
        Key="src",
        Body=data,
        ContentType="text/x-src",
        Metadata={"origin": "src"},
        CacheControl="no-cache",
    )
    copy = s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "src"})
    assert copy["CopyObjectResult"]["ETag"] == src["ETag"]
    assert cid_header(copy) == cid(data) == cid_header(src)
    dst = s3.get_object(Bucket=bucket, Key="dst")
    assert dst["Body"].read() == data
    assert dst["ContentType"] == "text/x-src"
    assert dst["Metadata"] == {"origin": "src"}
    assert dst["CacheControl"] == "no-cache"
    assert dst["ETag"] == src["ETag"]
    assert cid_header(dst) == cid(data)
    # The source is untouched.
    assert s3.get_object(Bucket=bucket, Key="src")["Body"].read() == data


def test_copy_object_metadata_replace(s3, bucket, cid):
    data = b"replace me"
    src = s3.put_object(Bucket=bucket, Key="src", Body=data, ContentType="text/old", Metadata={"old": "1"})
    copy = s3.copy_object(
        Bucket=bucket,
        Key="dst",
        CopySource={"Bucket": bucket, "Key": "src"},
        MetadataDirective="REPLACE",
        ContentType="application/new",
        Metadata={"new": "2"},
    )
    assert cid_header(copy) == cid(data)
    dst = s3.head_object(Bucket=bucket, Key="dst")
    assert dst["ContentType"] == "application/new"
    assert dst["Metadata"] == {"new": "2"}
    assert dst["ETag"] == src["ETag"]
    assert cid_header(dst) == cid(data)
    src_head = s3.head_object(Bucket=bucket, Key="src")
    assert src_head["Metadata"] == {"old": "1"} and src_head["ContentType"] == "text/old"


def test_copy_onto_itself(s3, bucket):
    s3.put_object(Bucket=bucket, Key="self", Body=b"me", Metadata={"v": "1"})
    code, status, _ = s3_error(s3.copy_object, Bucket=bucket, Key="self", CopySource={"Bucket": bucket, "Key": "self"})
    assert (code, status) == ("InvalidRequest", 400)
    assert s3.head_object(Bucket=bucket, Key="self")["Metadata"] == {"v": "1"}
    # With REPLACE it is how metadata is changed in place.
    s3.copy_object(
        Bucket=bucket,
        Key="self",
        CopySource={"Bucket": bucket, "Key": "self"},
        MetadataDirective="REPLACE",
        Metadata={"v": "2"},
    )
    got = s3.get_object(Bucket=bucket, Key="self")
    assert got["Metadata"] == {"v": "2"}
    assert got["Body"].read() == b"me"


def test_copy_into_legacy_bucket_rehashes(s3, bucket, legacy, cid):
    data = pattern(2 * MiB + 5, seed=12)
    src = s3.put_object(Bucket=bucket, Key="src", Body=data)
    copy = s3.copy_object(Bucket=legacy, Key="copied", CopySource={"Bucket": bucket, "Key": "src"})
    assert cid_header(copy) == cid(data, "kubo-legacy")
    dst = s3.get_object(Bucket=legacy, Key="copied")
    assert dst["ETag"] == src["ETag"]
    assert cid_header(dst) == cid(data, "kubo-legacy")
    assert dst["Body"].read() == data


def test_copy_special_key_and_conditions(s3, bucket):
    key = "dir/with space/ünï+%&?#.txt"
    src = s3.put_object(Bucket=bucket, Key=key, Body=b"odd key")
    s3.copy_object(Bucket=bucket, Key="copy of odd", CopySource={"Bucket": bucket, "Key": key})
    assert s3.get_object(Bucket=bucket, Key="copy of odd")["Body"].read() == b"odd key"
    code, status, _ = s3_error(
        s3.copy_object,
        Bucket=bucket,
        Key="c2",
        CopySource={"Bucket": bucket, "Key": key},
        CopySourceIfMatch='"0123456789abcdef0123456789abcdef"',
    )
    assert (code, status) == ("PreconditionFailed", 412)
    assert not exists(s3, bucket, "c2")
    s3.copy_object(Bucket=bucket, Key="c3", CopySource={"Bucket": bucket, "Key": key}, CopySourceIfMatch=src["ETag"])
    assert exists(s3, bucket, "c3")
    code, status, _ = s3_error(s3.copy_object, Bucket=bucket, Key="c4", CopySource={"Bucket": bucket, "Key": "missing"})
    assert (code, status) == ("NoSuchKey", 404)


def test_key_and_key_slash_child_coexist(s3, bucket):
    s3.put_object(Bucket=bucket, Key="a", Body=b"file a")
    s3.put_object(Bucket=bucket, Key="a/b", Body=b"file a/b")
    s3.put_object(Bucket=bucket, Key="a/", Body=b"dir marker")
    assert s3.get_object(Bucket=bucket, Key="a")["Body"].read() == b"file a"
    assert s3.get_object(Bucket=bucket, Key="a/b")["Body"].read() == b"file a/b"
    assert s3.get_object(Bucket=bucket, Key="a/")["Body"].read() == b"dir marker"
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert keys == ["a", "a/", "a/b"]
    s3.delete_object(Bucket=bucket, Key="a")
    assert s3.get_object(Bucket=bucket, Key="a/b")["Body"].read() == b"file a/b"
    assert not exists(s3, bucket, "a")


@pytest.mark.parametrize(
    "key",
    [
        "with space",
        "ünïcødé/ключ/鍵",
        "plus+sign",
        "per%cent",
        "q?mark=1&x",
        "hash#frag",
        "a//double//slash",
        "tilde~star*",
        "trailing/",
        ".",
        "..x",
        "semi;colon,comma",
    ],
)
def test_special_keys_round_trip(s3, bucket, key):
    body = key.encode() * 3
    s3.put_object(Bucket=bucket, Key=key, Body=body)
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == body
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == [key]
    s3.delete_object(Bucket=bucket, Key=key)
    assert not exists(s3, bucket, key)

"""Multipart uploads through boto3."""

import io

import pytest
from boto3.s3.transfer import TransferConfig

from support import MiB, cid_header, exists, md5_hex, multipart_etag, pattern, s3_error


def upload(s3, bucket, key, parts, **create):
    """Uploads `parts` (list of bytes); returns (upload_id, completed parts)."""
    up = s3.create_multipart_upload(Bucket=bucket, Key=key, **create)
    done = []
    for i, p in enumerate(parts, start=1):
        r = s3.upload_part(Bucket=bucket, Key=key, UploadId=up["UploadId"], PartNumber=i, Body=p)
        assert r["ETag"] == f'"{md5_hex(p)}"'
        done.append({"PartNumber": i, "ETag": r["ETag"]})
    return up["UploadId"], done


def complete(s3, bucket, key, upload_id, parts):
    return s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts})


@pytest.mark.parametrize(
    "sizes",
    [[5 * MiB, 5 * MiB, 1 * MiB], [5 * MiB + 123, 5 * MiB + 7, 1]],
    ids=["5M+5M+1M", "odd-sizes"],
)
def test_multipart_etag_and_cid(s3, bucket, cid, sizes):
    parts = [pattern(n, seed=i + 100) for i, n in enumerate(sizes)]
    whole = b"".join(parts)
    upload_id, done = upload(s3, bucket, "mp", parts, ContentType="video/x-test", Metadata={"m": "1"})
    resp = complete(s3, bucket, "mp", upload_id, done)
    assert resp["ETag"] == multipart_etag(parts)
    assert cid_header(resp) == cid(whole)

    got = s3.get_object(Bucket=bucket, Key="mp")
    assert got["ETag"] == multipart_etag(parts)
    assert got["ContentLength"] == len(whole)
    assert got["ContentType"] == "video/x-test"
    assert got["Metadata"] == {"m": "1"}
    assert cid_header(got) == cid(whole)
    assert got["Body"].read() == whole
    head = s3.head_object(Bucket=bucket, Key="mp")
    assert head.get("PartsCount") in (None, len(parts))
    assert cid_header(head) == cid(whole)

    # A single PUT of the same bytes gets the same CID (not the same ETag).
    single = s3.put_object(Bucket=bucket, Key="single", Body=whole)
    assert cid_header(single) == cid_header(resp)
    assert single["ETag"] == f'"{md5_hex(whole)}"'
    # No upload left behind.
    assert not s3.list_multipart_uploads(Bucket=bucket).get("Uploads")


def test_multipart_cid_in_legacy_bucket(s3, cid):
    s3.create_bucket(Bucket="legacy-mp")
    parts = [pattern(5 * MiB + 1, seed=1), pattern(300_000, seed=2)]
    upload_id, done = upload(s3, "legacy-mp", "mp", parts)
    resp = complete(s3, "legacy-mp", "mp", upload_id, done)
    assert cid_header(resp) == cid(b"".join(parts), "kubo-legacy")


def test_single_part_upload(s3, bucket, cid):
    part = b"tiny single part"
    upload_id, done = upload(s3, bucket, "one", [part])
    resp = complete(s3, bucket, "one", upload_id, done)
    assert resp["ETag"] == multipart_etag([part])
    assert cid_header(resp) == cid(part)
    assert s3.get_object(Bucket=bucket, Key="one")["Body"].read() == part


def test_complete_twice_gives_same_result(s3, bucket):
    parts = [pattern(5 * MiB, seed=5), b"tail"]
    upload_id, done = upload(s3, bucket, "twice", parts)
    first = complete(s3, bucket, "twice", upload_id, done)
    second = complete(s3, bucket, "twice", upload_id, done)
    assert second["ETag"] == first["ETag"] == multipart_etag(parts)
    assert cid_header(second) == cid_header(first)
    assert s3.get_object(Bucket=bucket, Key="twice")["Body"].read() == b"".join(parts)


def test_reupload_part_replaces_it(s3, bucket):
    up = s3.create_multipart_upload(Bucket=bucket, Key="re")
    uid = up["UploadId"]
    s3.upload_part(Bucket=bucket, Key="re", UploadId=uid, PartNumber=1, Body=b"old part")
    r = s3.upload_part(Bucket=bucket, Key="re", UploadId=uid, PartNumber=1, Body=b"new part!")
    parts = s3.list_parts(Bucket=bucket, Key="re", UploadId=uid)["Parts"]
    assert [(p["PartNumber"], p["Size"], p["ETag"]) for p in parts] == [(1, 9, r["ETag"])]
    complete(s3, bucket, "re", uid, [{"PartNumber": 1, "ETag": r["ETag"]}])
    assert s3.get_object(Bucket=bucket, Key="re")["Body"].read() == b"new part!"


def test_abort_then_no_such_upload(gateway, s3, bucket):
    upload_id, done = upload(s3, bucket, "ab", [b"part one", b"part two"])
    resp = s3.abort_multipart_upload(Bucket=bucket, Key="ab", UploadId=upload_id)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 204
    code, status, _ = s3_error(s3.list_parts, Bucket=bucket, Key="ab", UploadId=upload_id)
    assert (code, status) == ("NoSuchUpload", 404)
    code, status, _ = s3_error(complete, s3, bucket, "ab", upload_id, done)
    assert (code, status) == ("NoSuchUpload", 404)
    code, status, _ = s3_error(
        gateway.client().upload_part, Bucket=bucket, Key="ab", UploadId=upload_id, PartNumber=3, Body=b"late"
    )
    assert (code, status) == ("NoSuchUpload", 404)
    assert not exists(s3, bucket, "ab")
    assert not s3.list_multipart_uploads(Bucket=bucket).get("Uploads")


def test_upload_id_of_another_key(s3, bucket):
    upload_id, done = upload(s3, bucket, "mine", [b"x"])
    code, status, _ = s3_error(s3.list_parts, Bucket=bucket, Key="not-mine", UploadId=upload_id)
    assert code == "NoSuchUpload"
    code, status, _ = s3_error(complete, s3, bucket, "not-mine", upload_id, done)
    assert code == "NoSuchUpload"
    assert not exists(s3, bucket, "not-mine")
    code, status, _ = s3_error(s3.list_parts, Bucket=bucket, Key="mine", UploadId="bogus-upload-id")
    assert code == "NoSuchUpload"


def test_list_parts(s3, bucket):
    parts = [b"a" * 10, b"b" * 20, b"c" * 30]
    upload_id, done = upload(s3, bucket, "lp", parts)
    resp = s3.list_parts(Bucket=bucket, Key="lp", UploadId=upload_id)
    assert resp["UploadId"] == upload_id
    assert resp["IsTruncated"] is False
    assert [(p["PartNumber"], p["Size"], p["ETag"]) for p in resp["Parts"]] == [
        (1, 10, done[0]["ETag"]),
        (2, 20, done[1]["ETag"]),
        (3, 30, done[2]["ETag"]),
    ]
    page = s3.list_parts(Bucket=bucket, Key="lp", UploadId=upload_id, MaxParts=2)
    assert [p["PartNumber"] for p in page["Parts"]] == [1, 2]
    assert page["IsTruncated"] is True
    assert page["NextPartNumberMarker"] == 2
    rest = s3.list_parts(Bucket=bucket, Key="lp", UploadId=upload_id, PartNumberMarker=page["NextPartNumberMarker"])
    assert [p["PartNumber"] for p in rest["Parts"]] == [3]
    assert rest["IsTruncated"] is False


def test_list_multipart_uploads(s3, bucket):
    ids = {}
    for key in ("logs/a", "logs/b", "other"):
        ids[key] = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    resp = s3.list_multipart_uploads(Bucket=bucket)
    assert [(u["Key"], u["UploadId"]) for u in resp["Uploads"]] == [(k, ids[k]) for k in ("logs/a", "logs/b", "other")]
    resp = s3.list_multipart_uploads(Bucket=bucket, Prefix="logs/")
    assert [u["Key"] for u in resp["Uploads"]] == ["logs/a", "logs/b"]
    first = s3.list_multipart_uploads(Bucket=bucket, MaxUploads=1)
    assert [u["Key"] for u in first["Uploads"]] == ["logs/a"]
    assert first["IsTruncated"] is True
    nxt = s3.list_multipart_uploads(
        Bucket=bucket, MaxUploads=5, KeyMarker=first["NextKeyMarker"], UploadIdMarker=first["NextUploadIdMarker"]
    )
    assert [u["Key"] for u in nxt["Uploads"]] == ["logs/b", "other"]
    # Completed and aborted uploads drop out.
    s3.upload_part(Bucket=bucket, Key="logs/a", UploadId=ids["logs/a"], PartNumber=1, Body=b"x")
    etag = s3.list_parts(Bucket=bucket, Key="logs/a", UploadId=ids["logs/a"])["Parts"][0]["ETag"]
    complete(s3, bucket, "logs/a", ids["logs/a"], [{"PartNumber": 1, "ETag": etag}])
    s3.abort_multipart_upload(Bucket=bucket, Key="other", UploadId=ids["other"])
    resp = s3.list_multipart_uploads(Bucket=bucket)
    assert [u["Key"] for u in resp["Uploads"]] == ["logs/b"]


def test_upload_part_copy(s3, bucket, cid):
    src = pattern(6 * MiB + 11, seed=42)
    s3.put_object(Bucket=bucket, Key="src", Body=src)
    up = s3.create_multipart_upload(Bucket=bucket, Key="assembled")
    uid = up["UploadId"]
    whole = s3.upload_part_copy(
        Bucket=bucket, Key="assembled", UploadId=uid, PartNumber=1, CopySource={"Bucket": bucket, "Key": "src"}
    )
    assert whole["CopyPartResult"]["ETag"] == f'"{md5_hex(src)}"'
    lo, hi = 1000, 1000 + 3 * MiB - 1
    ranged = s3.upload_part_copy(
        Bucket=bucket,
        Key="assembled",
        UploadId=uid,
        PartNumber=2,
        CopySource={"Bucket": bucket, "Key": "src"},
        CopySourceRange=f"bytes={lo}-{hi}",
    )
    piece = src[lo : hi + 1]
    assert ranged["CopyPartResult"]["ETag"] == f'"{md5_hex(piece)}"'
    tail = s3.upload_part(Bucket=bucket, Key="assembled", UploadId=uid, PartNumber=3, Body=b"tail")
    parts = [
        {"PartNumber": 1, "ETag": whole["CopyPartResult"]["ETag"]},
        {"PartNumber": 2, "ETag": ranged["CopyPartResult"]["ETag"]},
        {"PartNumber": 3, "ETag": tail["ETag"]},
    ]
    # Part 2 is under 5 MiB but not last: first show that is refused...
    code, status, _ = s3_error(complete, s3, bucket, "assembled", uid, parts)
    assert code == "EntityTooSmall"
    # ...then complete with parts 1 and 3 only, and with part 2 as the last.
    resp = complete(s3, bucket, "assembled", uid, [parts[0], parts[1]])
    data = src + piece
    assert resp["ETag"] == multipart_etag([src, piece])
    assert cid_header(resp) == cid(data)
    assert s3.get_object(Bucket=bucket, Key="assembled")["Body"].read() == data


def test_upload_part_copy_bad_range(s3, bucket):
    s3.put_object(Bucket=bucket, Key="src", Body=b"0123456789")
    uid = s3.create_multipart_upload(Bucket=bucket, Key="x")["UploadId"]
    code, status, _ = s3_error(
        s3.upload_part_copy,
        Bucket=bucket,
        Key="x",
        UploadId=uid,
        PartNumber=1,
        CopySource={"Bucket": bucket, "Key": "src"},
        CopySourceRange="bytes=5-10",
    )
    assert status in (400, 416), (code, status)
    assert code in ("InvalidRange", "InvalidArgument")


def test_entity_too_small(s3, bucket):
    parts = [b"x" * MiB, b"y" * MiB]
    upload_id, done = upload(s3, bucket, "small", parts)
    code, status, _ = s3_error(complete, s3, bucket, "small", upload_id, done)
    assert (code, status) == ("EntityTooSmall", 400)
    assert not exists(s3, bucket, "small")
    # The upload is still there to fix.
    assert len(s3.list_parts(Bucket=bucket, Key="small", UploadId=upload_id)["Parts"]) == 2


def test_invalid_part_wrong_etag(s3, bucket):
    upload_id, done = upload(s3, bucket, "ip", [b"only part"])
    code, status, _ = s3_error(
        complete, s3, bucket, "ip", upload_id, [{"PartNumber": 1, "ETag": '"0123456789abcdef0123456789abcdef"'}]
    )
    assert (code, status) == ("InvalidPart", 400)
    code, status, _ = s3_error(
        complete,
        s3,
        bucket,
        "ip",
        upload_id,
        [{"PartNumber": 1, "ETag": done[0]["ETag"]}, {"PartNumber": 2, "ETag": done[0]["ETag"]}],
    )
    assert (code, status) == ("InvalidPart", 400)
    assert not exists(s3, bucket, "ip")


def test_invalid_part_order(s3, bucket):
    parts = [pattern(5 * MiB, seed=9), pattern(5 * MiB, seed=10)]
    upload_id, done = upload(s3, bucket, "order", parts)
    code, status, _ = s3_error(complete, s3, bucket, "order", upload_id, [done[1], done[0]])
    assert (code, status) == ("InvalidPartOrder", 400)
    assert not exists(s3, bucket, "order")


def test_transfer_manager_round_trip(s3, bucket, cid):
    """boto3's managed transfer: multipart with its default checksums, then
    a ranged, threaded download."""
    data = pattern(13 * MiB + 17, seed=77)
    cfg = TransferConfig(multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB, max_concurrency=3)
    s3.upload_fileobj(io.BytesIO(data), bucket, "managed", Config=cfg)
    head = s3.head_object(Bucket=bucket, Key="managed")
    assert head["ContentLength"] == len(data)
    assert head["ETag"].endswith('-3"')
    assert cid_header(head) == cid(data)
    out = io.BytesIO()
    s3.download_fileobj(bucket, "managed", out, Config=cfg)
    assert out.getvalue() == data

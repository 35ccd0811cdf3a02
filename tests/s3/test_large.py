"""Objects of many GiB stream through the gateway with bounded memory.

Runs only with CAIRN_FULL=1 (`.ci/full`): a 4 GiB file PUT in one request,
then a streamed GET, after which the gateway's peak RSS (VmHWM) must be far
below the object size; the CID must equal `cairn add --only-hash` of the
same file.
"""

from __future__ import annotations

import hashlib
import os
import subprocess

import pytest

import support

pytestmark = pytest.mark.skipif(os.environ.get("CAIRN_FULL") != "1", reason="CAIRN_FULL=1 runs the multi-GiB tests")

SIZE = 4 << 30
PIECE = 1 << 20
RSS_BOUND = 512 << 20


def piece(i: int) -> bytes:
    return hashlib.sha256(i.to_bytes(8, "little")).digest() * (PIECE // 32)


def peak_rss(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def test_four_gib_object_streams_with_bounded_memory(make_gateway, cairn_bin, tmp_path):
    import boto3
    from botocore.config import Config

    path = tmp_path / "big.bin"
    md5 = hashlib.md5()
    with open(path, "wb") as f:
        for i in range(SIZE // PIECE):
            p = piece(i)
            md5.update(p)
            f.write(p)
    want_md5 = md5.hexdigest()
    local = subprocess.run([str(cairn_bin), "add", str(path), "--only-hash"], capture_output=True, text=True, check=True)

    gw = make_gateway()
    s3 = boto3.client(
        "s3",
        endpoint_url=gw.endpoint,
        aws_access_key_id=support.ACCESS_KEY,
        aws_secret_access_key=support.SECRET_KEY,
        config=Config(
            region_name=support.REGION,
            signature_version="s3v4",
            s3={"addressing_style": "path"},
            retries={"total_max_attempts": 1},
            request_checksum_calculation="when_required",
            read_timeout=600,
        ),
    )
    s3.create_bucket(Bucket="large")
    with open(path, "rb") as f:
        put = s3.put_object(Bucket="large", Key="big", Body=f, ContentLength=SIZE)
    assert put["ETag"].strip('"') == want_md5
    assert support.cid_header(put) == local.stdout.strip()

    got = s3.get_object(Bucket="large", Key="big")
    md5 = hashlib.md5()
    total = 0
    for chunk in got["Body"].iter_chunks(PIECE):
        md5.update(chunk)
        total += len(chunk)
    assert total == SIZE
    assert md5.hexdigest() == want_md5
    rss = peak_rss(gw.proc.pid)
    assert 0 < rss < RSS_BOUND, f"gateway peak RSS {rss >> 20} MiB for a {SIZE >> 30} GiB object"

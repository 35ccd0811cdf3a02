"""Crash safety with real processes: kill -9 mid-multipart, mid-PUT and
mid-complete, restart on the same data dir, and check that nothing partial
shows and everything acknowledged before is intact. Also clean shutdown and
the data-dir lock."""

import http.client
import subprocess
import threading
import time

import pytest

import support

from support import MiB, cid_header, exists, md5_hex, multipart_etag, pattern, s3_error, sign

BUCKET = "crash"


def seed(s3, cid):
    """Objects acknowledged before the crash: a single PUT and a multipart one."""
    s3.create_bucket(Bucket=BUCKET)
    acked = {}
    single = pattern(3 * MiB + 1, seed=301)
    r = s3.put_object(Bucket=BUCKET, Key="keep/single", Body=single, Metadata={"k": "v"})
    assert cid_header(r) == cid(single)
    acked["keep/single"] = (single, r["ETag"], cid_header(r))
    parts = [pattern(5 * MiB, seed=302), pattern(777, seed=303)]
    uid = s3.create_multipart_upload(Bucket=BUCKET, Key="keep/multi")["UploadId"]
    done = [
        {
            "PartNumber": i,
            "ETag": s3.upload_part(Bucket=BUCKET, Key="keep/multi", UploadId=uid, PartNumber=i, Body=p)["ETag"],
        }
        for i, p in enumerate(parts, start=1)
    ]
    r = s3.complete_multipart_upload(Bucket=BUCKET, Key="keep/multi", UploadId=uid, MultipartUpload={"Parts": done})
    acked["keep/multi"] = (b"".join(parts), r["ETag"], cid_header(r))
    small = b"small and old"
    r = s3.put_object(Bucket=BUCKET, Key="keep/overwritten", Body=small)
    acked["keep/overwritten"] = (small, r["ETag"], cid_header(r))
    return acked


def check_intact(s3, acked, cid):
    for key, (data, etag, object_cid) in acked.items():
        got = s3.get_object(Bucket=BUCKET, Key=key)
        body = got["Body"].read()
        assert body == data, f"{key}: {len(body)} bytes back, {len(data)} stored"
        assert got["ETag"] == etag, key
        assert cid_header(got) == object_cid == cid(data), key


def listed(s3):
    keys = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
        keys += [o["Key"] for o in page.get("Contents", [])]
    return keys


def test_kill9_after_some_multipart_parts(make_gateway, cid):
    gw = make_gateway()
    s3 = gw.client()
    acked = seed(s3, cid)
    parts = [pattern(5 * MiB, seed=310), pattern(5 * MiB, seed=311)]
    uid = s3.create_multipart_upload(Bucket=BUCKET, Key="interrupted/mp")["UploadId"]
    etags = [
        s3.upload_part(Bucket=BUCKET, Key="interrupted/mp", UploadId=uid, PartNumber=i, Body=p)["ETag"]
        for i, p in enumerate(parts, start=1)
    ]
    gw.kill()
    gw.start()
    s3 = gw.client()
    assert listed(s3) == sorted(acked)
    assert not exists(s3, BUCKET, "interrupted/mp")
    check_intact(s3, acked, cid)

    uploads = s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", [])
    print(f"upload after restart: {'kept' if uploads else 'dropped'}")
    if uploads:
        # The upload survived the crash: its parts must be whole and usable.
        assert [(u["Key"], u["UploadId"]) for u in uploads] == [("interrupted/mp", uid)]
        got = s3.list_parts(Bucket=BUCKET, Key="interrupted/mp", UploadId=uid)["Parts"]
        assert [(p["PartNumber"], p["Size"], p["ETag"]) for p in got] == [
            (1, 5 * MiB, etags[0]),
            (2, 5 * MiB, etags[1]),
        ]
        tail = s3.upload_part(Bucket=BUCKET, Key="interrupted/mp", UploadId=uid, PartNumber=3, Body=b"tail")
        done = [{"PartNumber": i + 1, "ETag": e} for i, e in enumerate(etags + [tail["ETag"]])]
        r = s3.complete_multipart_upload(
            Bucket=BUCKET, Key="interrupted/mp", UploadId=uid, MultipartUpload={"Parts": done}
        )
        whole = b"".join(parts) + b"tail"
        assert r["ETag"] == multipart_etag(parts + [b"tail"])
        assert cid_header(r) == cid(whole)
        assert s3.get_object(Bucket=BUCKET, Key="interrupted/mp")["Body"].read() == whole
    else:
        code, _, _ = s3_error(
            gw.client().upload_part, Bucket=BUCKET, Key="interrupted/mp", UploadId=uid, PartNumber=3, Body=b"x"
        )
        assert code == "NoSuchUpload"


class SlowPut(threading.Thread):
    """A PUT of `total` bytes whose body is a generator, sent slowly enough
    that a kill lands mid-body. Sets `halfway` once `mark` bytes are out."""

    def __init__(self, port, key, total=200 * MiB, mark=24 * MiB, chunk=256 * 1024):
        super().__init__(daemon=True)
        self.port, self.key, self.total, self.mark, self.chunk = port, key, total, mark, chunk
        self.sent = 0
        self.halfway = threading.Event()
        self.outcome = None

    def body(self):
        block = pattern(self.chunk, seed=999)
        while self.sent < self.total:
            yield block
            self.sent += len(block)
            if self.sent >= self.mark:
                self.halfway.set()
                time.sleep(0.005)

    def run(self):
        path = f"/{BUCKET}/{self.key}"
        headers = sign(
            "PUT",
            f"http://127.0.0.1:{self.port}{path}",
            {"content-length": str(self.total)},
            payload_hash="UNSIGNED-PAYLOAD",
        )
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            conn.request("PUT", path, body=self.body(), headers=headers)
            self.outcome = conn.getresponse().status
        except OSError as e:
            self.outcome = e
        finally:
            self.halfway.set()
            conn.close()


def test_kill9_during_large_puts(make_gateway, cid):
    gw = make_gateway()
    s3 = gw.client()
    acked = seed(s3, cid)
    puts = [SlowPut(gw.s3_port, "interrupted/big-new"), SlowPut(gw.s3_port, "keep/overwritten")]
    for p in puts:
        p.start()
    for p in puts:
        assert p.halfway.wait(60), "the PUT never got going"
    assert all(p.sent < p.total for p in puts)
    gw.kill()
    print("killed with", [p.sent // MiB for p in puts], "MiB sent")
    for p in puts:
        p.join(30)
        assert not isinstance(p.outcome, int), f"a 200 MiB PUT finished ({p.outcome}) before the kill"
    gw.start()
    s3 = gw.client()
    assert listed(s3) == sorted(acked)
    assert not exists(s3, BUCKET, "interrupted/big-new")
    check_intact(s3, acked, cid)
    # The store still takes writes.
    s3.put_object(Bucket=BUCKET, Key="after", Body=b"after the crash")
    assert s3.get_object(Bucket=BUCKET, Key="after")["Body"].read() == b"after the crash"


@pytest.mark.parametrize("delay", [0.0, 0.05, 0.25])
def test_kill9_during_complete_is_all_or_nothing(make_gateway, cid, delay):
    gw = make_gateway()
    s3 = gw.client()
    acked = seed(s3, cid)
    parts = [pattern(5 * MiB, seed=320 + i) for i in range(3)]
    uid = s3.create_multipart_upload(Bucket=BUCKET, Key="racing")["UploadId"]
    done = [
        {
            "PartNumber": i,
            "ETag": s3.upload_part(Bucket=BUCKET, Key="racing", UploadId=uid, PartNumber=i, Body=p)["ETag"],
        }
        for i, p in enumerate(parts, start=1)
    ]
    result = {}

    def complete():
        try:
            result["ok"] = s3.complete_multipart_upload(
                Bucket=BUCKET, Key="racing", UploadId=uid, MultipartUpload={"Parts": done}
            )
        except Exception as e:  # noqa: BLE001
            result["err"] = e

    t = threading.Thread(target=complete)
    t.start()
    time.sleep(delay)
    gw.kill()
    t.join(30)
    gw.start()
    s3 = gw.client()
    whole = b"".join(parts)
    print(f"complete before kill -9 after {delay}s: {'acknowledged' if 'ok' in result else result.get('err')!r}")
    if "ok" in result:
        assert exists(s3, BUCKET, "racing"), "an acknowledged complete was lost"
    if exists(s3, BUCKET, "racing"):
        got = s3.get_object(Bucket=BUCKET, Key="racing")
        assert got["ETag"] == multipart_etag(parts)
        assert cid_header(got) == cid(whole)
        assert got["Body"].read() == whole
        assert sorted(listed(s3)) == sorted([*acked, "racing"])
    else:
        assert listed(s3) == sorted(acked)
        # Not completed: completing now must work.
        r = s3.complete_multipart_upload(Bucket=BUCKET, Key="racing", UploadId=uid, MultipartUpload={"Parts": done})
        assert cid_header(r) == cid(whole)
        assert s3.get_object(Bucket=BUCKET, Key="racing")["Body"].read() == whole
    check_intact(s3, acked, cid)


def test_sigterm_stops_cleanly_and_data_persists(make_gateway):
    gw = make_gateway()
    s3 = gw.client()
    s3.create_bucket(Bucket=BUCKET)
    r = s3.put_object(Bucket=BUCKET, Key="durable", Body=b"survives a restart")
    started = time.monotonic()
    code = gw.stop(timeout=15)
    assert code == 0, gw.log()[-3000:]
    assert time.monotonic() - started < 10
    assert "cairn gateway stopped" in gw.log()
    gw.start()
    got = gw.client().get_object(Bucket=BUCKET, Key="durable")
    assert got["Body"].read() == b"survives a restart"
    assert got["ETag"] == r["ETag"] == f'"{md5_hex(b"survives a restart")}"'


def test_second_gateway_on_same_data_dir_is_refused(make_gateway, cairn_bin):
    gw = make_gateway()
    from support import Gateway

    other = Gateway(cairn_bin, gw.workdir / "other")
    other.data_dir = gw.data_dir
    with pytest.raises(RuntimeError) as info:
        other.start(timeout=15)
    assert "in use" in str(info.value), str(info.value)[-2000:]
    # The first one is unharmed.
    assert gw.running
    gw.client().list_buckets()
    # `cairn add` (without --only-hash) on the held data dir goes through the
    # running gateway instead of failing on its lock.
    f = gw.workdir / "f"
    f.write_bytes(b"x")
    out = subprocess.run(
        [str(cairn_bin), "--config", str(gw.config_path), "add", str(f), "--data-dir", str(gw.data_dir)],
        capture_output=True,
        timeout=30,
    )
    assert out.returncode == 0, out.stderr
    assert b"lock" not in out.stderr.lower()
    assert out.stdout.decode().strip() == support.cid_of(cairn_bin, b"x")

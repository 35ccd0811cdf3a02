"""Readers racing an overwriting writer see whole objects only."""

import hashlib
import threading
import time

from support import MiB, cid_header

SIZE = 4 * MiB
A = b"a" * SIZE
B = b"b" * SIZE


def test_readers_never_see_a_mix_during_overwrites(gateway, bucket, cid):
    writer_client = gateway.client()
    writer_client.put_object(Bucket=bucket, Key="flip", Body=A)
    versions = {
        hashlib.md5(A).hexdigest(): (A, cid(A)),
        hashlib.md5(B).hexdigest(): (B, cid(B)),
    }
    stop = threading.Event()
    problems = []
    reads = []
    writes = []

    def writer():
        try:
            for i in range(20):
                body = B if i % 2 == 0 else A
                r = writer_client.put_object(Bucket=bucket, Key="flip", Body=body)
                assert r["ETag"] == f'"{hashlib.md5(body).hexdigest()}"'
                writes.append(i)
        except Exception as e:  # noqa: BLE001
            problems.append(f"writer: {e!r}")
        finally:
            stop.set()

    def reader(n):
        client = gateway.client()
        seen = 0
        try:
            while not stop.is_set() or seen == 0:
                resp = client.get_object(Bucket=bucket, Key="flip")
                body = resp["Body"].read()
                etag = resp["ETag"].strip('"')
                seen += 1
                if etag not in versions:
                    problems.append(f"reader {n}: unknown ETag {etag}")
                    continue
                want, want_cid = versions[etag]
                if body != want:
                    kinds = {bytes([c]) for c in set(body)}
                    problems.append(
                        f"reader {n}: body of {len(body)} bytes made of {sorted(kinds)} does not match its ETag {etag}"
                    )
                if cid_header(resp) != want_cid:
                    problems.append(f"reader {n}: x-cairn-cid {cid_header(resp)} does not match ETag {etag}")
        except Exception as e:  # noqa: BLE001
            problems.append(f"reader {n}: {e!r}")
        reads.append(seen)

    threads = [threading.Thread(target=reader, args=(n,)) for n in range(4)]
    threads.append(threading.Thread(target=writer))
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "threads hung"
    assert not problems, "\n".join(problems[:20])
    assert len(writes) == 20
    assert sum(reads) >= 8, reads
    print(f"{sum(reads)} reads during 20 overwrites in {time.monotonic() - started:.1f}s")
    final = writer_client.get_object(Bucket=bucket, Key="flip")["Body"].read()
    assert final == A  # the last write (i = 19) was A


def test_concurrent_writers_to_distinct_keys(gateway, bucket):
    errors = []

    def put_many(n):
        c = gateway.client()
        try:
            for i in range(15):
                body = f"{n}:{i}".encode() * 1000
                c.put_object(Bucket=bucket, Key=f"w{n}/{i:02d}", Body=body)
        except Exception as e:  # noqa: BLE001
            errors.append(repr(e))

    threads = [threading.Thread(target=put_many, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    s3 = gateway.client()
    keys = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        keys += [o["Key"] for o in page.get("Contents", [])]
    assert keys == sorted(f"w{n}/{i:02d}" for n in range(6) for i in range(15))
    for n in range(6):
        assert s3.get_object(Bucket=bucket, Key=f"w{n}/07")["Body"].read() == f"{n}:7".encode() * 1000

"""The storage network end to end, as a user runs it: `cairn devnet` (one
validator, six `cairn-node` providers and the gateway, all real processes
on loopback), objects stored with boto3, their deals checked on the
ledger, the gateway restarted with a hot-cache limit of zero so its local
copies go, two providers killed, and every object read back byte for byte
through S3 (whole and by range), through `/ipfs/{cid}` as a CAR whose every
block is checked here and which `cairn car import` accepts, and with
`cairn get --ledger` from an empty data dir.

Objects: a few bytes, a few MiB, and one over 64 MiB, so it has several
segments (8 MiB sectors: 4 data shards of 8 MiB pieces hold 32 MiB). Binaries: $CAIRN_BIN (cairn) and,
beside it, cairn-validator and cairn-node (`cargo build --workspace`).

    python3 -m pytest tests/network -q
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "s3"))
import support  # noqa: E402

BIG = (64 << 20) + 12_345


def env():
    e = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CAIRN_"))}
    e["NO_COLOR"] = "1"
    e["CAIRN_LOG"] = "info"
    return e


class Devnet:
    def __init__(self, binary: Path, dir: Path):
        self.binary = binary
        self.dir = dir
        self.proc = None
        self.log = None

    def start(self, *extra: str):
        ep = self.dir / "endpoints.json"
        runs = len(list(self.dir.glob("devnet-*.out"))) if self.dir.exists() else 0
        self.dir.mkdir(parents=True, exist_ok=True)
        ep.unlink(missing_ok=True)
        self.log = self.dir / f"devnet-{runs}.out"
        any_port = "127.0.0.1:0"
        # Sealing is the proving tests' subject; here it would only compete
        # for the two cores with the transfers under test.
        cmd = [str(self.binary), "devnet", "--dir", str(self.dir), "--no-demo", "--no-seal",
               "--s3-addr", any_port, "--http-addr", any_port,
               "--ledger-port", "0", "--p2p-port", "0", "--metrics-port", "0", *extra]
        out = open(self.log, "w")
        self.proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env())
        deadline = time.time() + 600  # a fresh machine generates 8 MiB parameters first
        while not ep.exists():
            if self.proc.poll() is not None:
                raise AssertionError(f"devnet exited {self.proc.returncode}:\n{self.output()}")
            if time.time() > deadline:
                raise AssertionError(f"devnet not up in time:\n{self.output()}")
            time.sleep(0.3)
        self.endpoints = json.loads(ep.read_text())
        return self

    def output(self) -> str:
        return self.log.read_text() if self.log and self.log.exists() else ""

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("devnet did not stop on SIGTERM in 60 s")
        return self.proc.returncode if self.proc else None

    def s3(self):
        e = self.endpoints
        return support.make_client(e["s3"], e["access_key"], e["secret_key"])

    def ledger(self, path: str):
        with urllib.request.urlopen(self.endpoints["ledger"] + path, timeout=30) as r:
            return json.loads(r.read())

    def http(self, path: str) -> bytes:
        with urllib.request.urlopen(self.endpoints["http"] + path, timeout=300) as r:
            return r.read()

    def gateway_log(self) -> str:
        return (self.dir / "logs" / "gateway.log").read_text(errors="replace")


def node_pid(dir: Path, i: int) -> int:
    home = str(dir / "nodes" / str(i))
    for p in Path("/proc").iterdir():
        if not p.name.isdigit():
            continue
        try:
            args = (p / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if any(a.endswith(b"cairn-node") for a in args[:1]) and home.encode() in args:
            return int(p.name)
    raise AssertionError(f"no cairn-node process for {home}")


def uvarint(b: bytes, i: int):
    x = shift = 0
    while True:
        c = b[i]
        i += 1
        x |= (c & 0x7F) << shift
        if c < 0x80:
            return x, i
        shift += 7


def car_blocks(car: bytes):
    """(cid bytes, multihash code, digest, data) of each block, every
    sha2-256 block checked against its CID, and the header's bytes."""
    hlen, i = uvarint(car, 0)
    header = car[i:i + hlen]
    i += hlen
    blocks = []
    while i < len(car):
        flen, j = uvarint(car, i)
        end = j + flen
        start = j
        if car[j] == 0x12 and car[j + 1] == 0x20:  # CIDv0
            code, digest, j = 0x12, car[j + 2:j + 34], j + 34
        else:
            _version, j = uvarint(car, j)
            _codec, j = uvarint(car, j)
            code, j = uvarint(car, j)
            dlen, j = uvarint(car, j)
            digest, j = car[j:j + dlen], j + dlen
        data = car[j:end]
        if code == 0x12:
            assert hashlib.sha256(data).digest() == digest, f"block at {start} does not match its CID"
        blocks.append((car[start:j], code, digest, data))
        i = end
    return header, blocks


@pytest.fixture(scope="module")
def cairn_bin():
    return support.find_binary()


def test_devnet_places_evicts_and_reads_back_without_two_providers(cairn_bin, tmp_path):
    dn = Devnet(cairn_bin, tmp_path / "devnet").start()
    try:
        run(dn, cairn_bin, tmp_path)
    finally:
        code = dn.stop()
    assert code == 0, f"devnet exited {code}:\n{dn.output()}"
    assert "stopped; state kept in" in dn.output()


def run(dn: Devnet, cairn_bin: Path, tmp: Path):
    s3 = dn.s3()
    s3.create_bucket(Bucket="net")
    rng = random.Random(7)
    objects = {
        "tiny.txt": b"hello, cairn\n",
        "mid.bin": rng.randbytes((3 << 20) + 7),
        "big.bin": rng.randbytes(BIG),
    }
    cids = {}
    for key, body in objects.items():
        r = s3.put_object(Bucket="net", Key=key, Body=body)
        cids[key] = r["ResponseMetadata"]["HTTPHeaders"]["x-cairn-cid"]
        # Readable at once (S3 semantics), before any deal exists.
        assert s3.get_object(Bucket="net", Key=key)["Body"].read() == body

    # Placed in the background: a manifest and k+m deals per segment on the ledger.
    deadline = time.time() + 600
    for key, cid in cids.items():
        while True:
            manifests = dn.ledger(f"/manifests/{cid}")
            if manifests:
                break
            assert time.time() < deadline, f"{key} not placed:\n{dn.gateway_log()[-4000:]}"
            time.sleep(1)
        m = manifests[-1]
        assert (m["k"], m["m"]) == (4, 2)
        deals = dn.ledger(f"/deals?label={cid}")
        pieces = sum(len(s) for s in m["shards"])
        assert len(deals) == pieces, (key, len(deals), pieces)
        assert {d["state"] for d in deals} == {"Published"}
        assert len({d["provider"] for d in deals}) == 6, "one shard per provider"
        if key == "big.bin":
            assert len(m["shards"][0]) > 1, "an object over 64 MiB spans several segments"
        status = subprocess.run(
            [str(cairn_bin), "status", cid, "--json", "--ledger", dn.endpoints["ledger"]],
            capture_output=True, env=env(), check=True, text=True)
        st = json.loads(status.stdout)
        assert st["cid"] == cid and (st["k"], st["m"]) == (4, 2)
        assert [s["index"] for s in st["shards"]] == list(range(6))
        assert all(s["state"] == "published" and s["deal_id"] for s in st["shards"]), st

    # Restart with no hot cache: the gateway evicts every placed object.
    assert dn.stop() == 0, dn.output()
    dn.start("--hot-cache-bytes", "0")
    deadline = time.time() + 120
    while True:
        evicted = sum(
            int(line.split("evicted=")[1].split()[0])
            for line in dn.gateway_log().splitlines()
            if "hot copies evicted" in line
        )
        if evicted >= len(objects):
            break
        assert time.time() < deadline, dn.gateway_log()[-4000:]
        time.sleep(0.5)

    # Two providers gone.
    for i in (1, 4):
        os.kill(node_pid(dn.dir, i), signal.SIGKILL)
    s3 = dn.s3()
    for key, body in objects.items():
        cid = cids[key]
        got = s3.get_object(Bucket="net", Key=key)["Body"].read()
        assert got == body, f"{key}: S3 GET differs"
        if len(body) > 1 << 20:
            lo, hi = len(body) // 2, len(body) // 2 + 100_000
            part = s3.get_object(Bucket="net", Key=key, Range=f"bytes={lo}-{hi - 1}")["Body"].read()
            assert part == body[lo:hi], f"{key}: ranged GET differs"
        assert dn.http(f"/ipfs/{cid}") == body, f"{key}: /ipfs bytes differ"
        car = dn.http(f"/ipfs/{cid}?format=car")
        _header, blocks = car_blocks(car)
        assert blocks, key
        car_file = tmp / f"{key}.car"
        car_file.write_bytes(car)
        scratch = tmp / f"import-{key}"
        imp = subprocess.run([str(cairn_bin), "car", "import", str(car_file), "--data-dir", str(scratch)],
                             capture_output=True, env=env(), text=True)
        assert imp.returncode == 0, imp.stderr
        out = tmp / f"from-car-{key}"
        subprocess.run([str(cairn_bin), "get", cid, "-o", str(out), "--data-dir", str(scratch)],
                       capture_output=True, env=env(), check=True)
        assert out.read_bytes() == body, f"{key}: the CAR's file differs"

        # No gateway at all: the ledger and the four providers left.
        empty = tmp / f"empty-{key}"
        out = tmp / f"from-net-{key}"
        g = subprocess.run([str(cairn_bin), "get", cid, "-o", str(out), "--data-dir", str(empty),
                            "--ledger", dn.endpoints["ledger"]], capture_output=True, env=env(), text=True)
        assert g.returncode == 0, g.stderr
        assert out.read_bytes() == body, f"{key}: cairn get --ledger differs"

    # The devnet noticed its dead children and kept serving.
    out = dn.output()
    assert "node-1" in out and "node-4" in out, out[-3000:]

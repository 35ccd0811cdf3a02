"""Helpers shared by the S3 suite: the gateway process, clients, CIDs, raw
signed requests.

Everything here drives the real `cairn` binary over real sockets; nothing
talks to the store directly.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import itertools
import os
import re
import signal
import socket
import subprocess
import tempfile
import time
import urllib.parse
import xml.etree.ElementTree as ET
import zlib
from pathlib import Path

import boto3
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest


class S3PathSigV4Auth(SigV4Auth):
    """SigV4 as S3 applies it: the canonical URI is the path as sent, not
    encoded a second time (botocore's generic SigV4Auth double-encodes)."""

    def _normalize_url_path(self, path):
        return path

from botocore.config import Config
from botocore.credentials import Credentials

REPO = Path(__file__).resolve().parents[2]

ACCESS_KEY = "cairn-test-access-key"
SECRET_KEY = "cairn-test-secret-key-0123456789"
REGION = "us-east-1"

# Buckets the shared gateway config gives the kubo-legacy profile.
LEGACY_BUCKETS = ("legacy", "legacy-cid", "legacy-copy", "legacy-mp")

MiB = 1 << 20

READY_LINE = "cairn gateway ready"


def find_binary() -> Path:
    """The `cairn` binary: $CAIRN_BIN, else the usual cargo target dirs."""
    env = os.environ.get("CAIRN_BIN")
    if env:
        p = Path(env)
        if not p.is_file():
            raise RuntimeError(f"CAIRN_BIN={env} is not a file")
        return p
    candidates = []
    if os.environ.get("CARGO_TARGET_DIR"):
        t = Path(os.environ["CARGO_TARGET_DIR"])
        candidates += [t / "debug" / "cairn", t / "release" / "cairn"]
    candidates += [
        Path.home() / ".cache" / "cairn" / "target" / "debug" / "cairn",
        REPO / "target" / "debug" / "cairn",
        REPO / "target" / "release" / "cairn",
        REPO.parent / "target" / "debug" / "cairn",
    ]
    for c in candidates:
        if c.is_file():
            return c
    raise RuntimeError(
        "cairn binary not found; build it with "
        "`CARGO_TARGET_DIR=$HOME/.cache/cairn/target cargo build -p cairn-client` "
        "or set CAIRN_BIN. Looked in: " + ", ".join(map(str, candidates))
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def client_config(**s3) -> Config:
    return Config(
        region_name=REGION,
        signature_version="s3v4",
        s3={"addressing_style": "path", **s3},
        retries={"total_max_attempts": 1},
        connect_timeout=10,
        read_timeout=120,
        max_pool_connections=16,
    )


def make_client(endpoint: str, access_key: str = ACCESS_KEY, secret_key: str = SECRET_KEY, **config):
    cfg = client_config()
    if config:
        cfg = cfg.merge(Config(**config))
    return boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        region_name=REGION,
        config=cfg,
    )


class PortTaken(RuntimeError):
    """A listen address was taken between choosing it and binding it."""


class Gateway:
    """One `cairn gateway` process over a data dir that outlives it."""

    def __init__(self, binary: Path, workdir: Path, config: str = "", domains=(), name: str = "gw"):
        self.binary = Path(binary)
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.data_dir = self.workdir / "data"
        self.config_path = self.workdir / "cairn.toml"
        self.config_path.write_text(config)
        self.log_path = self.workdir / f"{name}.log"
        self.domains = list(domains)
        self.proc: subprocess.Popen | None = None
        self.s3_port = free_port()
        self.http_port = free_port()
        self.metrics_port = free_port()
        self.starts = 0

    # -- addresses -------------------------------------------------------
    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.s3_port}"

    @property
    def metrics_url(self) -> str:
        return f"http://127.0.0.1:{self.metrics_port}/metrics"

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def client(self, **kw):
        return make_client(self.endpoint, **kw)

    # -- lifecycle -------------------------------------------------------
    def _env(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CAIRN_"))}
        env["CAIRN_S3_ACCESS_KEY"] = ACCESS_KEY
        env["CAIRN_S3_SECRET_KEY"] = SECRET_KEY
        env["CAIRN_LOG"] = os.environ.get("CAIRN_TEST_LOG", "info")
        env["NO_COLOR"] = "1"
        return env

    def command(self):
        cmd = [
            str(self.binary),
            "--config",
            str(self.config_path),
            "gateway",
            "--data-dir",
            str(self.data_dir),
            "--s3-addr",
            f"127.0.0.1:{self.s3_port}",
            "--http-addr",
            f"127.0.0.1:{self.http_port}",
            "--metrics-addr",
            f"127.0.0.1:{self.metrics_port}",
        ]
        for d in self.domains:
            cmd += ["--domain", d]
        return cmd

    def start(self, timeout: float = 30.0, attempts: int = 5):
        """Starts the process and waits for its ready line. A port taken
        meanwhile by someone else means new ports and another try."""
        for attempt in range(attempts):
            try:
                return self._start_once(timeout)
            except PortTaken:
                if attempt == attempts - 1:
                    raise
                self.s3_port, self.http_port, self.metrics_port = free_port(), free_port(), free_port()
        raise AssertionError("unreachable")

    def _start_once(self, timeout: float):
        assert self.proc is None or self.proc.poll() is not None, "gateway already running"
        self.starts += 1
        with open(self.log_path, "ab") as log:
            log.write(f"\n===== start #{self.starts}: {' '.join(self.command())}\n".encode())
            offset = log.tell()
            self.proc = subprocess.Popen(
                self.command(), stdout=log, stderr=log, stdin=subprocess.DEVNULL, env=self._env()
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self._log_since(offset)
            if READY_LINE in text:
                return self
            if self.proc.poll() is not None:
                if "Address already in use" in text:
                    raise PortTaken(text)
                raise RuntimeError(
                    f"cairn gateway exited with {self.proc.returncode} before it was ready:\n{text[-4000:]}"
                )
            time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"cairn gateway not ready after {timeout}s:\n{self._log_since(offset)[-4000:]}")

    def _log_since(self, offset: int) -> str:
        with open(self.log_path, "rb") as f:
            f.seek(offset)
            return f.read().decode(errors="replace")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout: float = 20.0) -> int | None:
        """SIGTERM, wait; SIGKILL if it does not stop. Returns the exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def kill(self):
        """kill -9."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def restart(self, hard: bool = False):
        if hard:
            self.kill()
        else:
            self.stop()
        return self.start()


# -- content identifiers ---------------------------------------------------

_cid_cache: dict[tuple[str, str], str] = {}


def cid_of(binary: Path, data: bytes, profile: str | None = None) -> str:
    """`cairn add --only-hash [--profile P]` of `data`."""
    key = (hashlib.sha256(data).hexdigest(), profile or "")
    if key in _cid_cache:
        return _cid_cache[key]
    with tempfile.TemporaryDirectory(prefix="cairn-cid-") as d:
        f = Path(d) / "blob"
        f.write_bytes(data)
        cfg = Path(d) / "empty.toml"
        cfg.write_text("")
        cmd = [str(binary), "--config", str(cfg), "add", str(f), "--only-hash", "--data-dir", str(Path(d) / "store")]
        if profile:
            cmd += ["--profile", profile]
        env = {k: v for k, v in os.environ.items() if not k.startswith("CAIRN_")}
        out = subprocess.run(cmd, capture_output=True, env=env, timeout=120)
        if out.returncode != 0:
            raise RuntimeError(f"{cmd} failed: {out.stderr.decode(errors='replace')}")
        cid = out.stdout.decode().strip()
    assert re.fullmatch(r"(Qm[1-9A-HJ-NP-Za-km-z]{44}|b[a-z2-7]{50,})", cid), f"not a CID: {cid!r}"
    _cid_cache[key] = cid
    return cid


# -- checksums ---------------------------------------------------------------


def _crc_table(poly: int, width: int):
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ poly if c & 1 else c >> 1
        table.append(c & ((1 << width) - 1))
    return table


_CRC32C = _crc_table(0x82F63B78, 32)
_CRC64NVME = _crc_table(0x9A6C9329AC4BC9B5, 64)


def _crc_reflected(data: bytes, table, width: int) -> int:
    mask = (1 << width) - 1
    c = mask
    for b in data:
        c = table[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ mask


def checksum_b64(algorithm: str, data: bytes) -> str:
    """S3's base64 checksum value, computed independently of botocore."""
    a = algorithm.upper()
    if a == "CRC32":
        raw = (zlib.crc32(data) & 0xFFFFFFFF).to_bytes(4, "big")
    elif a == "CRC32C":
        raw = _crc_reflected(data, _CRC32C, 32).to_bytes(4, "big")
    elif a == "CRC64NVME":
        raw = _crc_reflected(data, _CRC64NVME, 64).to_bytes(8, "big")
    elif a == "SHA1":
        raw = hashlib.sha1(data).digest()
    elif a == "SHA256":
        raw = hashlib.sha256(data).digest()
    else:
        raise ValueError(a)
    return base64.b64encode(raw).decode()


def md5_hex(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def multipart_etag(parts: list[bytes]) -> str:
    digests = b"".join(hashlib.md5(p).digest() for p in parts)
    return f'"{hashlib.md5(digests).hexdigest()}-{len(parts)}"'


def pattern(n: int, seed: int = 0) -> bytes:
    """n deterministic, incompressible-looking bytes."""
    out = bytearray()
    counter = 0
    while len(out) < n:
        out += hashlib.sha256(f"{seed}:{counter}".encode()).digest() * 64
        counter += 1
    return bytes(out[:n])


# -- raw, hand-signed requests ----------------------------------------------


def sign(
    method: str,
    url: str,
    headers: dict | None = None,
    body=b"",
    payload_hash: str | None = None,
    access_key: str = ACCESS_KEY,
    secret_key: str = SECRET_KEY,
) -> dict:
    """SigV4 headers for a request to `url` (whose host is signed as given).

    `payload_hash` goes into x-amz-content-sha256 (and the signature);
    default: the SHA-256 of `body`.
    """
    headers = dict(headers or {})
    if not any(k.lower() == "host" for k in headers):
        headers["host"] = urllib.parse.urlsplit(url).netloc
    if body and not any(k.lower() in ("content-length", "transfer-encoding") for k in headers):
        headers["content-length"] = str(len(body))
    if payload_hash is None:
        payload_hash = hashlib.sha256(body if isinstance(body, bytes) else b"").hexdigest()
    headers["x-amz-content-sha256"] = payload_hash
    req = AWSRequest(method=method, url=url, data=body if isinstance(body, bytes) else b"", headers=headers)
    S3PathSigV4Auth(Credentials(access_key, secret_key), "s3", REGION).add_auth(req)
    return dict(req.headers.items())


class RawResponse:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # lower-cased names
        self.body = body

    def error_code(self):
        try:
            return ET.fromstring(self.body).findtext("Code")
        except ET.ParseError:
            return None

    def __repr__(self):
        return f"<{self.status} {self.body[:300]!r}>"


def raw_request(port: int, method: str, path: str, headers: dict, body=b"", timeout: float = 60) -> RawResponse:
    """Sends exactly these headers (Host included) to 127.0.0.1:port."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        for k, v in headers.items():
            conn.putheader(k, v)
        conn.endheaders()
        if body:
            conn.send(body)
        resp = conn.getresponse()
        data = resp.read()
        return RawResponse(resp.status, {k.lower(): v for k, v in resp.getheaders()}, data)
    finally:
        conn.close()


def signed_request(
    port: int,
    method: str,
    path: str,
    body: bytes = b"",
    headers: dict | None = None,
    host: str | None = None,
    payload_hash: str | None = None,
    **kw,
) -> RawResponse:
    host = host or f"127.0.0.1:{port}"
    signed = sign(method, f"http://{host}{path}", headers, body, payload_hash, **kw)
    return raw_request(port, method, path, signed, body)


def http_get(url: str, timeout: float = 30):
    """GET without any signing; returns (status, headers, body)."""
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, {k.lower(): v for k, v in r.headers.items()}, r.read()
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read()


# -- errors ------------------------------------------------------------------


def s3_error(fn, *args, **kwargs):
    """Calls fn, which must fail with a ClientError; returns (code, status, error)."""
    from botocore.exceptions import ClientError

    try:
        result = fn(*args, **kwargs)
    except ClientError as e:
        return (
            e.response.get("Error", {}).get("Code", ""),
            e.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0),
            e,
        )
    raise AssertionError(f"expected an S3 error, got success: {result!r}"[:2000])


def exists(s3, bucket: str, key: str) -> bool:
    """HEAD: True on 200, False on 404, anything else raises."""
    from botocore.exceptions import ClientError

    try:
        s3.head_object(Bucket=bucket, Key=key)
        return True
    except ClientError as e:
        if e.response["ResponseMetadata"]["HTTPStatusCode"] == 404:
            return False
        raise


def cid_header(resp) -> str | None:
    return resp["ResponseMetadata"]["HTTPHeaders"].get("x-cairn-cid")


# -- naming and logs ----------------------------------------------------------

_counter = itertools.count()


def bucket_name(request, prefix: str = "t") -> str:
    """A fresh, valid bucket name derived from the test's name."""
    stem = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower()).strip("-")
    n = next(_counter)
    return f"{prefix}-{n}-{stem}"[:60].rstrip("-")


def check_log(gw: Gateway):
    """A panic in the gateway is a failure even if every request looked fine."""
    log = gw.log()
    if "panicked" in log:
        at = log.index("panicked")
        pytest.fail(f"the gateway panicked (log {gw.log_path}):\n{log[max(0, at - 1500) : at + 2500]}")

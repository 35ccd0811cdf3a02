"""Fixtures for the real-client S3 suite.

A `cairn gateway` process per test module (`gateway`, `s3`), a fresh bucket
per test (`bucket`), and a factory for tests that need their own process to
stop, kill -9 or restart (`make_gateway`).

The binary comes from $CAIRN_BIN, else $HOME/.cache/cairn/target/debug/cairn,
else the repo's target/ dirs. To run:

    pip install -r tests/s3/requirements.txt
    CARGO_TARGET_DIR=$HOME/.cache/cairn/target cargo build -p cairn-client
    python3 -m pytest tests/s3 -q          # about a minute

Gateway logs land next to each data dir under pytest's tmp dir
(CAIRN_TEST_LOG=debug for more); a panic in any log fails the module.
"""

from __future__ import annotations

import re

import pytest

import support
from support import LEGACY_BUCKETS, Gateway, bucket_name, check_log

SHARED_CONFIG = "".join(f'[buckets.{name}]\nprofile = "kubo-legacy"\n\n' for name in LEGACY_BUCKETS)


@pytest.fixture(scope="session")
def cairn_bin():
    try:
        return support.find_binary()
    except RuntimeError as e:
        pytest.exit(str(e), returncode=2)


@pytest.fixture(scope="session")
def cid(cairn_bin):
    """cid(data, profile=None) -> `cairn add --only-hash` of data."""

    def _cid(data: bytes, profile: str | None = None) -> str:
        return support.cid_of(cairn_bin, data, profile)

    return _cid


@pytest.fixture(scope="module")
def gateway(cairn_bin, tmp_path_factory, request):
    name = re.sub(r"[^A-Za-z0-9_]", "_", request.module.__name__)
    gw = Gateway(cairn_bin, tmp_path_factory.mktemp(f"gw-{name}"), config=SHARED_CONFIG)
    gw.start()
    yield gw
    gw.stop()
    check_log(gw)


@pytest.fixture(scope="module")
def s3(gateway):
    return gateway.client()


@pytest.fixture
def bucket(s3, request):
    """A new, empty bucket (default profile) named after the test."""
    name = bucket_name(request)
    s3.create_bucket(Bucket=name)
    return name


@pytest.fixture
def make_gateway(cairn_bin, tmp_path):
    """make_gateway(config='', domains=()) -> a started Gateway of its own.

    Every gateway made is killed at teardown.
    """
    made: list[Gateway] = []

    def _make(config: str = "", domains=(), start: bool = True, name: str | None = None) -> Gateway:
        gw = Gateway(cairn_bin, tmp_path / (name or f"gw{len(made)}"), config=config, domains=domains)
        made.append(gw)
        if start:
            gw.start()
        return gw

    yield _make
    for gw in made:
        gw.kill()
    for gw in made:
        check_log(gw)

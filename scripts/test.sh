#!/usr/bin/env bash
# Runs every test: the Rust workspace (unit, integration, golden vectors),
# the fuzz corpora replayed as tests, the S3 conformance suite (boto3
# against the real gateway process) and the storage network end to end
# (`cairn devnet` as real processes, boto3).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
"$root/scripts/setup.sh"

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cairn/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

echo "== cargo test (workspace)" >&2
cargo test --workspace --locked

if [ -f fuzz/Cargo.toml ]; then
    echo "== fuzz corpora, replayed" >&2
    (cd fuzz && cargo test --locked)
fi

echo "== S3 conformance (boto3 against cairn gateway)" >&2
export CAIRN_BIN="$CARGO_TARGET_DIR/debug/cairn"
"${CAIRN_VENV:-$HOME/.cache/cairn/venv}/bin/python" -m pytest -q tests/s3

echo "== storage network (cairn devnet: validator, 6 providers, gateway; boto3)" >&2
"${CAIRN_VENV:-$HOME/.cache/cairn/venv}/bin/python" -m pytest -q tests/network

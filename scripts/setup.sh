#!/usr/bin/env bash
# Installs what a fresh Debian machine with only Rust, gcc, Python and Node
# lacks: the system libraries Cairn links (RocksDB, libclang for bindgen) and
# the Python packages of the S3 conformance tests (in a venv under
# ~/.cache/cairn). Idempotent and quiet when everything is present.
set -euo pipefail

need_apt=()
for pkg in clang libclang-dev pkg-config librocksdb-dev; do
    dpkg -s "$pkg" >/dev/null 2>&1 || need_apt+=("$pkg")
done
if [ "${#need_apt[@]}" -gt 0 ]; then
    echo "setup: installing ${need_apt[*]}" >&2
    sudo_cmd=""
    [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

root="$(cd "$(dirname "$0")/.." && pwd)"
venv="${CAIRN_VENV:-$HOME/.cache/cairn/venv}"
if [ ! -x "$venv/bin/python" ]; then
    echo "setup: creating $venv" >&2
    python3 -m venv "$venv"
fi
stamp="$venv/.requirements.sha256"
want="$(sha256sum "$root/tests/s3/requirements.txt" | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "setup: installing Python test packages" >&2
    "$venv/bin/pip" install -q --disable-pip-version-check -r "$root/tests/s3/requirements.txt"
    echo "$want" > "$stamp"
fi

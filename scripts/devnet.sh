#!/usr/bin/env bash
# Sets up a fresh machine, builds Cairn and runs `cairn devnet` with its
# defaults: one validator (ledger API on 127.0.0.1:26657), six storage
# providers, the gateway (S3 on :9000, the IPFS gateway on :8080), metrics
# from :9100, state in ./devnet. It stores a sample file through S3, reads
# it back through S3 and by CID, waits for its deals on the ledger, prints
# what happened, and serves until Ctrl-C.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/setup.sh"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cairn/target}"
# Build from the repository root so cargo reads its .cargo/config.toml (the
# system RocksDB); run from the caller's directory so ./devnet lands there.
(cd "$root" && cargo build --locked -p cairn-client -p cairn-node -p cairn-deal-market --bins)
exec "$CARGO_TARGET_DIR/debug/cairn" devnet "$@"

#!/usr/bin/env bash
# The whole test suite: formatting, lints, then every unit, property and
# integration test of the workspace (integration tests start the real
# gannet-server binary and drive it with async-nats and raw sockets), then the
# Python client tests (nats-py) against the same binary.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --no-fail-fast
else
  cargo test --workspace --no-fail-fast
fi
cargo build -p gannet-server
python3 -m pytest -q tests/py

#!/usr/bin/env bash
# The whole test suite: formatting, lints, then every unit, property and
# integration test of the workspace (integration tests start the real
# gannet-server binary and drive it with async-nats and raw sockets), then the
# Python client tests (nats-py) against the same binary, then a short run of
# every fuzz target. First it installs
# what is missing (scripts/setup.sh), so it runs as is on a fresh machine.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
cargo nextest run --workspace --no-fail-fast
cargo build -p gannet-server
python3 -m pytest -q tests/py
# Every fuzz target for a short while (FUZZ_SECONDS each, default 10); the
# long runs are scripts/fuzz.sh with more seconds (see the README).
scripts/fuzz.sh "${FUZZ_SECONDS:-10}"

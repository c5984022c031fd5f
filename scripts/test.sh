#!/usr/bin/env bash
# The whole test suite: formatting, lints, then every unit, property and
# integration test of the workspace (integration tests start the real
# gannet-server binary and drive it with async-nats and raw sockets), then the
# Python client tests (nats-py) against the same binary. First it installs
# what is missing (scripts/setup.sh), so it runs as is on a fresh machine.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
cargo nextest run --workspace --no-fail-fast
cargo build -p gannet-server
python3 -m pytest -q tests/py

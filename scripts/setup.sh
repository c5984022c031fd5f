#!/usr/bin/env bash
# Installs what the test suite needs and is not there yet: rustfmt and clippy,
# cargo-nextest, openssl (examples/bosh/make-certs.sh is exercised by a test),
# tmux (the test of `gannet top` reads its screen from a tmux pane), zsh and
# fish (the completion scripts are loaded by each shell), systemd's
# systemd-analyze (the service unit is checked with it), the Python
# packages of tests/requirements.txt, and the reference nats-server the CLI
# tests also run against. Quick when everything is there; scripts/test.sh runs
# it first.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo >/dev/null; then
  echo "cargo is required (the Rust toolchain)" >&2
  exit 1
fi
for component in rustfmt clippy; do
  if ! cargo "${component/rustfmt/fmt}" --version >/dev/null 2>&1; then
    if command -v rustup >/dev/null; then
      rustup component add "$component"
    else
      echo "warning: $component is missing and there is no rustup to add it" >&2
    fi
  fi
done
if ! cargo nextest --version >/dev/null 2>&1; then
  cargo install cargo-nextest --locked
fi
missing=()
# command:package
for need in openssl:openssl tmux:tmux zsh:zsh fish:fish systemd-analyze:systemd; do
  command -v "${need%%:*}" >/dev/null || missing+=("${need#*:}")
done
if ((${#missing[@]})); then
  sudo=()
  ((EUID == 0)) || sudo=(sudo)
  "${sudo[@]}" apt-get update -q
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
fi
python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore \
  -r tests/requirements.txt
scripts/install-reference.sh

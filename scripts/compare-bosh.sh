#!/usr/bin/env bash
# Throughput of two NATS-protocol servers with BOSH's TLS and permissions on,
# side by side, through the shared load generator compare.sh.
#
#   scripts/compare-bosh.sh [options] SERVER_A SERVER_B [scenario...]
#
# e.g. scripts/compare-bosh.sh target/release/gannet-server \
#          ~/.cache/gannet-refs/bin/nats-server
#      scripts/compare-bosh.sh -r 1 target/release/gannet-server \
#          ~/.cache/gannet-refs/bin/nats-server pubsub16
#
# SERVER_x is a server binary, optionally with leading arguments, as ONE word.
# Each server gets a config of one of two styles (docs/BOSH.md):
#   fork      examples/bosh/gannet.conf's: certificate_clients, TLS verify,
#             identities by certificate CN (the style of a server whose
#             --version starts with "gannet")
#   upstream  today's BOSH on nats-server: tls verify_and_map, one user per
#             certificate subject DN with the same permissions (every other
#             server; nats-server refuses certificate_clients)
# Both list the BOSH identities (director, health monitor, two agents) plus
# one for benchmarking, CN default.bench.bosh-internal, with permissions of
# BOSH's shape (wildcard allow lists), because the load generator uses one
# certificate for its publishers and subscribers and no BOSH role both
# publishes and subscribes one subject:
#   publish   ["hm.agent.heartbeat.*", "agent.*", "_INBOX.>"]
#   subscribe ["hm.agent.heartbeat.*", "_INBOX.>"]
# (_INBOX.> lets req16's requester and responder exchange replies). The load
# generator uses that certificate and the subject hm.agent.heartbeat.bench, so
# every message is checked against the permissions on publish and delivery.
#
# Certificates come from examples/bosh/make-certs.sh (RSA 3072, C=US), asked
# for the bench certificate too; they and both configs (absolute
# paths, no host or port: compare.sh appends -a 127.0.0.1 -p PORT) go into a
# temporary folder removed at the end (KEEP=1 keeps it). compare.sh then runs
# "binary -c config" for each side with NB_ARGS set to the TLS flags, and
# prints its table and SUMMARY line.
#
# Scenarios: those of compare.sh except idle1000 (its subjects are not
# permitted); default: pub16 pubsub16 fanout16 pubsub1k req16.
#
# Options (or the environment variables in brackets), passed on to compare.sh:
#   -r N          rounds [ROUNDS, default 5]
#   -o DIR        results folder [OUTDIR, default compare.sh's]
#   -p MODE       CPU pinning, split or none [PIN, default split]
#   --order O     abba or abab [ORDER, default abba]
# Environment:
#   COMPARE       compare.sh, the side-by-side benchmark of the reference
#                 tooling, not part of this repository [default: compare.sh
#                 found on PATH]
#   STYLE_A, STYLE_B   fork or upstream, to override the choice above (Gannet
#                 also runs the upstream style)
#   KEEP=1        keep the folder of certificates and configs
#   NATSBENCH, GANNET_REFS_HOME, MAX_OTHER, ...: as compare.sh reads them
#
# Exit status: compare.sh's (0 when every run completed, 1 when one failed,
# 2 on usage errors).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
COMPARE=${COMPARE:-$(command -v compare.sh || true)}
MAKE_CERTS=$REPO/examples/bosh/make-certs.sh
DEFAULT_SCENARIOS=(pub16 pubsub16 fanout16 pubsub1k req16)
SUBJECT=hm.agent.heartbeat.bench

# The agent ids make-certs.sh issues certificates for.
AGENT_1=0e2a7f3c-1111-4b8e-9d2a-5f5e5e5e5e5e
AGENT_2=9b1c2d3e-2222-4c5d-8e9f-0a1b2c3d4e5f

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2; exit 2; }

PASS=()
ARGS=()
while (($#)); do
  case $1 in
    -r|-o|-p|--order) (($# >= 2)) || usage; PASS+=("$1" "$2"); shift 2 ;;
    -h|--help) usage ;;
    -*) echo "unknown option: $1" >&2; usage ;;
    *) ARGS+=("$1"); shift ;;
  esac
done
((${#ARGS[@]} >= 2)) || usage
SERVER_A=${ARGS[0]}
SERVER_B=${ARGS[1]}
SCEN=("${ARGS[@]:2}")
((${#SCEN[@]})) || SCEN=("${DEFAULT_SCENARIOS[@]}")
for s in "${SCEN[@]}"; do
  [ "$s" != idle1000 ] || { echo "idle1000 is not supported: its subjects are not permitted" >&2; exit 2; }
done

[[ -n $COMPARE && -x $COMPARE ]] || { echo "no compare.sh${COMPARE:+ at $COMPARE} (set COMPARE or put it on PATH)" >&2; exit 2; }
command -v openssl >/dev/null || { echo "openssl is needed" >&2; exit 2; }
read -r -a CMD_A <<<"$SERVER_A"
read -r -a CMD_B <<<"$SERVER_B"
for bin in "${CMD_A[0]}" "${CMD_B[0]}"; do
  [ -x "$bin" ] || command -v "$bin" >/dev/null || { echo "server not found: $bin" >&2; exit 2; }
done

# fork for Gannet, upstream for anything else.
style_of() {
  case $("$1" --version 2>/dev/null | head -n 1) in
    gannet*) echo fork ;;
    *) echo upstream ;;
  esac
}
STYLE_A=${STYLE_A:-$(style_of "${CMD_A[0]}")}
STYLE_B=${STYLE_B:-$(style_of "${CMD_B[0]}")}
for style in "$STYLE_A" "$STYLE_B"; do
  [[ $style = fork || $style = upstream ]] || { echo "bad style: $style (fork or upstream)" >&2; exit 2; }
done

# compare.sh splits SERVER_x and NB_ARGS on blanks: the folder must have none.
WORK=$(mktemp -d "${TMPDIR:-/tmp}/compare-bosh.XXXXXX")
[[ $WORK != *[[:space:]]* ]] || { echo "temporary folder $WORK has blanks; set TMPDIR" >&2; exit 2; }
# shellcheck disable=SC2317  # called from the trap
cleanup() {
  if [ "${KEEP:-0}" = 1 ]; then
    echo "# certificates and configs kept in $WORK" >&2
  else
    rm -rf "$WORK"
  fi
}
trap cleanup EXIT

# ---------------------------------------------------------------- certificates
CERTS=$WORK/certs
"$MAKE_CERTS" "$CERTS" bench=default.bench.bosh-internal >/dev/null

# ---------------------------------------------------------------- configs
# The permissions of both styles.
BENCH_PUB='["hm.agent.heartbeat.*", "agent.*", "_INBOX.>"]'
BENCH_SUB='["hm.agent.heartbeat.*", "_INBOX.>"]'
DIRECTOR_PERMS='{ publish: ["agent.*", "hm.director.alert"], subscribe: ["director.>"] }'
HM_SUB='["hm.agent.heartbeat.*", "hm.agent.alert.*", "hm.agent.shutdown.*", "hm.director.alert"]'
agent_perms() { # ID
  printf '{ publish: ["hm.agent.heartbeat.%s", "hm.agent.alert.%s", "hm.agent.shutdown.%s", "director.*.%s.*"], subscribe: ["agent.%s"] }' \
    "$1" "$1" "$1" "$1" "$1"
}
# The BOSH nats job's settings, in both styles.
COMMON_SETTINGS='ping_interval: 5s
ping_max: 2
max_payload: 1MB'

# examples/bosh/gannet.conf plus the bench identity; no host or port.
cat >"$WORK/fork.conf" <<EOF
# BOSH's certificate_clients setup (examples/bosh/gannet.conf) plus a bench identity.
authorization {
  DIRECTOR_PERMISSIONS: $DIRECTOR_PERMS
  AGENT_PERMISSIONS: {
    publish: ["hm.agent.heartbeat._CLIENT_ID", "hm.agent.alert._CLIENT_ID",
              "hm.agent.shutdown._CLIENT_ID", "director.*._CLIENT_ID.*"]
    subscribe: ["agent._CLIENT_ID"]
  }
  HM_PERMISSIONS: { publish: [], subscribe: $HM_SUB }
  BENCH_PERMISSIONS: { publish: $BENCH_PUB, subscribe: $BENCH_SUB }
  certificate_clients: [
    {client_name: director.bosh-internal, permissions: \$DIRECTOR_PERMISSIONS}
    {client_name: agent.bosh-internal, permissions: \$AGENT_PERMISSIONS}
    {client_name: hm.bosh-internal, permissions: \$HM_PERMISSIONS}
    {client_name: bench.bosh-internal, permissions: \$BENCH_PERMISSIONS}
  ]
  timeout: 30
}
tls {
  cert_file: "$CERTS/server.pem"
  key_file: "$CERTS/server-key.pem"
  ca_file: "$CERTS/ca.pem"
  verify: true
  timeout: 30
  enable_cert_authorization: true
}
$COMMON_SETTINGS
EOF

# docs/BOSH.md §4: one user per certificate subject.
dn() { printf 'C=US, O=Cloud Foundry, CN=%s' "$1"; }
cat >"$WORK/upstream.conf" <<EOF
# Today's BOSH setup on nats-server (verify_and_map, a user per certificate
# subject) plus a bench identity.
authorization {
  users = [
    { user: "$(dn default.director.bosh-internal)", permissions: $DIRECTOR_PERMS }
    { user: "$(dn default.hm.bosh-internal)", permissions: { publish: [], subscribe: $HM_SUB } }
    { user: "$(dn "$AGENT_1.agent.bosh-internal")", permissions: $(agent_perms "$AGENT_1") }
    { user: "$(dn "$AGENT_2.agent.bosh-internal")", permissions: $(agent_perms "$AGENT_2") }
    { user: "$(dn default.bench.bosh-internal)", permissions: { publish: $BENCH_PUB, subscribe: $BENCH_SUB } }
  ]
  timeout: 30
}
tls {
  cert_file: "$CERTS/server.pem"
  key_file: "$CERTS/server-key.pem"
  ca_file: "$CERTS/ca.pem"
  verify_and_map: true
  timeout: 30
}
$COMMON_SETTINGS
EOF

# Each server must take its config as it is.
for side in A B; do
  if [ "$side" = A ]; then cmd=("${CMD_A[@]}"); style=$STYLE_A; else cmd=("${CMD_B[@]}"); style=$STYLE_B; fi
  if ! "${cmd[@]}" -c "$WORK/$style.conf" -t >"$WORK/check-$side.log" 2>&1; then
    echo "server $side (${cmd[0]}) refuses the $style config:" >&2
    sed 's/^/  /' "$WORK/check-$side.log" >&2
    exit 2
  fi
done

echo "# compare-bosh.sh: A uses the $STYLE_A config, B the $STYLE_B config; subject $SUBJECT" >&2
export NB_ARGS="-tlsca $CERTS/ca.pem -tlscert $CERTS/bench.pem -tlskey $CERTS/bench-key.pem -subject $SUBJECT"
set +e
"$COMPARE" "${PASS[@]}" "$SERVER_A -c $WORK/$STYLE_A.conf" "$SERVER_B -c $WORK/$STYLE_B.conf" "${SCEN[@]}"
status=$?
set -e
exit "$status"

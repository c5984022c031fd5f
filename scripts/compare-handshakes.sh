#!/usr/bin/env bash
# TLS handshakes per second of two NATS-protocol servers, side by side.
#
#   scripts/compare-handshakes.sh [options] SERVER_A SERVER_B
#
# e.g. scripts/compare-handshakes.sh target/release/gannet-server \
#          ~/.cache/gannet-refs/bin/nats-server
#
# SERVER_x is a server binary, optionally with leading arguments, as ONE word
# ("/path/to/server --some-flag"), started directly (no wrapper: its CPU time
# is read from /proc/PID/stat). Both must take nats-server's flags; the script
# appends
#   --tls --tlscert F --tlskey F --tlsverify --tlscacert F -a 127.0.0.1 -p PORT
#
# What is measured: the load generator is `gannet bench connect`. Its
# concurrent clients each open connections one after another: TCP, INFO, a
# full TLS handshake with a client certificate (never a resumed session), then
# CONNECT and PING answered by PONG, and a close. Per run it takes
#   handshakes/s              connections completed per second of the run
#   handshakes/server-CPU-s   connections per second of CPU time the server
#                             process used (utime+stime from /proc/PID/stat,
#                             read before and after the run)
# and the CPU use of server and client in cores, to show which side was busy.
# The certificates are made with openssl into a temporary folder: a CA, an
# RSA-2048 server certificate, and a client certificate with an ECDSA P-256
# key by default (-k rsa for RSA-2048). The client signs in every handshake;
# with an EC key that costs it far less than the server's RSA-2048 signature,
# so the pinned client is less likely than the server to be the limit.
#
# Order: every run gets a fresh server on a fresh loopback port. For each round,
# A then B (odd rounds) or B then A (even rounds), back to back. It prints
# one line per run, then per metric the median of each side, its spread
# ((max-min)/median over the rounds), the ratio of medians A/B and the median
# of the per-round paired ratios A_r/B_r with min..max, then a SUMMARY line.
#
# Options (or the environment variables in brackets):
#   -r N          rounds [ROUNDS, default 5]
#   -n N          connections per run [CONNS, default 3000]
#   -c N          concurrent clients [CLIENTS, default 16]
#   -k KEY        client key: ec or rsa [CLIENT_KEY, default ec]
#   -t MODE       tls, or plain for the same connect storm without TLS
#                 (TCP, INFO, CONNECT, PING/PONG, close) [TRANSPORT, default tls]
#   -p MODE       CPU pinning [PIN, default split]:
#                   split: server on CPU 0, load generator on CPU 1 (taskset)
#                   none:  no pinning
#   -o DIR        where the raw results, logs and certificates go
#                 [OUTDIR, default a new temporary folder, removed at the end
#                 unless a run failed]
#   [GANNET]      the gannet binary [default: target/release/gannet of this
#                 repository; build it with cargo build --release -p gannet-cli]
#
# Exit status: 0 when every run completed, 1 when any run failed, 2 on usage
# errors.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
ROUNDS=${ROUNDS:-5}
CONNS=${CONNS:-3000}
CLIENTS=${CLIENTS:-16}
CLIENT_KEY=${CLIENT_KEY:-ec}
TRANSPORT=${TRANSPORT:-tls}
PIN=${PIN:-split}
OUTDIR=${OUTDIR:-}
GANNET=${GANNET:-$REPO/target/release/gannet}

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2; exit 2; }

ARGS=()
while (($#)); do
  case $1 in
    -r) ROUNDS=$2; shift 2 ;;
    -n) CONNS=$2; shift 2 ;;
    -c) CLIENTS=$2; shift 2 ;;
    -k) CLIENT_KEY=$2; shift 2 ;;
    -t) TRANSPORT=$2; shift 2 ;;
    -p) PIN=$2; shift 2 ;;
    -o) OUTDIR=$2; shift 2 ;;
    -h|--help) usage ;;
    -*) echo "unknown option: $1" >&2; usage ;;
    *) ARGS+=("$1"); shift ;;
  esac
done
((${#ARGS[@]} == 2)) || usage
SERVER_A=${ARGS[0]}
SERVER_B=${ARGS[1]}

for n in "$ROUNDS" "$CONNS" "$CLIENTS"; do
  [[ $n =~ ^[1-9][0-9]*$ ]] || { echo "not a positive number: $n" >&2; exit 2; }
done
[[ $CLIENT_KEY = ec || $CLIENT_KEY = rsa ]] || { echo "bad -k $CLIENT_KEY (ec or rsa)" >&2; exit 2; }
[ -x "$GANNET" ] || { echo "no gannet binary at $GANNET (cargo build --release -p gannet-cli, or set GANNET)" >&2; exit 2; }
for tool in openssl python3; do
  command -v "$tool" >/dev/null || { echo "$tool is needed" >&2; exit 2; }
done
read -r -a CMD_A <<<"$SERVER_A"
read -r -a CMD_B <<<"$SERVER_B"
for bin in "${CMD_A[0]}" "${CMD_B[0]}"; do
  [ -x "$bin" ] || command -v "$bin" >/dev/null || { echo "server not found: $bin" >&2; exit 2; }
done

case $PIN in
  split)
    if (($(nproc) < 2)); then echo "PIN=split needs 2 CPUs; using none" >&2; PIN=none; fi ;;
  none) ;;
  *) echo "bad pin mode: $PIN" >&2; exit 2 ;;
esac
if [ "$PIN" = split ]; then
  SRV_PIN=(taskset -c 0); CLI_PIN=(taskset -c 1)
else
  SRV_PIN=(); CLI_PIN=()
fi

KEEP_OUTDIR=1
if [ -z "$OUTDIR" ]; then
  OUTDIR=$(mktemp -d "${TMPDIR:-/tmp}/compare-handshakes.XXXXXX")
  KEEP_OUTDIR=0
fi
mkdir -p "$OUTDIR"
RAW=$OUTDIR/raw.jsonl
: >"$RAW"
CERTS=$OUTDIR/certs

# Same descriptor limit for both servers (Go raises its own; others may not).
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

# ---------------------------------------------------------------- certificates
# issue NAME CN EXTENSION KEY-ARGS...: a key and a certificate signed by the CA.
issue() {
  local name=$1 cn=$2 ext=$3; shift 3
  openssl genpkey "$@" -out "$CERTS/$name-key.pem" 2>/dev/null
  openssl req -new -config "$CERTS/openssl.cnf" -key "$CERTS/$name-key.pem" \
    -subj "/O=Gannet Bench/CN=$cn" -out "$CERTS/$name.csr"
  openssl x509 -req -in "$CERTS/$name.csr" -CA "$CERTS/ca.pem" -CAkey "$CERTS/ca-key.pem" \
    -set_serial "0x$(openssl rand -hex 16)" -days 2 -sha256 \
    -extfile "$CERTS/openssl.cnf" -extensions "$ext" -out "$CERTS/$name.pem" 2>/dev/null
  rm -f "$CERTS/$name.csr"
}

make_certs() {
  local rsa=(-algorithm RSA -pkeyopt rsa_keygen_bits:2048)
  local ec=(-algorithm EC -pkeyopt ec_paramgen_curve:P-256)
  mkdir -p "$CERTS"
  cat >"$CERTS/openssl.cnf" <<'CNF'
[req]
distinguished_name = dn
prompt = no
[dn]
[ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[server]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1,DNS:localhost
authorityKeyIdentifier = keyid
[client]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
authorityKeyIdentifier = keyid
CNF
  openssl genpkey "${rsa[@]}" -out "$CERTS/ca-key.pem" 2>/dev/null
  openssl req -x509 -new -config "$CERTS/openssl.cnf" -extensions ca \
    -key "$CERTS/ca-key.pem" -subj "/O=Gannet Bench/CN=handshake-bench-ca" \
    -days 2 -sha256 -out "$CERTS/ca.pem"
  issue server localhost server "${rsa[@]}"
  if [ "$CLIENT_KEY" = ec ]; then
    issue client handshake-bench-client client "${ec[@]}"
  else
    issue client handshake-bench-client client "${rsa[@]}"
  fi
}
make_certs
TLS_SERVER_ARGS=(--tls --tlscert "$CERTS/server.pem" --tlskey "$CERTS/server-key.pem"
  --tlsverify --tlscacert "$CERTS/ca.pem")
TLS_CLIENT_ARGS=(--no-context --tlsca "$CERTS/ca.pem" --tlscert "$CERTS/client.pem"
  --tlskey "$CERTS/client-key.pem")
case $TRANSPORT in
  tls) ;;
  plain) TLS_SERVER_ARGS=(); TLS_CLIENT_ARGS=(--no-context) ;;
  *) echo "unknown transport: $TRANSPORT" >&2; usage ;;
esac

# ---------------------------------------------------------------- servers
free_port() {
  python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1]);s.close()'
}

SRV_PID=""
stop_server() {
  [ -n "$SRV_PID" ] || return 0
  if kill -0 "$SRV_PID" 2>/dev/null; then
    kill -TERM "$SRV_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$SRV_PID" 2>/dev/null || break; sleep 0.05; done
    kill -0 "$SRV_PID" 2>/dev/null && kill -KILL "$SRV_PID" 2>/dev/null
  fi
  wait "$SRV_PID" 2>/dev/null || true
  SRV_PID=""
}
FAILED=0
# shellcheck disable=SC2317  # called from the traps
cleanup() {
  stop_server
  if ((KEEP_OUTDIR == 0 && FAILED == 0)); then rm -rf "$OUTDIR"; fi
}
trap 'cleanup; exit 130' INT TERM
trap cleanup EXIT

# utime + stime of a process, in clock ticks (fields 14 and 15 of
# /proc/PID/stat, counted after the ")" that ends the command name).
proc_ticks() {
  local stat
  local -a f
  stat=$(<"/proc/$1/stat")
  stat=${stat##*) }
  read -r -a f <<<"$stat"
  echo $((f[11] + f[12]))
}
# Machine-wide busy ticks, from the first line of /proc/stat.
busy_ticks() {
  local _c u n s _i _w irq sirq st _rest
  read -r _c u n s _i _w irq sirq st _rest </proc/stat
  echo $((u + n + s + irq + sirq + st))
}
# CPU time of this shell's finished children: bash's `times` into FILE (its
# second line). Not in a subshell, which would have children of its own.
children_times() { times >"$1"; }
CLK_TCK=$(getconf CLK_TCK)

# run_one SIDE ROUND -> appends one JSON line to $RAW, sets LAST_LINE
run_one() {
  local side=$1 round=$2 port log out err rc=1 ready=0 url
  local ticks0 ticks1 busy0 busy1 wall0 wall1
  local -a cmd
  if [ "$side" = A ]; then cmd=("${CMD_A[@]}"); else cmd=("${CMD_B[@]}"); fi
  port=$(free_port)
  url=nats://127.0.0.1:$port
  log=$OUTDIR/server-$side-r$round.log
  out=$OUTDIR/bench-$side-r$round.out
  err=$OUTDIR/bench-$side-r$round.err
  "${SRV_PIN[@]}" "${cmd[@]}" "${TLS_SERVER_ARGS[@]}" -a 127.0.0.1 -p "$port" >"$log" 2>&1 &
  SRV_PID=$!
  # Ready once one whole TLS connection succeeds (at most ~10 s).
  for _ in $(seq 1 40); do
    kill -0 "$SRV_PID" 2>/dev/null || break
    if "${CLI_PIN[@]}" "$GANNET" "${TLS_CLIENT_ARGS[@]}" -s "$url" --timeout 500ms \
      bench connect --msgs 1 --no-progress >/dev/null 2>>"$log"; then
      ready=1; break
    fi
    sleep 0.25
  done
  if ((ready)); then
    ticks0=$(proc_ticks "$SRV_PID"); busy0=$(busy_ticks); children_times "$OUTDIR/.times0"
    wall0=$(date +%s.%N)
    if "${CLI_PIN[@]}" "$GANNET" "${TLS_CLIENT_ARGS[@]}" -s "$url" \
      bench connect --msgs "$CONNS" --clients "$CLIENTS" --no-progress >"$out" 2>"$err"; then
      rc=0
    else
      rc=$?
    fi
    wall1=$(date +%s.%N)
    children_times "$OUTDIR/.times1"
    # Let the server finish closing the last connections, then read its CPU.
    sleep 0.3
    if kill -0 "$SRV_PID" 2>/dev/null; then ticks1=$(proc_ticks "$SRV_PID"); else ticks1=$ticks0; rc=1; fi
    busy1=$(busy_ticks)
  else
    echo "server did not accept a TLS connection within 10 s (see its log)" >"$err"
  fi
  stop_server
  LAST_LINE=$(python3 - "$side" "$round" "$rc" "$CONNS" "$out" "$err" "$CLK_TCK" \
    "${ticks0:-0}" "${ticks1:-0}" "${busy0:-0}" "${busy1:-0}" "$OUTDIR/.times0" "$OUTDIR/.times1" \
    "${wall0:-0}" "${wall1:-0}" <<'EOF'
import json, re, sys
(side, rnd, rc, conns, out, err, tck, t0, t1, b0, b1, k0, k1, w0, w1) = sys.argv[1:16]
tck = int(tck)

def children_secs(path):  # bash `times`, second line: children's user and sys, 1m2.345s
    try:
        words = open(path).read().split("\n")[1].split()
    except (OSError, IndexError):
        return 0.0
    total = 0.0
    for word in words:
        m = re.fullmatch(r"(\d+)m([\d.]+)s", word)
        total += int(m.group(1)) * 60 + float(m.group(2))
    return total

d = {"side": side, "round": int(rnd), "rc": int(rc)}
text = open(out).read() if rc == "0" else ""
# The last "N conns/sec" is the aggregate (or the only client's line).
rates = re.findall(r"([\d,]+) conns/sec", text)
if rc != "0" or not rates:
    lines = [l for l in open(err).read().splitlines() if l.strip()]
    d["error"] = (lines[-1] if lines else "no output from gannet bench connect")[:300]
else:
    wall = float(w1) - float(w0)
    server = (int(t1) - int(t0)) / tck
    client = children_secs(k1) - children_secs(k0)
    busy = (int(b1) - int(b0)) / tck
    d["hs_per_sec"] = int(rates[-1].replace(",", ""))
    if server > 0:
        d["hs_per_server_cpu_sec"] = round(int(conns) / server, 1)
    d["server_cpu_cores"] = round(server / wall, 3)
    d["client_cpu_cores"] = round(client / wall, 3)
    d["other_cpu_cores"] = round(max(0.0, busy - server - client) / wall, 3)
    p = re.search(r"P50:? ([\d,.]+)us .*P99:? ([\d,.]+)us", text)
    if p:
        d["lat_us_p50"] = float(p.group(1).replace(",", ""))
        d["lat_us_p99"] = float(p.group(2).replace(",", ""))
    d["wall_secs"] = round(wall, 3)
print(json.dumps(d, sort_keys=True))
EOF
  )
  echo "$LAST_LINE" >>"$RAW"
}

# One line per run on stderr, from the JSON line.
show_run() {
  python3 - "$1" <<'EOF'
import json, sys
d = json.loads(sys.argv[1])
if "error" in d:
    print(f"  r{d['round']} {d['side']} FAILED: {d['error']}")
else:
    print(f"  r{d['round']} {d['side']} {d['hs_per_sec']:>7} handshakes/s"
          f" {d.get('hs_per_server_cpu_sec', 0):>8.0f} per server-CPU-s"
          f"  server {d['server_cpu_cores']:.2f} cores, client {d['client_cpu_cores']:.2f}"
          f", others {d['other_cpu_cores']:.2f}; latency p50 {d.get('lat_us_p50', 0):.0f} us")
EOF
}

ver() { "$@" --version 2>/dev/null | head -n 1 || true; }
{
  echo "# compare-handshakes.sh $(date -u +%FT%TZ)"
  echo "# A: $SERVER_A ($(ver "${CMD_A[@]}"))"
  echo "# B: $SERVER_B ($(ver "${CMD_B[@]}"))"
  echo "# rounds=$ROUNDS connections=$CONNS clients=$CLIENTS client_key=$CLIENT_KEY pin=$PIN cpus=$(nproc)"
  echo "# load generator: $GANNET ($(ver "$GANNET"))"
  echo "# raw results: $RAW"
} >&2

T0=$(date +%s)
for ((r = 1; r <= ROUNDS; r++)); do
  if ((r % 2 == 0)); then order=(B A); else order=(A B); fi
  for side in "${order[@]}"; do
    run_one "$side" "$r"
    show_run "$LAST_LINE" >&2
  done
done
echo "# measured in $(($(date +%s) - T0)) s" >&2

set +e
python3 - "$RAW" <<'EOF'
import json, statistics, sys

METRICS = [  # key, label, short name, higher is better, compared
    ("hs_per_sec", "handshakes/s", "hs.rate", True, True),
    ("hs_per_server_cpu_sec", "handshakes/server-CPU-s", "hs.per_cpu_s", True, True),
    ("server_cpu_cores", "server CPU (cores)", "server.cores", True, False),
    ("client_cpu_cores", "client CPU (cores)", "client.cores", False, False),
    ("lat_us_p50", "connect latency p50 us", "lat.p50", False, True),
]

def fmt(v):
    if v is None:
        return "-"
    if abs(v) >= 1e4:
        return f"{v / 1e3:.1f}k"
    return f"{v:.2f}" if abs(v) < 100 else f"{v:.0f}"

rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
failures = sum(1 for r in rows if "error" in r)
hdr = (f"{'metric':<26} {'A median':>9} {'spread':>6} {'B median':>9} {'spread':>6}"
       f" {'A/B med':>7} {'paired A/B [min..max]':>22}  better")
out, summary = [hdr, "-" * len(hdr)], []
for key, label, short, hib, compared in METRICS:
    val, med, line = {}, {}, f"{label:<26}"
    for side in "AB":
        rs = [r for r in rows if r["side"] == side]
        val[side] = {r["round"]: r[key] for r in rs if "error" not in r and key in r}
        v = list(val[side].values())
        med[side] = statistics.median(v) if v else None
        sp = f"{(max(v) - min(v)) / med[side] * 100:.0f}%" if v and med[side] else "-"
        bad = sum(1 for r in rs if "error" in r)
        if bad:
            sp += f"!{bad}"
        line += f" {fmt(med[side]):>9} {sp:>6}"
    ratio = med["A"] / med["B"] if med["A"] is not None and med["B"] else None
    pairs = [val["A"][k] / val["B"][k] for k in val["A"] if k in val["B"] and val["B"][k]]
    if pairs and compared:
        pm = statistics.median(pairs)
        prange = f"{pm:.2f} [{min(pairs):.2f}..{max(pairs):.2f}]"
        if len(pairs) >= 3 and (min(pairs) > 1 or max(pairs) < 1) and abs(pm - 1) >= 0.05:
            better = "A" if (pm > 1) == hib else "B"
        else:
            better = "~"
        summary.append(f"{short}={pm:.2f}")
    else:
        prange, better = "-", "-"
        if compared:
            summary.append(f"{short}=NA")
    line += f" {(f'{ratio:.2f}' if ratio else '-'):>7} {prange:>22}  {better}"
    out.append(line)
for r in rows:
    if "error" in r:
        out.append(f"FAILED: {r['side']} round {r['round']}: {r['error']}")
ok = [r for r in rows if "error" not in r]
notes = []
if ok:
    other = [r["other_cpu_cores"] for r in ok]
    notes.append(f"other processes' CPU during runs: mean {statistics.mean(other):.2f} cores, "
                 f"max {max(other):.2f}" + (" (WARNING: machine not idle, numbers are noisy)"
                                            if max(other) > 0.25 else ""))
    for side in "AB":
        cores = [r["server_cpu_cores"] for r in ok if r["side"] == side]
        if cores and statistics.median(cores) < 0.9:
            notes.append(f"WARNING: server {side} used only {statistics.median(cores):.2f} cores "
                         "(median): other processes took its CPU, or it waited for the load "
                         "generator (more clients: -c); handshakes/s understates it, "
                         "handshakes/server-CPU-s less so")
    client = [r["client_cpu_cores"] for r in ok]
    if client and max(client) > 0.9:
        notes.append(f"WARNING: the client used up to {max(client):.2f} cores: it may be the limit")
out += notes
out.append("")
out.append("spread = (max-min)/median over the rounds; !n = n failed runs (left out). "
           "paired = median of A_r/B_r over the rounds (A and B back to back).")
out.append("Rates: A/B > 1 means A is faster; latency: A/B > 1 means A is slower. "
           "better: A or B when every round agrees and |paired-1| >= 5%, ~ otherwise.")
out.append(f"SUMMARY paired A/B (failures={failures}): " + " ".join(summary))
print("\n".join(out))
sys.exit(1 if failures else 0)
EOF
status=$?
set -e
if ((status != 0)); then
  FAILED=1
  echo "# logs and raw results kept in $OUTDIR" >&2
fi
exit "$status"

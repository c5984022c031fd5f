#!/usr/bin/env bash
# Throughput across a route: two-node clusters of each server side by side,
# a raw-socket publisher on node A and a raw-socket subscriber on node B
# (crates/gannet-server/examples/route_bench.rs), 16 B and 1 KiB.
#
#   scripts/bench-route.sh [-r ROUNDS] SERVER_X SERVER_Y
#
# SERVER_x is a server binary taking nats-server's flags and config (Gannet's
# or nats-server's). Each round starts fresh clusters, runs X then Y (Y then X
# on even rounds), and prints messages per second and the servers' CPU time
# per message (both nodes, user + system). The last lines give the medians
# and the ratio X/Y of the medians.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=5
if [ "${1:-}" = "-r" ]; then ROUNDS=$2; shift 2; fi
[ $# -eq 2 ] || { sed -n '2,13p' "$0"; exit 2; }
X=$1 Y=$2
cargo build -q --release -p gannet-server --example route_bench
BENCH=target/release/examples/route_bench
WORK=$(mktemp -d)
trap 'pkill -P $$ 2>/dev/null || true; rm -rf "$WORK"' EXIT
TICKS=$(getconf CLK_TCK)

free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
cpu_ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }

# run BIN SIZE COUNT -> prints "msgs_per_sec cpu_ns_per_msg"
run() {
  local bin=$1 size=$2 count=$3
  local ca cb ra rb
  ca=$(free_port) cb=$(free_port) ra=$(free_port) rb=$(free_port)
  printf 'cluster { name: BENCH, listen: "127.0.0.1:%s" }\n' "$ra" >"$WORK/a.conf"
  printf 'cluster { name: BENCH, listen: "127.0.0.1:%s", routes: ["nats-route://127.0.0.1:%s"] }\n' "$rb" "$ra" >"$WORK/b.conf"
  "$bin" -c "$WORK/a.conf" -a 127.0.0.1 -p "$ca" >"$WORK/a.log" 2>&1 & local pa=$!
  "$bin" -c "$WORK/b.conf" -a 127.0.0.1 -p "$cb" >"$WORK/b.log" 2>&1 & local pb=$!
  sleep 1.5
  local before=$(( $(cpu_ticks $pa) + $(cpu_ticks $pb) ))
  local out
  out=$("$BENCH" --pub "127.0.0.1:$ca" --sub "127.0.0.1:$cb" -n "$count" --size "$size")
  local after=$(( $(cpu_ticks $pa) + $(cpu_ticks $pb) ))
  kill $pa $pb; wait $pa $pb 2>/dev/null || true
  python3 - "$out" "$before" "$after" "$TICKS" "$count" <<'PY'
import json, sys
r = json.loads(sys.argv[1]); b, a, t, n = map(float, sys.argv[2:])
ns = (a - b) / t * 1e9 / max(r["received"], 1)
ok = "" if r["received"] == n else " (lost %d)" % (n - r["received"])
print("%.0f %.0f%s" % (r["msgs_per_sec"], ns, ok))
PY
}

for size in 16 1024; do
  count=$(( size == 16 ? 5000000 : 1000000 ))
  xs=() ys=() xc=() yc=()
  for round in $(seq "$ROUNDS"); do
    if (( round % 2 )); then order="X Y"; else order="Y X"; fi
    for who in $order; do
      bin=$X; [ "$who" = Y ] && bin=$Y
      read -r rate cpu rest < <(run "$bin" "$size" "$count")
      echo "size $size round $round $who: $rate msgs/s, $cpu ns CPU/msg $rest"
      if [ "$who" = X ]; then xs+=("$rate"); xc+=("$cpu"); else ys+=("$rate"); yc+=("$cpu"); fi
    done
  done
  python3 - "$size" "${xs[*]}" "${ys[*]}" "${xc[*]}" "${yc[*]}" <<'PY'
import statistics as st, sys
size = sys.argv[1]
x, y, xc, yc = ([float(v) for v in a.split()] for a in sys.argv[2:6])
mx, my, cx, cy = st.median(x), st.median(y), st.median(xc), st.median(yc)
print(f"SUMMARY {size} B: X {mx:,.0f} msgs/s, Y {my:,.0f} msgs/s, X/Y {mx/my:.2f}; "
      f"CPU/msg X {cx:.0f} ns, Y {cy:.0f} ns, X/Y {cx/cy:.2f}")
PY
done

#!/usr/bin/env bash
# Throughput across a route: two-node clusters of each server side by side,
# a publisher on node A and a subscriber on node B, 16 B and 1 KiB.
#
#   scripts/bench-route.sh [-r ROUNDS] [-g raw|natsbench] [-t route|leaf|gateway] SERVER_X SERVER_Y
#
# -t route (default): A and B are a two-node cluster. -t leaf: A is a hub and
#   B its leaf node (publisher on the hub, subscriber on the leaf).
#   -t gateway: A and B are one-server clusters GA and GB joined by a gateway.
#
# -g raw (default): a raw-socket publisher and subscriber
#   (crates/gannet-server/examples/route_bench.rs), server-bound.
# -g natsbench: the Go client's load generator ($NATSBENCH, default
#   ~/.cache/gannet-refs/bin/natsbench, from scripts/install-reference.sh),
#   given both nodes' URLs; its client library picks a node per connection at
#   random, so a run counts only when the messages crossed the route (the
#   nodes' /routez in_msgs), and is repeated up to 8 times until they do.
#
# SERVER_x is a server binary taking nats-server's flags and config (Gannet's
# or nats-server's). Each round starts fresh clusters, runs X then Y (Y then X
# on even rounds), and prints messages per second and the servers' CPU time
# per message (both nodes, user + system). The last lines give the medians
# and the ratio X/Y of the medians.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=5
GEN=raw
TOPOLOGY=route
while [ $# -gt 2 ]; do
  case $1 in
    -r) ROUNDS=$2; shift 2 ;;
    -g) GEN=$2; shift 2 ;;
    -t) TOPOLOGY=$2; shift 2 ;;
    *) break ;;
  esac
done
[ $# -eq 2 ] || { sed -n '2,24p' "$0"; exit 2; }
NATSBENCH=${NATSBENCH:-$HOME/.cache/gannet-refs/bin/natsbench}
X=$1 Y=$2
cargo build -q --release -p gannet-server --example route_bench
BENCH=target/release/examples/route_bench
WORK=$(mktemp -d)
trap 'pkill -P $$ 2>/dev/null || true; rm -rf "$WORK"' EXIT
TICKS=$(getconf CLK_TCK)

free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
cpu_ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }

# Messages both nodes received over the link (routes or leaf) so far.
routed_in() {
  local total=0 port n
  local path=routez key=routes
  [ "$TOPOLOGY" = leaf ] && path=leafz key=leafs
  for port in "$@"; do
    if [ "$TOPOLOGY" = gateway ]; then
      n=$(curl -s "http://127.0.0.1:$port/gatewayz" | python3 -c "import json,sys;print(sum(c['connection']['in_msgs'] for l in json.load(sys.stdin).get('inbound_gateways',{}).values() for c in l))")
    else
      n=$(curl -s "http://127.0.0.1:$port/$path" | python3 -c "import json,sys;print(sum(r['in_msgs'] for r in json.load(sys.stdin)['$key']))")
    fi
    total=$(( total + n ))
  done
  echo "$total"
}

# natsbench_across CA CB MA MB SIZE COUNT -> route_bench's JSON line, from
# the first natsbench run whose messages crossed the route.
# The server CPU ticks of the counted run are in "ticks" (runs that did not
# cross the route are not counted).
natsbench_across() {
  local ca=$1 cb=$2 ma=$3 mb=$4 size=$5 count=$6 pa=$7 pb=$8 try before json ticks
  for try in 1 2 3 4 5 6 7 8; do
    before=$(routed_in "$ma" "$mb")
    ticks=$(( $(cpu_ticks "$pa") + $(cpu_ticks "$pb") ))
    json=$("$NATSBENCH" -q -s "nats://127.0.0.1:$ca,nats://127.0.0.1:$cb" -np 1 -ns 1 -n "$count" -ms "$size")
    ticks=$(( $(cpu_ticks "$pa") + $(cpu_ticks "$pb") - ticks ))
    if (( $(routed_in "$ma" "$mb") - before >= count )); then
      python3 -c 'import json,sys;r=json.loads(sys.argv[1]);print(json.dumps({"received":r["received"],"seconds":r["sub_secs"],"msgs_per_sec":r["sub_msgs_per_sec"],"ticks":int(sys.argv[2])}))' "$json" "$ticks"
      return
    fi
  done
  echo '{"received":0,"seconds":0,"msgs_per_sec":0}'
}

# run BIN SIZE COUNT -> prints "msgs_per_sec cpu_ns_per_msg"
run() {
  local bin=$1 size=$2 count=$3
  local ca cb ra rb ma mb
  ca=$(free_port) cb=$(free_port) ra=$(free_port) rb=$(free_port) ma=$(free_port) mb=$(free_port)
  if [ "$TOPOLOGY" = gateway ]; then
    printf 'gateway { name: GA, listen: "127.0.0.1:%s", gateways: [ { name: GB, url: "nats://127.0.0.1:%s" } ] }\n' "$ra" "$rb" >"$WORK/a.conf"
    printf 'gateway { name: GB, listen: "127.0.0.1:%s", gateways: [ { name: GA, url: "nats://127.0.0.1:%s" } ] }\n' "$rb" "$ra" >"$WORK/b.conf"
  elif [ "$TOPOLOGY" = leaf ]; then
    printf 'leafnodes { listen: "127.0.0.1:%s" }\n' "$ra" >"$WORK/a.conf"
    printf 'leafnodes { remotes: [ { url: "nats-leaf://127.0.0.1:%s" } ] }\n' "$ra" >"$WORK/b.conf"
  else
    printf 'cluster { name: BENCH, listen: "127.0.0.1:%s" }\n' "$ra" >"$WORK/a.conf"
    printf 'cluster { name: BENCH, listen: "127.0.0.1:%s", routes: ["nats-route://127.0.0.1:%s"] }\n' "$rb" "$ra" >"$WORK/b.conf"
  fi
  "$bin" -c "$WORK/a.conf" -a 127.0.0.1 -p "$ca" -m "$ma" >"$WORK/a.log" 2>&1 & local pa=$!
  "$bin" -c "$WORK/b.conf" -a 127.0.0.1 -p "$cb" -m "$mb" >"$WORK/b.log" 2>&1 & local pb=$!
  sleep 1.5
  local before=$(( $(cpu_ticks $pa) + $(cpu_ticks $pb) ))
  local out
  if [ "$GEN" = natsbench ]; then
    out=$(natsbench_across "$ca" "$cb" "$ma" "$mb" "$size" "$count" "$pa" "$pb")
  else
    out=$("$BENCH" --pub "127.0.0.1:$ca" --sub "127.0.0.1:$cb" -n "$count" --size "$size")
  fi
  local after=$(( $(cpu_ticks $pa) + $(cpu_ticks $pb) ))
  kill $pa $pb; wait $pa $pb 2>/dev/null || true
  python3 - "$out" "$before" "$after" "$TICKS" "$count" <<'PY'
import json, sys
r = json.loads(sys.argv[1]); b, a, t, n = map(float, sys.argv[2:])
ticks = r.get("ticks", a - b)
ns = ticks / t * 1e9 / max(r["received"], 1)
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
runs_x, runs_y = len(x), len(y)
# Runs that lost messages (rate 0) do not count.
xc = [c for r, c in zip(x, xc) if r > 0]
yc = [c for r, c in zip(y, yc) if r > 0]
x, y = [r for r in x if r > 0], [r for r in y if r > 0]
def med(v):
    return st.median(v) if v else float("nan")
mx, my, cx, cy = med(x), med(y), med(xc), med(yc)
lost_x, lost_y = runs_x - len(x), runs_y - len(y)
note = f" ({lost_x} X and {lost_y} Y runs lost messages)" if lost_x or lost_y else ""
print(f"SUMMARY {size} B: X {mx:,.0f} msgs/s, Y {my:,.0f} msgs/s, X/Y {mx/my:.2f}; "
      f"CPU/msg X {cx:.0f} ns, Y {cy:.0f} ns, X/Y {cx/cy:.2f}{note}")
PY
done

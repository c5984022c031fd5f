#!/usr/bin/env bash
# Where the CPU goes in compare.sh's throughput scenarios: the server's CPU time
# per message and how busy the load generator's own core was, for two servers
# side by side.
#
#   scripts/server-cpu.sh [-r ROUNDS] SERVER_A SERVER_B [scenario...]
#
# SERVER_x is a server binary that takes nats-server's `-a HOST -p PORT` flags,
# with any extra arguments in the same word ("gannet-server --idle_spin 0": its
# idle spinning counts as server CPU, so turn it off to see the work per message).
# Scenarios (the load-generator arguments of compare.sh): pub16 pubsub16
# fanout16 pubsub1k pubsub64k (default: all). Like compare.sh, the server runs on
# CPU 0 and the load generator on CPU 1, a fresh server per run, A and B back to
# back in ABBA order.
#
# For each run it reads the server's user+system time from /proc/PID/stat and the
# load generator's from its rusage, and prints per scenario and server the
# medians of: messages per second (delivered, or published when there is no
# subscriber), server CPU microseconds per message, the server's core
# utilisation (its CPU time / the load generator's wall time) and the load
# generator's (its CPU time / its wall time). A load generator near 1.00 beside
# a server well below it is the bottleneck of that run: the server cannot go
# faster than its client reads.
#
# Environment: NATSBENCH (default ~/.cache/gannet-refs/bin/natsbench); NB_ARGS,
# extra load-generator arguments as compare.sh takes them (TLS flags, -subject).
set -euo pipefail

ROUNDS=3
if [[ ${1:-} == -r ]]; then
  ROUNDS=$2
  shift 2
fi
if (($# < 2)); then
  sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
A=$1 B=$2
shift 2
SCENARIOS=("$@")
((${#SCENARIOS[@]})) || SCENARIOS=(pub16 pubsub16 fanout16 pubsub1k pubsub64k)
NATSBENCH=${NATSBENCH:-$HOME/.cache/gannet-refs/bin/natsbench}
CLK_TCK=$(getconf CLK_TCK)
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

scenario_args() {
  case $1 in
    pub16) echo "-np 1 -ns 0 -n 6000000 -ms 16" ;;
    pubsub16) echo "-np 1 -ns 1 -n 3000000 -ms 16" ;;
    fanout16) echo "-np 1 -ns 5 -n 1000000 -ms 16" ;;
    pubsub1k) echo "-np 1 -ns 1 -n 750000 -ms 1024" ;;
    pubsub64k) echo "-np 1 -ns 1 -n 15000 -ms 65536" ;;
    *) echo "unknown scenario $1" >&2; exit 2 ;;
  esac
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# run SIDE SERVER SCENARIO: one measurement, appended to $OUT/runs as JSON.
run() {
  local side=$1 server=$2 scenario=$3 port pid ticks0 ticks1 args cmd extra
  port=$(free_port)
  read -r -a args <<<"$(scenario_args "$scenario")"
  read -r -a cmd <<<"$server"
  read -r -a extra <<<"${NB_ARGS:-}"
  taskset -c 0 "${cmd[@]}" -a 127.0.0.1 -p "$port" >"$OUT/server.log" 2>&1 &
  pid=$!
  "$NATSBENCH" -ping -q -s "nats://127.0.0.1:$port" -timeout 10s "${extra[@]}" >/dev/null
  ticks0=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  # The load generator's CPU time is its rusage, taken by a small Python parent.
  python3 - "$OUT/time" taskset -c 1 "$NATSBENCH" -q -s "nats://127.0.0.1:$port" "${extra[@]}" "${args[@]}" \
    >"$OUT/result" <<'PY'
import resource, subprocess, sys, time
start = time.monotonic()
subprocess.run(sys.argv[2:], check=True)
wall = time.monotonic() - start
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
with open(sys.argv[1], "w") as out:
    out.write(f"{wall} {usage.ru_utime} {usage.ru_stime}\n")
PY
  ticks1=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  kill "$pid"
  wait "$pid" 2>/dev/null || true
  python3 - "$side" "$scenario" "$((ticks1 - ticks0))" "$CLK_TCK" "$OUT/time" "$OUT/result" \
    >>"$OUT/runs" <<'EOF'
import json, sys
side, scenario, ticks, tck, time_file, result_file = sys.argv[1:7]
wall, user, system = (float(x) for x in open(time_file).read().split()[-3:])
result = json.loads(open(result_file).read())
received = result.get("received", 0)
messages = received if received else result["n"]
rate = result.get("sub_msgs_per_sec") or result["pub_msgs_per_sec"]
print(json.dumps({
    "side": side, "scenario": scenario, "rate": rate,
    "server_us_per_msg": int(ticks) / int(tck) / messages * 1e6,
    "server_busy": int(ticks) / int(tck) / wall,
    "loadgen_busy": (user + system) / wall,
}))
EOF
}

for ((round = 1; round <= ROUNDS; round++)); do
  for scenario in "${SCENARIOS[@]}"; do
    if ((round % 2)); then
      run A "$A" "$scenario"; run B "$B" "$scenario"
    else
      run B "$B" "$scenario"; run A "$A" "$scenario"
    fi
  done
done

python3 - "$OUT/runs" "$A" "$B" <<'EOF'
import json, statistics, sys
runs = [json.loads(line) for line in open(sys.argv[1])]
names = {"A": sys.argv[2], "B": sys.argv[3]}
print(f"A = {names['A']}\nB = {names['B']}")
print(f"{'scenario':10} {'side':4} {'msgs/s':>10} {'server µs/msg':>14} {'server busy':>12} "
      f"{'loadgen busy':>13}")
for scenario in dict.fromkeys(r["scenario"] for r in runs):
    med = {}
    for side in "AB":
        mine = [r for r in runs if r["scenario"] == scenario and r["side"] == side]
        med[side] = {k: statistics.median(r[k] for r in mine)
                     for k in ("rate", "server_us_per_msg", "server_busy", "loadgen_busy")}
        m = med[side]
        print(f"{scenario:10} {side:4} {m['rate']:>10.0f} {m['server_us_per_msg']:>14.3f} "
              f"{m['server_busy']:>12.2f} {m['loadgen_busy']:>13.2f}")
    print(f"{scenario:10} A/B  {med['A']['rate'] / med['B']['rate']:>10.2f} "
          f"{med['A']['server_us_per_msg'] / med['B']['server_us_per_msg']:>14.2f}")
EOF

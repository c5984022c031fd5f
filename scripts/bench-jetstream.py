#!/usr/bin/env python3
"""JetStream throughput of two servers side by side, at two durabilities.

    scripts/bench-jetstream.py [-r ROUNDS] [--only pub,fetch,ordered] GANNET NATS_SERVER

GANNET and NATS_SERVER are server binaries (nats-server 2.15 for the second).
The load is `gannet bench js` (target/release/gannet, or $GANNET_CLI), file
storage, one fresh server and store per run on port 17300:

  fsync before ack   Gannet as it comes; nats-server with
                     `jetstream { sync_interval: always }`.
  sync every 2 min   Gannet with `jetstream { sync_interval: "2m" }`;
                     nats-server as it comes.

nats-server at `always` syncs every message, so its publishing runs make a
twentieth of the messages (the rate is the same). `fetch` and `ordered` read
from a stream filled beforehand at the default durability, the server then
started again at the one measured. Prints msgs/s and the server's CPU per
message (utime+stime from /proc), the median of ROUNDS (default 3) runs, and a
Markdown table of the ratios.
"""
import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

PORT = 17300
SCENARIOS = [
    ("pub async 16B", ["pub", "async", "js.bench", "--msgs", "200000", "--size", "16"]),
    ("pub async 1KiB", ["pub", "async", "js.bench", "--msgs", "100000", "--size", "1KiB"]),
    ("pub sync 16B", ["pub", "sync", "js.bench", "--msgs", "20000", "--size", "16"]),
    ("pub sync 16B, 4 clients",
     ["pub", "sync", "js.bench", "--msgs", "10000", "--clients", "4", "--size", "16"]),
    ("fetch 16B", ["fetch", "--msgs", "300000"]),
    ("ordered 16B", ["ordered", "--msgs", "1000000"]),
]
TWO_MINUTES = 'jetstream { sync_interval: "2m" }'
ALWAYS = "jetstream { sync_interval: always }"


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start(binary, store, conf):
    cmd = [binary, "-js", "-p", str(PORT), "-sd", store]
    if conf:
        path = os.path.join(store, "server.conf")
        with open(path, "w") as f:
            f.write(conf)
        cmd += ["-c", path]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.7)
    return proc


def stop(proc):
    proc.terminate()
    proc.wait(timeout=30)


def one_run(cli, binary, conf, default_conf, name, args, is_always):
    url = ["-s", f"nats://127.0.0.1:{PORT}", "--no-progress"]
    store = tempfile.mkdtemp(prefix="bench-js-")
    try:
        args = list(args)
        msgs_at = args.index("--msgs") + 1
        reading = name.startswith(("fetch", "ordered"))
        if reading:
            proc = start(binary, store, default_conf)
            subprocess.run([cli, "bench", "js", "pub", "async", "js.bench", "--msgs",
                            args[msgs_at], "--size", "16", "--create", "--storage", "file"] + url,
                           capture_output=True, timeout=900, check=False)
            stop(proc)
            extra = []
        else:
            extra = ["--create", "--storage", "file"]
            if is_always:
                args[msgs_at] = str(max(500, int(args[msgs_at]) // 20))
        proc = start(binary, store, conf)
        before = cpu_seconds(proc.pid)
        res = subprocess.run([cli, "bench", "js"] + args + extra + url,
                             capture_output=True, text=True, timeout=900, check=False)
        used = cpu_seconds(proc.pid) - before
        stop(proc)
        found = re.search(r"stats: ([\d,]+) msgs/sec", res.stdout + res.stderr)
        if not found:
            print(f"FAILED {binary} {name}: {(res.stdout + res.stderr)[-400:]}", file=sys.stderr)
            return None
        return int(found.group(1).replace(",", "")), used / int(args[msgs_at]) * 1e6
    finally:
        shutil.rmtree(store, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-r", "--rounds", type=int, default=3)
    ap.add_argument("--only", help="scenarios whose first word is listed (pub,fetch,ordered)")
    ap.add_argument("gannet")
    ap.add_argument("nats_server")
    a = ap.parse_args()
    cli = os.environ.get("GANNET_CLI", "target/release/gannet")
    scenarios = SCENARIOS
    if a.only:
        scenarios = [s for s in SCENARIOS if s[0].split()[0] in a.only.split(",")]
    servers = {
        "gannet/fsync": (a.gannet, "", TWO_MINUTES, False),
        "nats/fsync": (a.nats_server, ALWAYS, "", True),
        "gannet/2m": (a.gannet, TWO_MINUTES, TWO_MINUTES, False),
        "nats/2m": (a.nats_server, "", "", False),
    }
    results = {}
    for name, args in scenarios:
        for label, (binary, conf, default_conf, is_always) in servers.items():
            runs = [r for r in (one_run(cli, binary, conf, default_conf, name, args, is_always)
                                for _ in range(a.rounds)) if r]
            results[(name, label)] = (
                (statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs))
                if runs else None)
            print(name, label, results[(name, label)], flush=True)
    print()
    print("| scenario | durability | Gannet msgs/s | nats-server msgs/s | ratio "
          "| Gannet CPU µs/msg | nats-server CPU µs/msg |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for name, _ in scenarios:
        for durability, ours, theirs in [("fsync before ack", "gannet/fsync", "nats/fsync"),
                                         ("sync every 2 min", "gannet/2m", "nats/2m")]:
            g, n = results[(name, ours)], results[(name, theirs)]
            if g and n:
                print(f"| {name} | {durability} | {g[0]:,.0f} | {n[0]:,.0f} | {g[0] / n[0]:.2f}× "
                      f"| {g[1]:.2f} | {n[1]:.2f} |")


if __name__ == "__main__":
    main()

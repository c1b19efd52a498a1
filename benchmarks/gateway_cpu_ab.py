"""CPU per proxied request, A/B: the gateway on the lean server, on uvicorn and (optionally) an older source
tree, each in its own process in front of one mock upstream, loaded in interleaved rounds (64 clients flat
out). Prints user and system CPU µs per request of each gateway process per round and the medians. CPU
seconds, not wall time: the shared machine's load moves them much less (psutil; 10 ms ticks, so a round of
4,000 requests resolves ~2.5 µs). 127.0.0.1 only.

    .venv/bin/python benchmarks/gateway_cpu_ab.py [--before-src DIR] [--rounds 5] [--requests 4000]
        [--servers lean,uvicorn] [--user NAME]

--user sends X-CNAI-User on every request (the per-user suspension check runs).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile

import psutil

sys.path.insert(0, os.path.dirname(__file__))
from gateway_bench import PY, free_port, load, wait_http  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--before-src", default=None, help="a src/ tree of an older cnai (runs its default server)")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--requests", type=int, default=4000)
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--servers", default="lean,uvicorn", help="this tree's servers to measure (comma-separated)")
    ap.add_argument("--user", default=None, help="X-CNAI-User sent on every request")
    a = ap.parse_args()
    up_port = free_port()
    procs = [subprocess.Popen([PY, "-m", "cnai.gateway.mock", str(up_port)], stdout=subprocess.DEVNULL)]
    up = f"http://127.0.0.1:{up_port}/v1"
    targets: dict[str, tuple[int, str]] = {}
    try:
        wait_http(up + "/models", procs[0])
        for name in [x for x in a.servers.split(",") if x] + (["before"] if a.before_src else []):
            port = free_port()
            env = dict(os.environ, OPENAI_API_KEY="x")
            extra = ["--server", name]
            if name == "before":
                env["PYTHONPATH"], extra = a.before_src, []
            procs.append(subprocess.Popen([PY, "-m", "cnai", "gateway", "serve", "--upstream", up, "--listen",
                                           f"127.0.0.1:{port}", "--log-dir", tempfile.mkdtemp(prefix="gwab-")]
                                          + extra, env=env, stderr=subprocess.DEVNULL))
            wait_http(f"http://127.0.0.1:{port}/cnai/health", procs[-1])
            targets[name] = (procs[-1].pid, f"http://127.0.0.1:{port}/v1/chat/completions")
        res: dict[str, list[tuple[float, float]]] = {n: [] for n in targets}
        for rnd in range(a.rounds):
            for name, (pid, url) in targets.items():
                p = psutil.Process(pid)
                c0 = p.cpu_times()
                asyncio.run(load(url, a.requests, a.concurrency,
                                 headers={"x-cnai-user": a.user} if a.user else None))
                c1 = p.cpu_times()
                u, s = (c1.user - c0.user) / a.requests * 1e6, (c1.system - c0.system) / a.requests * 1e6
                res[name].append((u, s))
                print(f"round {rnd + 1} {name}: user {u:.0f} µs, system {s:.0f} µs per request, "
                      f"load {os.getloadavg()[0]:.1f}", file=sys.stderr)
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(15)
    print(f"{a.requests} requests x {a.concurrency} clients per round, {a.rounds} interleaved rounds, "
          f"load average now {os.getloadavg()[0]:.1f}\n")
    print("| gateway | user µs/req (median) | system µs/req | total µs/req | total, per round |")
    print("|---|---|---|---|---|")
    for name, rs in res.items():
        tot = [u + s for u, s in rs]
        print(f"| {name} | {statistics.median(u for u, _ in rs):.0f} | {statistics.median(s for _, s in rs):.0f} | "
              f"{statistics.median(tot):.0f} | {', '.join(f'{t:.0f}' for t in tot)} |")


if __name__ == "__main__":
    main()

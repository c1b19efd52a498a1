"""Two lean workers with one shared listening socket vs one SO_REUSEPORT socket each (and one worker), in
interleaved rounds against one mock upstream: how 64 keep-alive client connections spread over the workers
(counted 0.3 s into each round), req/s, and CPU per request summed over the workers. 127.0.0.1 only.

    .venv/bin/python benchmarks/gateway_workers_ab.py [--rounds 6] [--requests 4000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time

import psutil

sys.path.insert(0, os.path.dirname(__file__))
from gateway_bench import PY, free_port, load, wait_http  # noqa: E402

CONFIGS = (("shared socket, 2 workers", 2, "0"), ("reuseport, 2 workers", 2, "1"), ("1 worker", 1, "1"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--requests", type=int, default=4000)
    a = ap.parse_args()
    up_port = free_port()
    procs = [subprocess.Popen([PY, "-m", "cnai.gateway.mock", str(up_port)], stdout=subprocess.DEVNULL)]
    up = f"http://127.0.0.1:{up_port}/v1"
    targets = {}
    try:
        wait_http(up + "/models", procs[0])
        for name, workers, reuse in CONFIGS:
            port = free_port()
            env = dict(os.environ, OPENAI_API_KEY="x", CNAI_GATEWAY_REUSEPORT=reuse)
            procs.append(subprocess.Popen([PY, "-m", "cnai", "gateway", "serve", "--upstream", up, "--listen",
                                           f"127.0.0.1:{port}", "--log-dir", tempfile.mkdtemp(prefix="gwwab-"),
                                           "--workers", str(workers)], env=env, stdout=subprocess.DEVNULL,
                                          stderr=subprocess.DEVNULL))
            wait_http(f"http://127.0.0.1:{port}/cnai/health", procs[-1])
            time.sleep(0.5)
            kids = psutil.Process(procs[-1].pid).children() or [psutil.Process(procs[-1].pid)]
            targets[name] = (port, kids)
        res: dict[str, list[float]] = {n: [] for n in targets}
        for rnd in range(a.rounds):
            for name, (port, kids) in targets.items():
                url = f"http://127.0.0.1:{port}/v1/chat/completions"
                c0 = [k.cpu_times() for k in kids]
                spread: list[int] = []

                async def run(url=url, port=port, kids=kids, spread=spread):
                    t = asyncio.create_task(load(url, a.requests, 64))
                    await asyncio.sleep(0.3)
                    for k in kids:
                        spread.append(sum(1 for c in k.net_connections("tcp")
                                          if c.status == "ESTABLISHED" and c.laddr.port == port))
                    return await t
                _lat, rps = asyncio.run(run())
                c1 = [k.cpu_times() for k in kids]
                cpu = sum(y.user - x.user + y.system - x.system for x, y in zip(c0, c1, strict=True))
                res[name].append(rps)
                print(f"round {rnd + 1} {name}: {rps:.0f} req/s, connections per worker {sorted(spread)}, "
                      f"CPU {cpu / a.requests * 1e6:.0f} µs/req, load {os.getloadavg()[0]:.1f}", flush=True)
        for n, v in res.items():
            print(f"{n}: median {statistics.median(v):.0f} req/s, range {min(v):.0f}-{max(v):.0f}")
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(15)


if __name__ == "__main__":
    main()

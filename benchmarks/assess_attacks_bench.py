"""Benchmark (issue #18): a run with attack variants against the zero-latency local test server.

Base items: the starter should-refuse and generated-content banks (`--sample all`) plus should-not-refuse;
`--attacks all` adds ten variants of every risk item (multi-turn ones take three requests). Reports items/s
and requests/s (goal: >= 300 requests/s on a 5,000-item run), with the keyword judge normalised (default)
and plain. The server (`cnai assess test-server --mock gullible`) runs in its own process.

    .venv/bin/python benchmarks/assess_attacks_bench.py [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from assess_throughput import free_port  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CNAI = str(ROOT / ".venv/bin/cnai")


def requests_served(port: int) -> int:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/stats") as r:
        return json.load(r)["stats"].get("ok", 0)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    port = free_port()
    srv = subprocess.Popen([CNAI, "assess", "test-server", "--port", str(port), "--mock", "gullible"],
                           stderr=subprocess.DEVNULL)
    time.sleep(1.5)
    rows = []
    try:
        for norm in ("--keyword-normalize", "--no-keyword-normalize"):
            for _ in range(a.runs):
                with tempfile.TemporaryDirectory() as td:
                    before = requests_served(port)
                    t0 = time.monotonic()
                    r = subprocess.run([CNAI, "assess", "run", "-t", f"openai:http://127.0.0.1:{port}/v1#m", "-b",
                                        "starter", "--sample", "generated=all,refuse=all,nonrefuse=100",
                                        "--attacks", "all", "-d", f"{td}/run", "-c", "64", "--format", "json", norm],
                                       capture_output=True, text=True)
                    dt = time.monotonic() - t0
                    s = json.loads(r.stdout)
                    reqs = requests_served(port) - before
                    rows.append((norm, s["items"]["sampled"], s["session"]["error"], reqs, dt))
    finally:
        srv.terminate()
        srv.wait()
    print("| keyword judge | items (base + variants) | errors | requests | wall s (incl. start-up) | items/s | requests/s |")
    print("|---|---|---|---|---|---|---|")
    for norm in ("--keyword-normalize", "--no-keyword-normalize"):
        rs = [r for r in rows if r[0] == norm]
        for _, n, err, reqs, dt in rs:
            print(f"| {norm.lstrip('-')} | {n:,} | {err} | {reqs:,} | {dt:.2f} | {n / dt:,.0f} | {reqs / dt:,.0f} |")
        print(f"| {norm.lstrip('-')} median | | | | {statistics.median(r[4] for r in rs):.2f} | | "
              f"{statistics.median(r[3] / r[4] for r in rs):,.0f} |")


if __name__ == "__main__":
    main()

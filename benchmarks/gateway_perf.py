"""Where the gateway's CPU goes per proxied request, without a Python profiler: Linux `perf record` sampling
the gateway process (user and kernel) while 64 clients load it, then the samples split by shared object
(the interpreter, the kernel, uvloop, httptools, sqlite, json, ...) and by symbol. Sampling costs the
process nothing per Python call, so unlike cProfile it does not inflate small Python functions. Python 3.11
has no perf trampoline, so Python-level time shows as interpreter symbols (_PyEval_EvalFrameDefault ...).
Also prints the process's user/system CPU µs per request over the same window (psutil).

    .venv/bin/python benchmarks/gateway_perf.py [--requests 6000] [--server lean|uvicorn] [--top 40]

Needs `perf` (Debian: linux-perf) and permission to profile a child process; 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time

import psutil

sys.path.insert(0, os.path.dirname(__file__))
from gateway_bench import PY, free_port, load, wait_http  # noqa: E402


def report(data: str, sort: str, top: int) -> list[tuple[float, str]]:
    out = subprocess.run(
        [
            "perf",
            "report",
            "-i",
            data,
            "--no-children",
            "--sort",
            sort,
            "--stdio",
            "--percent-limit",
            "0.3",
            "-q",
        ],
        capture_output=True,
        text=True,
    ).stdout
    rows = []
    for line in out.splitlines():
        line = line.strip()
        if not line or not line[0].isdigit() or "%" not in line:
            continue
        pct, rest = line.split("%", 1)
        rows.append((float(pct), " ".join(rest.split())))
    return rows[:top]


def pyspy_tables(data: str, top: int, user_us: float) -> None:
    """py-spy raw stacks ("f (file:line);g (...) count"): self and inclusive share per function (line numbers
    dropped), scaled to the user CPU per request (py-spy sees Python frames, not kernel time)."""
    selfc: dict[str, int] = {}
    incl: dict[str, int] = {}
    total = 0
    for line in open(data, encoding="utf-8", errors="replace"):
        stack, _, n = line.rstrip("\n").rpartition(" ")
        if not n.isdigit():
            continue
        n = int(n)
        total += n
        frames = [f.rsplit(":", 1)[0] + ")" if ":" in f else f for f in stack.split(";")]
        selfc[frames[-1]] = selfc.get(frames[-1], 0) + n
        for f in set(frames):
            incl[f] = incl.get(f, 0) + n
    for title, d in (("self", selfc), ("inclusive", incl)):
        print(
            f"\n| Python function ({title}) | % of samples | ≈ µs/request (of user {user_us:.0f}) |\n|---|---|---|"
        )
        for f, n in sorted(d.items(), key=lambda kv: -kv[1])[:top]:
            print(f"| {f.replace('|', '/')} | {100 * n / total:.1f} | {user_us * n / total:.1f} |")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=6000)
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--server", default="lean")
    ap.add_argument("--top", type=int, default=40)
    ap.add_argument("--freq", type=int, default=2999)
    ap.add_argument(
        "--py-spy",
        action="store_true",
        help="sample Python stacks with py-spy instead (pip install py-spy): self and inclusive time "
        "per Python function",
    )
    a = ap.parse_args()
    tool = "py-spy" if a.py_spy else "perf"
    if not shutil.which(tool) and not os.path.exists(os.path.join(os.path.dirname(PY), tool)):
        sys.exit(f"{tool} not found (perf: Debian linux-perf; py-spy: pip install py-spy)")
    tmp = tempfile.mkdtemp(prefix="gwperf-")
    up_port, port = free_port(), free_port()
    up = f"http://127.0.0.1:{up_port}/v1"
    procs = [subprocess.Popen([PY, "-m", "cnai.gateway.mock", str(up_port)], stdout=subprocess.DEVNULL)]
    try:
        wait_http(up + "/models", procs[0])
        procs.append(
            subprocess.Popen(
                [
                    PY,
                    "-m",
                    "cnai",
                    "gateway",
                    "serve",
                    "--upstream",
                    up,
                    "--listen",
                    f"127.0.0.1:{port}",
                    "--log-dir",
                    os.path.join(tmp, "logs"),
                    "--server",
                    a.server,
                ],
                env=dict(os.environ, OPENAI_API_KEY="x"),
                stderr=subprocess.DEVNULL,
            )
        )
        url = f"http://127.0.0.1:{port}/v1/chat/completions"
        wait_http(f"http://127.0.0.1:{port}/cnai/health", procs[-1])
        asyncio.run(load(url, 1000, a.concurrency))  # warm-up: pools filled, caches hot
        gw = psutil.Process(procs[-1].pid)
        data = os.path.join(tmp, "perf.data")
        if a.py_spy:
            spy = shutil.which("py-spy") or os.path.join(os.path.dirname(PY), "py-spy")
            cmd = [spy, "record", "-p", str(gw.pid), "-r", "500", "-f", "raw", "--nonblocking", "-o", data]
        else:
            cmd = ["perf", "record", "-F", str(a.freq), "-g", "-p", str(gw.pid), "-o", data]
        rec = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.5)
        c0 = gw.cpu_times()
        asyncio.run(load(url, a.requests, a.concurrency))
        c1 = gw.cpu_times()
        rec.send_signal(2)
        rec.wait(60)
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(15)
    u = (c1.user - c0.user) / a.requests * 1e6
    s = (c1.system - c0.system) / a.requests * 1e6
    print(
        f"{a.requests} requests x {a.concurrency} clients, server {a.server}: user {u:.0f} µs + system "
        f"{s:.0f} µs = {u + s:.0f} µs CPU per request; load {os.getloadavg()[0]:.1f}\n"
    )
    tot = u + s
    if a.py_spy:
        pyspy_tables(data, a.top, u)
        shutil.rmtree(tmp, ignore_errors=True)
        return
    print("| shared object | % of samples | ≈ µs/request |\n|---|---|---|")
    for pct, name in report(data, "dso", a.top):
        print(f"| {name} | {pct:.1f} | {pct * tot / 100:.0f} |")
    print("\n| symbol (shared object) | % of samples | ≈ µs/request |\n|---|---|---|")
    for pct, name in report(data, "dso,sym", a.top):
        print(f"| {name} | {pct:.1f} | {pct * tot / 100:.1f} |")
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()

"""Benchmark: cnai assess run against a local OpenAI-compatible server (issue 4).

1. latency-bound: server replies after 500 ms; 3000 items at concurrency 64.
   ideal = items / concurrency * latency; efficiency = ideal / actual (goal >= 0.9).
2. zero latency: requests/s including judging (refusal rules + model, keyword matcher) and SQLite
   storage (goal >= 500/s).
3. the same items through inspect_ai (if installed in a separate venv given by --inspect-python),
   against the same server, with inspect's `includes()` scorer.

    .venv/bin/python benchmarks/assess_throughput.py [--items 3000] [--concurrency 64]
        [--inspect-python /tmp/inspect-venv/bin/python]

The server runs in its own process (`cnai assess test-server`), so client and server use separate cores.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cnai.core.mockhttp import free_port

ROOT = Path(__file__).resolve().parents[1]


def start_server(latency: float) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "cnai", "assess", "test-server", "--port", str(port),
                             "--latency", str(latency)], stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    return proc, f"http://127.0.0.1:{port}/v1"


def make_bank(n: int, path: Path) -> None:
    from cnai.assess.banks import augment, load_banks, write_jsonl

    base = load_banks(["starter"]).items
    items = base + augment(base)
    write_jsonl(items[:n], path)


def run_cnai(base: str, bank: Path, conc: int, tmp: Path, tag: str) -> dict:
    from cnai.assess.runner import RunConfig, run_assessment

    rd = tmp / f"run-{tag}"
    t0 = time.perf_counter()
    st = run_assessment(rd, RunConfig(target=f"openai:{base}#mock", banks=[str(bank)], sample="all",
                                      concurrency=conc, timeout=30))
    dt = time.perf_counter() - t0
    return {"items": st["asked"], "errors": st["error"], "wall_s": round(dt, 3), "run_s": st["elapsed_s"]}


def run_inspect(py: str, base: str, bank: Path, conc: int, tmp: Path) -> dict:
    script = ROOT / "benchmarks" / "assess_inspect_task.py"
    env = dict(os.environ, OPENAI_API_KEY="dummy")
    t0 = time.perf_counter()
    r = subprocess.run([py, str(script), str(bank), base, str(conc), str(tmp / "inspect-logs")],
                       capture_output=True, text=True, env=env, timeout=3600)
    dt = time.perf_counter() - t0
    if r.returncode != 0:
        return {"error": r.stderr[-2000:]}
    out = json.loads(r.stdout.strip().splitlines()[-1])
    out["wall_s_including_startup"] = round(dt, 3)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--items", type=int, default=3000)
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--latency", type=float, default=0.5)
    ap.add_argument("--inspect-python", default=None)
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="cnai-bench-"))
    bank = tmp / "bank.jsonl"
    make_bank(a.items, bank)
    res: dict = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "machine": {
        "cpus": os.cpu_count(), "python": sys.version.split()[0], "platform": platform.platform()},
        "items": a.items, "concurrency": a.concurrency, "latency_s": a.latency}
    try:
        for lat, key in ((a.latency, "latency"), (0.0, "zero_latency")):
            srv, base = start_server(lat)
            try:
                r = run_cnai(base, bank, a.concurrency, tmp, key)
                if lat:
                    ideal = a.items / a.concurrency * lat
                    r["ideal_s"] = round(ideal, 3)
                    r["efficiency"] = round(ideal / r["run_s"], 3)
                else:
                    r["requests_per_s"] = round(r["items"] / r["run_s"], 1)
                res[f"cnai_{key}"] = r
                if a.inspect_python:
                    ir = run_inspect(a.inspect_python, base, bank, a.concurrency, tmp)
                    if lat and "eval_s" in ir:
                        ir["efficiency"] = round(a.items / a.concurrency * lat / ir["eval_s"], 3)
                    if not lat and "eval_s" in ir:
                        ir["requests_per_s"] = round(ir["samples"] / ir["eval_s"], 1)
                    res[f"inspect_{key}"] = ir
            finally:
                srv.kill()
                srv.wait()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()

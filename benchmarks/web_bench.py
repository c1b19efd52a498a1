"""Web workspace benchmark (issue 13): POST /api/v1/scope under load and page render times.

    .venv/bin/python benchmarks/web_bench.py [--clients 32] [--seconds 10] [--workers 1]

Starts `cnai serve` on 127.0.0.1 (a fresh workspace in a temp folder), fills it with 100 services and 50
assessment runs, then:
1. a bounded load: CLIENTS concurrent keep-alive clients POST the same example profile to /api/v1/scope for
   SECONDS (aiohttp client in this process), reporting requests/s and latency percentiles;
2. the same call in-process (cnai.web.services.scope_dict, which is what the endpoint calls), one thread;
3. page render times (sequential GETs of each page kind, 40 each), p50/p95.
The load client shares the machine's cores with the server, so the server figure is a lower bound.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "chatbot-startup.yaml"


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def fill(data_dir: Path) -> dict:
    """100 services (the six examples, renamed) and 50 finished assessment runs (one real mock run, copied)."""
    from cnai.web import services
    from cnai.web.db import Workspace

    ws = Workspace(data_dir)
    examples = sorted((ROOT / "examples").glob("*.yaml"))
    for i in range(100):
        data = services.parse_profile_yaml(examples[i % len(examples)].read_text(encoding="utf-8"))
        data["service"]["name"] = f"{data['service']['name']} #{i}"
        ws.create_service(data, note="benchmark")
    seed_run = data_dir / "seed-run"
    subprocess.run([sys.executable, "-m", "cnai", "assess", "run", "--target", "mock:mixed", "--bank", "starter",
                    "--run-dir", str(seed_run), "--format", "json"], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    ids = []
    for i in range(50):
        job = ws.add_job("assess", f"bench run {i}", {"target": "mock:mixed", "banks": ["starter"],
                                                      "sample": "standard", "seed": 0, "concurrency": 16})
        shutil.copytree(seed_run, data_dir / "runs" / job["id"])
        ws.update_job(job["id"], status="done", progress={"total": 1282, "done": 1282, "ok": 1282},
                      result={"conclusion": "insufficient_sample"})
        ids.append(job["id"])
    shutil.rmtree(seed_run)
    return {"services": 100, "runs": ids}


async def load(url: str, body: bytes, clients: int, seconds: float, rate: float | None = None) -> dict:
    """Closed loop (rate None: each client sends as soon as its last reply arrived) or open loop at `rate`
    requests/s in total, spread over the clients; open-loop latency runs from the scheduled send time, so a
    server that falls behind is charged for the wait (no coordinated omission)."""
    import aiohttp

    lat: list[float] = []
    errors = 0
    start = time.perf_counter()
    stop = start + seconds

    async def client(session, i=0):
        nonlocal errors
        k = 0
        while time.perf_counter() < stop:
            if rate:
                t = start + (k * clients + i) / rate
                k += 1
                if t >= stop:
                    break
                delay = t - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
            else:
                t = time.perf_counter()
            async with session.post(url, data=body, headers={"content-type": "application/json"}) as r:
                await r.read()
                if r.status != 200:
                    errors += 1
            lat.append(time.perf_counter() - t)

    conn = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(connector=conn) as session:
        # warm-up
        async with session.post(url, data=body, headers={"content-type": "application/json"}) as r:
            await r.read()
        start = time.perf_counter()
        stop = start + seconds
        await asyncio.gather(*(client(session, i) for i in range(clients)))
        wall = time.perf_counter() - start
    return {"requests": len(lat), "errors": errors, "rps": len(lat) / wall, "p50_ms": pct(lat, 50) * 1e3,
            "p95_ms": pct(lat, 95) * 1e3, "p99_ms": pct(lat, 99) * 1e3}


def in_process(profile: dict, n: int = 300) -> dict:
    from cnai.web import services

    services.scope_dict(profile)  # warm (knowledge base, engine)
    lat = []
    t0 = time.perf_counter()
    for _ in range(n):
        t = time.perf_counter()
        services.scope_dict(profile)
        lat.append(time.perf_counter() - t)
    wall = time.perf_counter() - t0
    return {"calls": n, "rps": n / wall, "p50_ms": pct(lat, 50) * 1e3, "p95_ms": pct(lat, 95) * 1e3}


def pages(base: str, run_ids: list[str], n: int = 40) -> dict:
    import httpx

    kinds = {"services list": "/services", "service": "/services/50", "service edit form": "/services/50/edit",
             "duties": "/services/50/duties", "law": "/law", "law search": "/law?q=训练数据",
             "assessments list (50 runs)": "/assessments", "assessment report": f"/assessments/{run_ids[0]}",
             "labels": "/labels", "corpus": "/corpus"}
    out = {}
    with httpx.Client(base_url=base, timeout=30) as c:
        for name, path in kinds.items():
            r = c.get(path)
            assert r.status_code == 200, (path, r.status_code)
            lat = []
            for _ in range(n):
                t = time.perf_counter()
                r = c.get(path)
                lat.append(time.perf_counter() - t)
            out[name] = {"path": path, "p50_ms": pct(lat, 50) * 1e3, "p95_ms": pct(lat, 95) * 1e3,
                         "kb": len(r.content) / 1024}
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clients", type=int, default=32)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--rate", type=float, default=150, help="offered load for the open-loop run (req/s)")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()

    import yaml

    profile = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    profile = json.loads(json.dumps(profile, default=str))
    body = json.dumps(profile).encode()
    tmp = Path(tempfile.mkdtemp(prefix="cnai-web-bench-"))
    data_dir = tmp / "ws"
    filled = fill(data_dir)
    port = free_port()
    srv = subprocess.Popen([sys.executable, "-m", "cnai", "serve", "--data-dir", str(data_dir), "--port", str(port),
                            "--workers", str(a.workers)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        import httpx

        for _ in range(200):
            try:
                httpx.get(base + "/api/v1/health", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        srv_res = asyncio.run(load(base + "/api/v1/scope", body, a.clients, a.seconds))
        open_res = asyncio.run(load(base + "/api/v1/scope", body, a.clients, a.seconds, rate=a.rate))
        inproc = in_process(profile)
        page = pages(base, filled["runs"])
    finally:
        os.killpg(srv.pid, signal.SIGTERM)
        srv.wait(timeout=30)
        shutil.rmtree(tmp, ignore_errors=True)
    res = {"cpus": os.cpu_count(), "clients": a.clients, "seconds": a.seconds, "workers": a.workers,
           "server": srv_res, "server_open_loop": open_res, "in_process": inproc, "ratio_server_to_in_process": srv_res["rps"] / inproc["rps"],
           "pages": page}
    if a.json:
        print(json.dumps(res, indent=2))
        return
    s = srv_res
    print(f"POST /api/v1/scope, {a.clients} clients, {a.seconds:.0f} s, {a.workers} worker(s), closed loop: {s['rps']:.0f} req/s, "
          f"p50 {s['p50_ms']:.1f} ms, p95 {s['p95_ms']:.1f} ms, p99 {s['p99_ms']:.1f} ms, errors {s['errors']}")
    o = open_res
    print(f"  open loop at {a.rate:.0f} req/s offered: {o['rps']:.0f} req/s served, p50 {o['p50_ms']:.1f} ms, "
          f"p95 {o['p95_ms']:.1f} ms, p99 {o['p99_ms']:.1f} ms, errors {o['errors']}")
    print(f"in-process scope_dict: {inproc['rps']:.0f} calls/s, p50 {inproc['p50_ms']:.2f} ms, "
          f"p95 {inproc['p95_ms']:.2f} ms; server/in-process = {res['ratio_server_to_in_process']:.2f}")
    print("| page | path | p50 ms | p95 ms | size KB |\n|---|---|---|---|---|")
    for name, p in page.items():
        print(f"| {name} | `{p['path']}` | {p['p50_ms']:.1f} | {p['p95_ms']:.1f} | {p['kb']:.0f} |")


if __name__ == "__main__":
    main()

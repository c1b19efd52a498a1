"""Web workspace benchmark (issue 13): POST /api/v1/scope under load and page render times.

    .venv/bin/python benchmarks/web_bench.py [--clients 32] [--seconds 10] [--workers 1]

Starts `cnai serve` on 127.0.0.1 (a fresh workspace in a temp folder), fills it with 100 services and 50
assessment runs, then:
1. a bounded load: CLIENTS concurrent keep-alive clients POST to /api/v1/scope for SECONDS (aiohttp client in
   this process), reporting requests/s and latency percentiles, closed loop and open loop at --rate, twice:
   "repeat" posts the same example profile every time (after the first call the server answers from its
   scope-result cache) and "distinct" gives every request its own profile (the example under a new service
   name, so no request is ever a cache hit and the engine runs every time);
2. the same calls in-process (cnai.web.services.scope_json, which is what the endpoint calls), one thread;
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
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cnai.core.mockhttp import free_port

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "chatbot-startup.yaml"


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


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


def bodies_for(profile: dict, mode: str, n: int = 60000) -> list[bytes]:
    """One body for "repeat"; for "distinct", n bodies each naming another service (never a cache hit)."""
    if mode == "repeat":
        return [json.dumps(profile).encode()]
    out = []
    for i in range(n):
        p = dict(profile, service=dict(profile["service"], name=f"{profile['service']['name']} #{i}"))
        out.append(json.dumps(p).encode())
    return out


async def load(url: str, bodies: list[bytes], clients: int, seconds: float, rate: float | None = None) -> dict:
    """Closed loop (rate None: each client sends as soon as its last reply arrived) or open loop at `rate`
    requests/s in total, spread over the clients; open-loop latency runs from the scheduled send time, so a
    server that falls behind is charged for the wait (no coordinated omission)."""
    import aiohttp

    lat: list[float] = []
    errors = 0
    sent = 0
    start = time.perf_counter()
    stop = start + seconds

    async def client(session, i=0):
        nonlocal errors, sent
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
            body = bodies[sent % len(bodies)]
            sent += 1
            async with session.post(url, data=body, headers={"content-type": "application/json"}) as r:
                await r.read()
                if r.status != 200:
                    errors += 1
            lat.append(time.perf_counter() - t)

    conn = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(connector=conn) as session:
        # warm-up
        async with session.post(url, data=bodies[-1], headers={"content-type": "application/json"}) as r:
            await r.read()
        start = time.perf_counter()
        stop = start + seconds
        await asyncio.gather(*(client(session, i) for i in range(clients)))
        wall = time.perf_counter() - start
    if len(bodies) > 1 and sent > len(bodies) - 1:
        raise SystemExit("not enough distinct bodies for this run: raise n in bodies_for")
    return {"requests": len(lat), "errors": errors, "rps": len(lat) / wall, "p50_ms": pct(lat, 50) * 1e3,
            "p95_ms": pct(lat, 95) * 1e3, "p99_ms": pct(lat, 99) * 1e3}


def in_process(bodies: list[bytes], n: int = 300) -> dict:
    """The endpoint's work without HTTP: parse the JSON body, scope_json (cache lookup, engine on a miss)."""
    from cnai.web import services

    # Code from before the cache (an older checkout on PYTHONPATH, for A/B runs) had no scope_json.
    call = getattr(services, "scope_json", None) or (lambda d: orjson_dumps(services.scope_dict(d)))
    call(json.loads(bodies[-1]))  # warm (knowledge base, engine)
    lat = []
    t0 = time.perf_counter()
    for i in range(n):
        t = time.perf_counter()
        call(json.loads(bodies[i % len(bodies)]))
        lat.append(time.perf_counter() - t)
    wall = time.perf_counter() - t0
    return {"calls": n, "rps": n / wall, "p50_ms": pct(lat, 50) * 1e3, "p95_ms": pct(lat, 95) * 1e3}


def orjson_dumps(obj) -> bytes:
    import orjson

    return orjson.dumps(obj, default=str)


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


def median(xs: list[float]) -> float:
    xs = sorted(xs)
    n = len(xs)
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2


def load_avg() -> float:
    return round(os.getloadavg()[0], 2)


def tree_cpu(root: int) -> float:
    """CPU seconds (user + system) used so far by process `root` and all its descendants (Linux /proc).

    CPU per request depends much less than wall-clock rates on what the machine's other users run (contention
    still inflates it somewhat), so it is the better figure to compare between runs on a shared machine."""
    parents, cpu = {}, {}
    tick = os.sysconf("SC_CLK_TCK")
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            fields = (d / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(d.name)] = int(fields[1])
        cpu[int(d.name)] = (int(fields[11]) + int(fields[12])) / tick
    total = 0.0
    for pid in cpu:
        p = pid
        while p and p != root:
            p = parents.get(p, 0)
        if p == root:
            total += cpu[pid]
    return total


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clients", type=int, default=32)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--workers", type=int, default=2, help="cnai serve --workers (docs/web.md: one per core)")
    ap.add_argument("--rate", type=float, default=150, help="offered load for the open-loop run (req/s)")
    ap.add_argument("--rounds", type=int, default=3, help="repeat the load runs; medians are reported")
    ap.add_argument("--modes", default="repeat,distinct")
    ap.add_argument("--no-pages", action="store_true")
    ap.add_argument("--json", type=Path, help="also write every figure to this JSON file")
    a = ap.parse_args()

    import yaml

    profile = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    profile = json.loads(json.dumps(profile, default=str))
    modes = a.modes.split(",")
    bodies = {m: bodies_for(profile, m, 20000 * a.rounds) for m in modes}
    tmp = Path(tempfile.mkdtemp(prefix="cnai-web-bench-"))
    data_dir = tmp / "ws"
    filled = fill(data_dir)
    port = free_port()
    srv = subprocess.Popen([sys.executable, "-m", "cnai", "serve", "--data-dir", str(data_dir), "--port", str(port),
                            "--workers", str(a.workers)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    runs: list[dict] = []
    page = {}
    try:
        import httpx

        for _ in range(200):
            try:
                httpx.get(base + "/api/v1/health", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        url = base + "/api/v1/scope"
        for rnd in range(a.rounds):
            for mode in modes:
                # distinct: each run gets its own 10,000 never-posted profiles
                b1, b2 = ((bodies[mode][rnd * 20000:rnd * 20000 + 10000], bodies[mode][rnd * 20000 + 10000:])
                          if mode == "distinct" else (bodies[mode], bodies[mode]))
                load_before = load_avg()
                cpu0, own0 = tree_cpu(srv.pid), time.process_time()
                closed = asyncio.run(load(url, b1, a.clients, a.seconds))
                cpu1, own1 = tree_cpu(srv.pid), time.process_time()
                closed["server_cpu_ms"] = (cpu1 - cpu0) / closed["requests"] * 1e3
                closed["client_cpu_ms"] = (own1 - own0) / closed["requests"] * 1e3
                opened = asyncio.run(load(url, b2, a.clients, a.seconds, rate=a.rate))
                inproc = in_process(b1)
                runs.append({"round": rnd + 1, "mode": mode, "load_before": load_before, "load_after": load_avg(),
                             "closed": closed, "open": opened, "in_process": inproc,
                             "ratio": closed["rps"] / inproc["rps"]})
                r = runs[-1]
                print(f"round {rnd + 1} {mode:8} load {r['load_before']}->{r['load_after']}: closed "
                      f"{closed['rps']:.0f} req/s p50 {closed['p50_ms']:.1f} p95 {closed['p95_ms']:.1f} | open "
                      f"{a.rate:.0f}: {opened['rps']:.0f} served p50 {opened['p50_ms']:.1f} p95 {opened['p95_ms']:.1f} "
                      f"p99 {opened['p99_ms']:.1f} | in-process {inproc['rps']:.0f}/s p50 {inproc['p50_ms']:.2f} | "
                      f"ratio {r['ratio']:.2f} | CPU ms/request server {closed['server_cpu_ms']:.2f} client "
                      f"{closed['client_cpu_ms']:.2f} | errors {closed['errors'] + opened['errors']}", file=sys.stderr)
        if not a.no_pages:
            page = pages(base, filled["runs"])
            page["_load"] = load_avg()
    finally:
        os.killpg(srv.pid, signal.SIGTERM)
        srv.wait(timeout=30)
        shutil.rmtree(tmp, ignore_errors=True)
    res = {"cpus": os.cpu_count(), "clients": a.clients, "seconds": a.seconds, "workers": a.workers,
           "rate": a.rate, "runs": runs, "pages": page}
    if a.json:
        a.json.write_text(json.dumps(res, indent=2))
    print(f"POST /api/v1/scope, {a.clients} clients, {a.seconds:.0f} s per run, {a.workers} worker(s), "
          f"medians of {a.rounds} rounds:")
    print("| profiles | load avg | closed loop req/s | p50 / p95 ms | open loop at "
          f"{a.rate:.0f}: served, p95 ms | in-process calls/s (p50 ms) | server / in-process | "
          "server CPU ms per request |")
    print("|---|---|---|---|---|---|---|---|")
    for mode in modes:
        rs = [r for r in runs if r["mode"] == mode]

        def m(f, rs=rs):
            return median([f(r) for r in rs])
        print(f"| {mode} | {m(lambda r: r['load_before']):.1f} | {m(lambda r: r['closed']['rps']):.0f} | "
              f"{m(lambda r: r['closed']['p50_ms']):.1f} / {m(lambda r: r['closed']['p95_ms']):.1f} | "
              f"{m(lambda r: r['open']['rps']):.0f}, {m(lambda r: r['open']['p95_ms']):.1f} | "
              f"{m(lambda r: r['in_process']['rps']):.0f} ({m(lambda r: r['in_process']['p50_ms']):.2f}) | "
              f"{m(lambda r: r['ratio']):.2f} | {m(lambda r: r['closed']['server_cpu_ms']):.2f} |")
    if page:
        print(f"\npages (load {page['_load']}):\n| page | path | p50 ms | p95 ms | size KB |\n|---|---|---|---|---|")
        for name, p in page.items():
            if not name.startswith("_"):
                print(f"| {name} | `{p['path']}` | {p['p50_ms']:.1f} | {p['p95_ms']:.1f} | {p['kb']:.0f} |")


if __name__ == "__main__":
    main()

"""Gateway overhead: direct to a zero-latency mock upstream vs through `cnai gateway` (default policy)
vs LiteLLM's proxy (if installed in LITELLM_VENV). 127.0.0.1 only, bounded run.

    .venv/bin/python benchmarks/gateway_bench.py [--requests 3000] [--concurrency 64]

Prints a Markdown table; the figures in benchmarks/results/gateway.md come from this script.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import subprocess
import sys
import tempfile
import time

import httpx

PY = sys.executable


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def wait_http(url: str, proc, timeout: float = 60) -> None:
    t = time.time()
    while time.time() - t < timeout:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            if proc.poll() is not None:
                raise RuntimeError(f"{url}: process exited") from None
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


BODY = {"model": "echo", "messages": [{"role": "user", "content": "请用三句话介绍一下杭州的西湖，以及最佳的游览季节。" * 4}]}


async def load(url: str, n: int, conc: int, headers=None) -> tuple[list[float], float]:
    lat: list[float] = []
    limits = httpx.Limits(max_connections=conc, max_keepalive_connections=conc)
    async with httpx.AsyncClient(limits=limits, timeout=30, headers=headers) as c:
        for _ in range(50):                                       # warm-up
            await c.post(url, json=BODY)
        q = iter(range(n))

        async def worker():
            for _ in q:
                t = time.perf_counter()
                r = await c.post(url, json=BODY)
                lat.append(time.perf_counter() - t)
                assert r.status_code == 200, r.text[:200]
        t0 = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(conc)))
        wall = time.perf_counter() - t0
    return lat, n / wall


async def ttft(url: str, n: int = 200, headers=None) -> list[float]:
    out = []
    body = dict(BODY, stream=True, mock_chunk=8)
    async with httpx.AsyncClient(timeout=30, headers=headers) as c:
        for i in range(n + 20):
            t = time.perf_counter()
            first = None
            async with c.stream("POST", url, json=body) as r:
                async for line in r.aiter_lines():   # read to the end; note the first content event
                    if first is None and line.startswith("data: ") and '"content":"' in line.replace(" ", ""):
                        first = time.perf_counter() - t
            if i >= 20 and first is not None:
                out.append(first)
    return out


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p / 100 * len(xs)))] * 1000


def keyword_cost(terms: int = 10_000) -> dict:
    """Per-KB cost of the output check with a 10,000-term library (non-streamed and streamed)."""
    from cnai.gateway.engine import Engine, StreamGuard
    from cnai.gateway.policy import Policy
    rnd = random.Random(7)
    cjk = [chr(c) for c in range(0x4E00, 0x4E00 + 3000)]
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "kw.txt")
        with open(path, "w", encoding="utf-8") as f:
            seen = set()
            while len(seen) < terms:
                w = "".join(rnd.choice(cjk) for _ in range(rnd.randint(2, 6)))
                if w not in seen:
                    seen.add(w)
                    f.write(f"{w}\tA.1.d\n")
        eng = Engine(Policy(keyword_library=[]), [path])
    text = "".join(rnd.choice(cjk + list("，。的了是在")) for _ in range(342))  # 342 CJK chars = 1 KB UTF-8
    assert len(text.encode()) >= 1024
    reps = 2000
    t = time.perf_counter()
    for _ in range(reps):
        eng.check(text, output=True)
    plain = (time.perf_counter() - t) / reps * 1000
    t = time.perf_counter()
    for _ in range(reps // 10):
        g = StreamGuard(eng)
        for i in range(0, len(text), 4):        # 4-character deltas, as a model streams
            g.feed(text[i:i + 4])
        g.finish()
    streamed = (time.perf_counter() - t) / (reps // 10) * 1000
    return {"terms": len(eng.keywords.library), "engine": eng.keywords.engine.engine,
            "ms_per_kb_plain": plain, "ms_per_kb_streamed": streamed}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=3000)
    ap.add_argument("--concurrency", type=int, default=64)
    args = ap.parse_args()
    procs = []
    rows = {}
    try:
        up_port = free_port()
        procs.append(subprocess.Popen([PY, "-m", "cnai.gateway.mock", str(up_port)], stdout=subprocess.DEVNULL))
        up = f"http://127.0.0.1:{up_port}/v1"
        wait_http(up + "/models", procs[-1])
        gw_port = free_port()
        log_dir = tempfile.mkdtemp(prefix="gwbench-")
        procs.append(subprocess.Popen([PY, "-m", "cnai", "gateway", "serve", "--upstream", up, "--listen",
                                       f"127.0.0.1:{gw_port}", "--log-dir", log_dir],
                                      env=dict(os.environ, OPENAI_API_KEY="x"), stderr=subprocess.DEVNULL))
        gw = f"http://127.0.0.1:{gw_port}/v1"
        wait_http(f"http://127.0.0.1:{gw_port}/cnai/health", procs[-1])
        targets = [("direct", up, None), ("cnai gateway (default policy)", gw, None)]
        lvenv = os.environ.get("LITELLM_VENV", "/tmp/litellm-venv")
        lbin = os.path.join(lvenv, "bin", "litellm")
        if os.path.exists(lbin):
            lport = free_port()
            cfg = os.path.join(log_dir, "litellm.yaml")
            with open(cfg, "w") as f:
                f.write(f"model_list:\n  - model_name: echo\n    litellm_params:\n      model: openai/echo\n"
                        f"      api_base: {up}\n      api_key: x\n")
            master = "sk-" + os.urandom(16).hex()       # LiteLLM refuses to start without a master key
            procs.append(subprocess.Popen([lbin, "--config", cfg, "--host", "127.0.0.1", "--port", str(lport),
                                           "--num_workers", "1"], stdout=subprocess.DEVNULL,
                                          stderr=subprocess.DEVNULL, env=dict(os.environ, LITELLM_MASTER_KEY=master)))
            try:
                wait_http(f"http://127.0.0.1:{lport}/health/liveliness", procs[-1], timeout=120)
                targets.append(("LiteLLM proxy (no guardrail)", f"http://127.0.0.1:{lport}/v1",
                                {"authorization": f"Bearer {master}"}))
            except RuntimeError as e:
                print(f"LiteLLM did not start: {e}", file=sys.stderr)
        for name, base, h in targets:
            lat, rps = asyncio.run(load(base + "/chat/completions", args.requests, args.concurrency, h))
            tt = asyncio.run(ttft(base + "/chat/completions", 200, h))
            rows[name] = {"p50": pct(lat, 50), "p99": pct(lat, 99), "rps": rps, "ttft50": pct(tt, 50),
                          "ttft99": pct(tt, 99)}
            print(name, rows[name], file=sys.stderr)
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
    d = rows["direct"]
    print(f"{args.requests} requests, {args.concurrency} concurrent clients, 127.0.0.1, {os.cpu_count()} cores shared "
          "by client, mock upstream and proxy\n")
    print("| target | p50 ms | p99 ms | added p50 ms | added p99 ms | req/s | % of direct | stream TTFT p50 ms | "
          "TTFT added ms |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, r in rows.items():
        print(f"| {name} | {r['p50']:.2f} | {r['p99']:.2f} | {r['p50'] - d['p50']:.2f} | {r['p99'] - d['p99']:.2f} | "
              f"{r['rps']:.0f} | {100 * r['rps'] / d['rps']:.0f}% | {r['ttft50']:.2f} | "
              f"{r['ttft50'] - d['ttft50']:.2f} |")
    k = keyword_cost()
    print(f"\nKeyword check, {k['terms']} terms ({k['engine']}): {k['ms_per_kb_plain']:.4f} ms per KB (whole reply), "
          f"{k['ms_per_kb_streamed']:.4f} ms per KB (streamed in 4-character deltas)")


if __name__ == "__main__":
    main()

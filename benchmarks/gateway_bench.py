"""Gateway overhead, side by side in one run, against a zero-latency mock upstream (cnai.gateway.mock):
direct, cnai gateway with the default policy (1 and 2 workers; optionally an older source tree as "before"),
LiteLLM's proxy without and with a comparable guardrail (its built-in litellm_content_filter: the three PI
types masked before the call, cnai's starter keyword library as blocked words after it), when LiteLLM is
installed in LITELLM_VENV. 127.0.0.1 only; every loop bounded.

    .venv/bin/python benchmarks/gateway_bench.py [--requests 2000] [--concurrency 64] [--rounds 2]
        [--before-src DIR] [--no-litellm] [--aiohttp-ab] [--rates 500,1000,1500,2000] [--rate-seconds 1.5]
        [--rate-repeats 3] [--uvicorn-ab] [--relay]

Two kinds of load, reported apart (Little's law: with C clients sending flat out, latency = C / throughput, so
a closed loop at saturation measures throughput, not the proxy's own delay):
- closed loop: 64 clients each sending its next request as soon as the last reply is in (saturation
  throughput, latency at saturation), then one client (latency without queueing);
- open loop: requests sent at a fixed offered rate over 64 connections, latency counted from each request's
  scheduled send time (so queueing behind a slow reply counts; no coordinated omission).
CPU: the CPU seconds the target's processes (gateway, or the mock for "direct") used during the 64-client
run, per request: a figure the shared machine's load does not inflate the way it inflates wall time.

Targets are measured in interleaved rounds (A B C ... A B C ...) so the shared machine's load falls on all
of them alike; each figure is the median over rounds, and the load average is printed per round.
Load generator: aiohttp (cheaper per request than httpx, so the client saturates later); its own CPU per
request is printed too, so the arithmetic of "% of direct" on a box whose cores the load generator, the mock and
the proxy share is visible. `--relay` adds benchmarks/tcp_relay.py, a byte relay on uvloop with no HTTP parsing,
policy or log: the ceiling of any Python proxy here.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import httpx

from cnai.core.mockhttp import free_port

PY = sys.executable
BODY = {"model": "echo", "messages": [{"role": "user", "content": "请用三句话介绍一下杭州的西湖，以及最佳的游览季节。" * 4}]}


def wait_http(url: str, proc, timeout: float = 60) -> None:
    t = time.time()
    while time.time() - t < timeout:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            if proc.poll() is not None:
                raise RuntimeError(f"{url}: process exited") from None
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


async def load(url: str, n: int, conc: int, headers=None) -> tuple[list[float], float]:
    import aiohttp
    lat: list[float] = []
    data = json.dumps(BODY).encode()
    h = {"content-type": "application/json", **(headers or {})}
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=conc)) as s:
        for _ in range(20):                                       # warm-up
            async with s.post(url, data=data, headers=h) as r:
                await r.read()
        q = iter(range(n))

        async def worker():
            for _ in q:
                t = time.perf_counter()
                async with s.post(url, data=data, headers=h) as r:
                    body = await r.read()
                lat.append(time.perf_counter() - t)
                assert r.status == 200, body[:200]
        t0 = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(conc)))
        wall = time.perf_counter() - t0
    return lat, n / wall


async def open_loop(url: str, rate: float, seconds: float, conc: int, headers=None) -> dict:
    """Fixed offered rate over `conc` connections; latency from each request's scheduled send time."""
    import aiohttp
    data = json.dumps(BODY).encode()
    h = {"content-type": "application/json", **(headers or {})}
    lat: list[float] = []
    errors = 0
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=conc)) as s:
        for _ in range(20):                                       # warm-up
            async with s.post(url, data=data, headers=h) as r:
                await r.read()
        loop = asyncio.get_running_loop()
        n = int(rate * seconds)
        t0 = loop.time() + 0.05
        end = [t0]

        async def one(i: int) -> None:
            nonlocal errors
            due = t0 + i / rate
            d = due - loop.time()
            if d > 0:
                await asyncio.sleep(d)
            try:
                async with s.post(url, data=data, headers=h) as r:
                    await r.read()
                    ok = r.status == 200
            except aiohttp.ClientError:
                ok = False
            now = loop.time()
            end[0] = max(end[0], now)
            if ok:
                lat.append(now - due)
            else:
                errors += 1
        await asyncio.gather(*(one(i) for i in range(n)))
    return {"offered": rate, "achieved": n / (end[0] - t0), "p50": pct(lat, 50), "p99": pct(lat, 99),
            "errors": errors}


def tree_cpu(pid: int) -> float:
    """User + system CPU seconds of a process and its children (uvicorn workers)."""
    import psutil
    try:
        p = psutil.Process(pid)
        procs = [p] + p.children(recursive=True)
    except psutil.NoSuchProcess:
        return float("nan")
    total = 0.0
    for q in procs:
        try:
            t = q.cpu_times()
            total += t.user + t.system
        except psutil.NoSuchProcess:
            pass
    return total


async def ttft(url: str, n: int = 150, headers=None) -> list[float]:
    """Time to the first event carrying content (one client, streamed replies of 8-character chunks)."""
    import aiohttp
    out = []
    data = json.dumps(dict(BODY, stream=True, mock_chunk=8)).encode()
    h = {"content-type": "application/json", **(headers or {})}
    async with aiohttp.ClientSession() as s:
        for i in range(n + 10):
            t = time.perf_counter()
            first = None
            async with s.post(url, data=data, headers=h) as r:
                async for line in r.content:               # read to the end; note the first content event
                    if first is None and line.startswith(b"data: ") and b'"content":"' in line.replace(b" ", b"") \
                            and b'"content":""' not in line.replace(b" ", b""):
                        first = time.perf_counter() - t
            if i >= 10 and first is not None:
                out.append(first)
    return out


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p / 100 * len(xs)))] * 1000 if xs else float("nan")


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
    # CPU time (process_time), median of 7 trials: the work's own cost; wall time on the shared machine also
    # counts the time other jobs hold the cores, which moved single short runs by 2-4x
    def trial(fn, reps: int) -> float:
        times = []
        for _ in range(7):
            t = time.process_time()
            for _ in range(reps):
                fn()
            times.append((time.process_time() - t) / reps * 1000)
        return statistics.median(times)

    res = {"terms": len(eng.keywords.library), "engine": eng.keywords.engine.engine,
           "ms_per_kb_plain": trial(lambda: eng.check(text, output=True), 2000)}
    for size in (4, 16):
        pieces = [text[i:i + size] for i in range(0, len(text), size)]   # deltas of `size` characters

        def stream(pieces=pieces):
            g = StreamGuard(eng)
            for p in pieces:
                g.feed(p)
            g.finish()
        res[f"ms_per_kb_streamed_{size}"] = trial(stream, 300)
    return res


def litellm_config(path: str, upstream: str, guard: bool) -> None:
    """LiteLLM proxy config; with guard, its built-in content filter configured like cnai's default policy:
    mainland ID / mobile / bank card masked in prompts (regexes: LiteLLM has no check-digit validation),
    cnai's starter keyword library as blocked words on replies."""
    import yaml
    cfg = {"model_list": [{"model_name": "echo", "litellm_params": {"model": "openai/echo", "api_base": upstream,
                                                                    "api_key": "x"}}]}
    if guard:
        from cnai.gateway.matching import load_keywords
        words = sorted({k.keyword for k in load_keywords(["starter"]).library.keywords})
        bw = os.path.join(os.path.dirname(path), "blocked.yaml")
        with open(bw, "w", encoding="utf-8") as f:
            yaml.safe_dump({"blocked_words": [{"keyword": w, "action": "BLOCK"} for w in words]}, f,
                           allow_unicode=True)
        cfg["guardrails"] = [
            {"guardrail_name": "cn-pi-mask", "litellm_params": {
                "guardrail": "litellm_content_filter", "mode": "pre_call", "default_on": True, "patterns": [
                    {"pattern_type": "regex", "name": "cn_resident_id", "pattern": r"(?<!\d)\d{17}[\dXx](?!\d)",
                     "action": "MASK"},
                    {"pattern_type": "regex", "name": "cn_mobile", "pattern": r"(?<!\d)1[3-9]\d{9}(?!\d)",
                     "action": "MASK"},
                    {"pattern_type": "regex", "name": "bank_card", "pattern": r"(?<!\d)\d{16,19}(?!\d)",
                     "action": "MASK"}]}},
            {"guardrail_name": "cn-keyword-block", "litellm_params": {
                "guardrail": "litellm_content_filter", "mode": "post_call", "default_on": True,
                "blocked_words_file": bw}}]
    with open(path, "w", encoding="utf-8") as f:
        yaml.safe_dump(cfg, f, allow_unicode=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--before-src", default=None, help="a src/ tree of an older cnai, measured as 'before'")
    ap.add_argument("--no-litellm", action="store_true")
    ap.add_argument("--aiohttp-ab", action="store_true",
                    help="also run the gateway with its previous upstream client (aiohttp for non-streamed calls)")
    ap.add_argument("--relay", action="store_true", help="also a bare uvloop byte relay (the Python-proxy ceiling)")
    ap.add_argument("--uvicorn-ab", action="store_true",
                    help="also run the gateway on the uvicorn server (--server uvicorn), 1 worker")
    ap.add_argument("--rates", default="500,1000,1500,2000", help="open-loop offered rates (req/s); '' to skip")
    ap.add_argument("--rate-seconds", type=float, default=1.5)
    ap.add_argument("--rate-repeats", type=int, default=3,
                    help="open-loop slices per (rate, target), interleaved; medians reported (a busy moment on the "
                         "shared machine spoils one slice, not the figure)")
    ap.add_argument("--litellm-requests", type=int, default=None,
                    help="fewer requests for the LiteLLM targets (its guarded proxy manages a few per second)")
    args = ap.parse_args()
    import signal
    signal.signal(signal.SIGTERM, lambda *_a: sys.exit(1))   # run the finally: stop every child process
    procs = []
    targets = []           # (name, base url, headers)
    pids: dict[str, int] = {}   # target -> the process whose CPU is counted
    work = tempfile.mkdtemp(prefix="gwbench-")
    try:
        up_port = free_port()
        procs.append(subprocess.Popen([PY, "-m", "cnai.gateway.mock", str(up_port)], stdout=subprocess.DEVNULL))
        up = f"http://127.0.0.1:{up_port}/v1"
        wait_http(up + "/models", procs[-1])
        targets.append(("direct", up, None))
        pids["direct"] = procs[-1].pid

        def gateway(name, workers=1, src=None, env_extra=None, server=None):
            port = free_port()
            env = dict(os.environ, OPENAI_API_KEY="x", **(env_extra or {}))
            if src:
                env["PYTHONPATH"] = src
            procs.append(subprocess.Popen([PY, "-m", "cnai", "gateway", "serve", "--upstream", up, "--listen",
                                           f"127.0.0.1:{port}", "--log-dir", os.path.join(work, f"logs-{port}"),
                                           "--workers", str(workers)] + (["--server", server] if server else []),
                                          env=env, stderr=subprocess.DEVNULL))
            wait_http(f"http://127.0.0.1:{port}/cnai/health", procs[-1])
            targets.append((name, f"http://127.0.0.1:{port}/v1", None))
            pids[name] = procs[-1].pid

        if args.relay:
            rport = free_port()
            procs.append(subprocess.Popen([PY, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                            "tcp_relay.py"), str(rport), str(up_port)]))
            wait_http(f"http://127.0.0.1:{rport}/v1/models", procs[-1])
            targets.append(("bare byte relay (uvloop; no parsing, policy or log)", f"http://127.0.0.1:{rport}/v1",
                            None))
            pids[targets[-1][0]] = procs[-1].pid
        if args.before_src:
            gateway("cnai gateway, before (1 worker)", 1, args.before_src)
        if args.aiohttp_ab:
            gateway("cnai gateway, aiohttp upstream client (1 worker)", 1,
                    env_extra={"CNAI_GATEWAY_UPSTREAM_CLIENT": "aiohttp"})
        if args.uvicorn_ab:
            gateway("cnai gateway, uvicorn server (1 worker)", 1, server="uvicorn")
        gateway("cnai gateway (1 worker)")
        gateway("cnai gateway (2 workers)", 2)
        lbin = os.path.join(os.environ.get("LITELLM_VENV", "/tmp/litellm-venv"), "bin", "litellm")
        if not args.no_litellm and os.path.exists(lbin):
            for guard in (False, True):
                lport = free_port()
                cfg = os.path.join(work, f"litellm-{guard}.yaml")
                litellm_config(cfg, up, guard)
                master = "sk-" + os.urandom(16).hex()       # LiteLLM refuses to start without a master key
                procs.append(subprocess.Popen([lbin, "--config", cfg, "--host", "127.0.0.1", "--port", str(lport),
                                               "--num_workers", "1"], stdout=subprocess.DEVNULL,
                                              stderr=subprocess.DEVNULL,
                                              env=dict(os.environ, LITELLM_MASTER_KEY=master)))
                name = "LiteLLM proxy + content filter (PI mask, 10k blocked words)" if guard else \
                    "LiteLLM proxy (no guardrail)"
                try:
                    wait_http(f"http://127.0.0.1:{lport}/health/liveliness", procs[-1], timeout=240)
                    targets.append((name, f"http://127.0.0.1:{lport}/v1", {"authorization": f"Bearer {master}"}))
                    pids[name] = procs[-1].pid
                except RuntimeError as e:
                    print(f"{name} did not start: {e}", file=sys.stderr)
        res: dict[str, list[dict]] = {n: [] for n, _b, _h in targets}
        rates = [float(x) for x in args.rates.split(",") if x.strip()]
        opened: dict[str, list[dict]] = {}
        loads = []
        for rnd in range(args.rounds):
            la0 = os.getloadavg()[0]
            for name, base, h in targets:
                url = base + "/chat/completions"
                n = args.litellm_requests if name.startswith("LiteLLM") and args.litellm_requests else args.requests
                small = n < args.requests
                c0 = tree_cpu(pids[name]) if name in pids else float("nan")
                m0 = tree_cpu(pids["direct"]) if name != "direct" else float("nan")
                g0 = time.process_time()
                lat, rps = asyncio.run(load(url, n, args.concurrency, h))
                client_us = (time.process_time() - g0) / n * 1e6
                cpu_us = (tree_cpu(pids[name]) - c0) / n * 1e6 if name in pids else float("nan")
                mock_us = (tree_cpu(pids["direct"]) - m0) / n * 1e6 if name != "direct" else cpu_us
                seq, _ = asyncio.run(load(url, 60 if small else 300, 1, h))
                tt = asyncio.run(ttft(url, 40 if small else 150, h))
                r = {"p50": pct(lat, 50), "p99": pct(lat, 99), "rps": rps, "s50": pct(seq, 50), "s99": pct(seq, 99),
                     "ttft50": pct(tt, 50), "cpu_us": cpu_us, "client_us": client_us, "mock_us": mock_us}
                res[name].append(r)
                print(f"round {rnd + 1} {name}: {json.dumps({k: round(v, 2) for k, v in r.items()})}",
                      file=sys.stderr)
            loads.append((la0, os.getloadavg()[0]))
        # open loop, after the closed-loop rounds: each rate on each target but LiteLLM
        slices: dict[tuple[str, float], list[dict]] = {}
        for _rep in range(args.rate_repeats):
            for rate in rates:
                for name, base, h in targets:
                    if name.startswith("LiteLLM"):     # ~5-100 req/s at saturation: no fixed rate worth offering
                        continue
                    la = os.getloadavg()[0]
                    r = asyncio.run(open_loop(base + "/chat/completions", rate, args.rate_seconds, args.concurrency,
                                              h))
                    r["load"] = la
                    slices.setdefault((name, rate), []).append(r)
                    print(f"open loop {name} @ {rate:.0f}/s: {json.dumps({k: round(v, 2) for k, v in r.items()})}",
                          file=sys.stderr)
        for (name, _rate), rs in slices.items():
            opened.setdefault(name, []).append({k: statistics.median(r[k] for r in rs) for k in rs[0]})
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(work, ignore_errors=True)

    def med(name, key):
        return statistics.median(r[key] for r in res[name])

    d = "direct"
    print(f"{args.requests} requests x {args.concurrency} concurrent clients, then 300 sequential requests and 150 "
          f"streamed ones, per target and round; {args.rounds} interleaved rounds, medians shown; 127.0.0.1, "
          f"{os.cpu_count()} cores shared by load generator, mock upstream, proxy and other users; load average "
          f"(1 min) at round start/end: {', '.join(f'{a:.1f}/{b:.1f}' for a, b in loads)}\n")
    print("Closed loop (64 clients flat out = saturation; then 1 client):\n")
    print("| target | 64-client p50 ms | p99 ms | added p50 | added p99 | req/s | % of direct | CPU µs/req | "
          "1-client p50 ms | added p50 | added p99 | stream TTFT p50 ms | TTFT added | load generator CPU µs/req | "
          "mock upstream CPU µs/req |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for name in res:
        print(f"| {name} | {med(name, 'p50'):.2f} | {med(name, 'p99'):.2f} | {med(name, 'p50') - med(d, 'p50'):+.2f} | "
              f"{med(name, 'p99') - med(d, 'p99'):+.2f} | {med(name, 'rps'):.0f} | "
              f"{100 * med(name, 'rps') / med(d, 'rps'):.0f}% | {med(name, 'cpu_us'):.0f} | {med(name, 's50'):.2f} | "
              f"{med(name, 's50') - med(d, 's50'):+.2f} | {med(name, 's99') - med(d, 's99'):+.2f} | "
              f"{med(name, 'ttft50'):.2f} | {med(name, 'ttft50') - med(d, 'ttft50'):+.2f} | "
              f"{med(name, 'client_us'):.0f} | {med(name, 'mock_us'):.0f} |")
    if opened:
        print(f"\nOpen loop ({args.concurrency} connections, fixed offered rate, {args.rate_repeats} interleaved slices "
              f"of {args.rate_seconds:g} s per rate and target, medians; latency from the scheduled send time; "
              "'added' = target minus direct at the same rate; load = 1-min load average):\n")
        print("| target | offered req/s | achieved req/s | p50 ms | p99 ms | added p50 | added p99 | errors | load |")
        print("|---|---|---|---|---|---|---|---|---|")
        base_by_rate = {r["offered"]: r for r in opened.get(d, [])}
        for name, rows in opened.items():
            for r in rows:
                b = base_by_rate.get(r["offered"])
                ap50 = f"{r['p50'] - b['p50']:+.2f}" if b else "—"
                ap99 = f"{r['p99'] - b['p99']:+.2f}" if b else "—"
                print(f"| {name} | {r['offered']:.0f} | {r['achieved']:.0f} | {r['p50']:.2f} | {r['p99']:.2f} | "
                      f"{ap50} | {ap99} | {r['errors']} | {r['load']:.1f} |")
    k = keyword_cost()
    print(f"\nKeyword check, {k['terms']} terms ({k['engine']}), CPU time, median of 7 trials: "
          f"{k['ms_per_kb_plain']:.4f} ms per KB (whole reply); "
          f"streamed {k['ms_per_kb_streamed_4']:.4f} ms per KB in 4-character deltas, "
          f"{k['ms_per_kb_streamed_16']:.4f} ms per KB in 16-character deltas")


if __name__ == "__main__":
    main()

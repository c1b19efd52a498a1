"""Where the gateway's CPU per proxied request goes: each piece of the request path timed alone, in-process,
in CPU time (time.process_time; best of 5 trials of N calls), on the request and reply gateway_bench.py uses.
No profiler (cProfile inflates small calls several-fold). Compare the sum with gateway_bench.py's CPU µs per
request (whole gateway process under 64 clients): the rest is the event loop, sockets and the HTTP hops.

    .venv/bin/python benchmarks/gateway_cpu_breakdown.py [--n 3000]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import logging
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from gateway_bench import BODY  # noqa: E402


def best(fn, n: int) -> float:
    """µs of CPU per call, best of 5 trials."""
    out = []
    for _ in range(5):
        t = time.process_time()
        for _ in range(n):
            fn()
        out.append((time.process_time() - t) / n * 1e6)
    return min(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=3000)
    a = ap.parse_args()
    import httptools
    import orjson

    from cnai.gateway.app import JsonFormatter, Settings, _dumps, _loads, _sha, create_app
    from cnai.gateway.chainlog import ChainLog

    os.environ.setdefault("OPENAI_API_KEY", "x")
    log_dir = tempfile.mkdtemp(prefix="gwcpu-")
    app = create_app(Settings(upstream="http://127.0.0.1:9/v1", log_dir=log_dir))
    gw = app.gw
    eng = gw.engine
    prompt = BODY["messages"][0]["content"]
    req = json.dumps(BODY, ensure_ascii=False).encode()
    reply = {"id": "cmpl-1", "object": "chat.completion", "created": 0, "model": "echo",
             "choices": [{"index": 0, "message": {"role": "assistant", "content": prompt}, "finish_reason": "stop"}],
             "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}
    raw_reply = orjson.dumps(reply)
    rows = []

    def row(name, us):
        rows.append((name, us))

    row("parse request JSON (orjson)", best(lambda: _loads(req), a.n))
    row("input check (PI + 10k keywords) on the prompt", best(lambda: eng.check(prompt, output=False), a.n))
    row("sha256 of prompt and reply (2x)", best(lambda: (_sha(prompt), _sha(prompt)), a.n))
    row("serialise upstream request (orjson)", best(lambda: _dumps(BODY), a.n))
    row("parse upstream reply JSON", best(lambda: _loads(raw_reply), a.n))
    row("output check (PI + 10k keywords) on the reply", best(lambda: eng.check(prompt, output=True), a.n))
    row("serialise reply to the client (orjson)", best(lambda: _dumps(reply), a.n))
    rec = {"id": "req-0123456789abcdef", "route": "chat", "user": None, "tenant": None, "worker": "w0",
           "prompt_sha256": _sha(prompt), "input": {"action": "log", "findings": []}, "model": "echo",
           "upstream_status": 200, "output_sha256": _sha(prompt),
           "output_decision": {"action": "allow", "findings": []}, "label": "text", "outcome": "ok", "ms": 1.234}
    chain = ChainLog(tempfile.mkdtemp(prefix="gwcpu-chain-"), "w9")
    k = [0]

    def append():
        chain.append("request", dict(rec))
        k[0] += 1
        if k[0] % 32 == 0:          # group commit: about one commit per event-loop turn of ~32 replies at 64 clients
            chain.flush()

    chain.on_pending = lambda: None
    row("chained log record (JSON, sha256, SQLite insert; commit per 32)", best(append, a.n))
    chain.flush()
    lg = logging.getLogger("gwcpu")
    h = logging.StreamHandler(io.StringIO())
    h.setFormatter(JsonFormatter())
    lg.handlers[:] = [h]
    lg.setLevel(logging.INFO)
    lg.propagate = False
    fields = {"worker": "w0", "event": "request", "id": "req-1", "route": "chat", "outcome": "ok", "ms": 1.2}
    row("JSON log line to stderr (logging + orjson)", best(lambda: lg.info("request", extra={"fields": fields}), a.n))
    stats = gw.metrics.stats  # round 8: plain counts exported at scrape time, one add() per request
    row("metrics (request count + latency bucket)", best(lambda: stats.add("chat", "ok", 0.001), a.n))
    http_req = (b"POST /v1/chat/completions HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n"
                b"content-length: %d\r\naccept: */*\r\naccept-encoding: gzip\r\nuser-agent: x\r\n\r\n%s"
                % (len(req), req))

    class P:
        def on_header(self, n, v):
            pass

    row("HTTP request parse (httptools, 6 headers, no callbacks work)",
        best(lambda: httptools.HttpRequestParser(P()).feed_data(http_req), a.n))

    async def loop_cost():
        # one task + one future round trip: the least asyncio work a proxied request does (it does several)
        loop = asyncio.get_running_loop()

        async def one():
            f = loop.create_future()
            loop.call_soon(f.set_result, None)
            await f
        t = time.process_time()
        for _ in range(a.n):
            await loop.create_task(one())
        return (time.process_time() - t) / a.n * 1e6
    try:
        import uvloop
        row("event loop: one task + one future round trip (uvloop)", uvloop.run(loop_cost()))
    except ImportError:
        row("event loop: one task + one future round trip (asyncio)", asyncio.run(loop_cost()))
    print(f"CPU µs per call, best of 5 x {a.n}; load average {os.getloadavg()[0]:.1f}\n")
    print("| piece of the request path | CPU µs |")
    print("|---|---|")
    for name, us in rows:
        print(f"| {name} | {us:.1f} |")
    print(f"| **sum of the pieces above** | **{sum(u for _, u in rows):.0f}** |")


if __name__ == "__main__":
    main()

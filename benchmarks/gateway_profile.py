"""Profile the gateway's request path (cProfile) under load: mock upstream and load generator in child
processes, the gateway in this process. 127.0.0.1 only, bounded run.

    .venv/bin/python benchmarks/gateway_profile.py [--requests 3000] [--concurrency 64] [--stream]
        [--server lean|uvicorn]
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import subprocess
import sys
import tempfile
import threading

sys.path.insert(0, os.path.dirname(__file__))
from gateway_bench import BODY, free_port, wait_http  # noqa: E402

LOAD = r"""
import asyncio, json, sys, aiohttp
url, n, conc, stream = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "1"
body = json.loads(sys.argv[5])
if stream:
    body.update(stream=True, mock_chunk=8)
data = json.dumps(body).encode()
async def main():
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=conc)) as s:
        q = iter(range(n))
        async def w():
            for _ in q:
                async with s.post(url, data=data, headers={"content-type": "application/json"}) as r:
                    assert r.status == 200
                    await r.read()
        await asyncio.gather(*(w() for _ in range(conc)))
asyncio.run(main())
"""


def main():
    import json

    import uvicorn

    from cnai.gateway.app import Settings, create_app
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=3000)
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--stream", action="store_true")
    ap.add_argument("--top", type=int, default=30)
    ap.add_argument("--server", choices=("lean", "uvicorn"), default="lean")
    ap.add_argument("--wall", action="store_true",
                    help="profile wall time (default: the gateway thread's CPU time, which a busy shared machine "
                         "does not inflate with time spent descheduled)")
    a = ap.parse_args()
    up_port = free_port()
    mock = subprocess.Popen([sys.executable, "-m", "cnai.gateway.mock", str(up_port)], stdout=subprocess.DEVNULL)
    try:
        up = f"http://127.0.0.1:{up_port}/v1"
        wait_http(up + "/models", mock)
        port = free_port()
        os.environ.setdefault("OPENAI_API_KEY", "x")
        app = create_app(Settings(upstream=up, log_dir=tempfile.mkdtemp(prefix="gwprof-")))
        if a.server == "lean":
            from cnai.gateway.lean import LeanServer
            srv = LeanServer(app, "127.0.0.1", port)
        else:
            srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error",
                                                access_log=False, proxy_headers=False, server_header=False,
                                                date_header=False))  # as the CLI
        import time
        prof = cProfile.Profile() if a.wall else cProfile.Profile(time.thread_time)

        def drive():
            while not srv.started:
                threading.Event().wait(0.05)
            subprocess.run([sys.executable, "-c", LOAD, f"http://127.0.0.1:{port}/v1/chat/completions",
                            str(a.requests), str(a.concurrency), "1" if a.stream else "0", json.dumps(BODY)],
                           check=True)
            prof.disable()
            srv.should_exit = True

        threading.Thread(target=drive, daemon=True).start()
        prof.enable()
        srv.run()
        pstats.Stats(prof).sort_stats("tottime").print_stats(a.top)
    finally:
        mock.terminate()
        mock.wait(10)


if __name__ == "__main__":
    main()

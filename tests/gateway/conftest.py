"""Fixtures: a fault-injecting mock upstream and a gateway, both real HTTP servers on 127.0.0.1."""

from __future__ import annotations

import asyncio
import os
import threading
import time

import httpx
import pytest

from cnai.core.mockhttp import free_port


class _LoopThread:
    def __init__(self):
        self.loop = asyncio.new_event_loop()
        self.t = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.t.start()

    def run(self, coro, timeout=10):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def stop(self):
        self.loop.call_soon_threadsafe(self.loop.stop)


def _start_mock(lt: _LoopThread):
    from cnai.gateway.mock import MockUpstream
    m = MockUpstream()
    lt.run(m.start())
    m.url = f"http://127.0.0.1:{m.port}/v1"
    return m


def serve_in_thread(srv) -> threading.Thread:
    """Run a LeanServer / uvicorn.Server in a daemon thread and wait (up to 4 s) until it accepts connections."""
    th = threading.Thread(target=srv.run, daemon=True)
    th.start()
    for _ in range(200):
        if srv.started:
            break
        time.sleep(0.02)
    return th


@pytest.fixture(scope="session")
def upstream():
    lt = _LoopThread()
    yield _start_mock(lt)
    lt.stop()


# Which HTTP server hosts the gateway in these tests: both by default (every test using start_gateway runs
# once on uvicorn and once on the lean server); CNAI_GATEWAY_TEST_SERVER=lean|uvicorn picks one.
_SERVERS = [s for s in os.environ.get("CNAI_GATEWAY_TEST_SERVER", "uvicorn,lean").split(",") if s]


@pytest.fixture(params=_SERVERS)
def gateway_server(request):
    return request.param


@pytest.fixture
def start_gateway(tmp_path, upstream, monkeypatch, gateway_server):
    """start_gateway(policy_yaml=None, keywords=None) -> (base_url, app_gateway, log_dir)."""
    import uvicorn

    from cnai.gateway.app import Settings, create_app
    from cnai.gateway.lean import LeanServer
    servers = []
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-secret-123")

    def start(policy_yaml: str | None = None, keywords: list[str] | None = None, upstream_url: str | None = None,
              log_dir: str | None = None):
        pol = None
        if policy_yaml is not None:
            pol = tmp_path / f"policy{len(servers)}.yaml"
            pol.write_text(policy_yaml, encoding="utf-8")
        log_dir = log_dir or tmp_path / f"logs{len(servers)}"
        app = create_app(Settings(upstream=upstream_url or upstream.url, policy_path=str(pol) if pol else None,
                                  log_dir=str(log_dir), keywords=keywords or []))
        port = free_port()
        if gateway_server == "lean":
            srv = LeanServer(app, "127.0.0.1", port)
        else:
            srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error",
                                                lifespan="on"))
        servers.append((srv, serve_in_thread(srv)))
        return f"http://127.0.0.1:{port}", app.state.gateway, str(log_dir)

    yield start
    for srv, th in servers:
        srv.should_exit = True
        th.join(10)


@pytest.fixture
def client():
    with httpx.Client(timeout=20) as c:
        yield c


@pytest.fixture
def counting_upstream():
    """A mock upstream of the test's own (connection counts start at 0): .url, .connections, .open_max."""
    lt = _LoopThread()
    m = _start_mock(lt)
    yield m
    lt.run(m.close())
    lt.stop()

"""Fixtures for the web workspace tests: an app over a fresh workspace, and a local hostile model endpoint."""

from __future__ import annotations

import json
import threading
import time
import warnings
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

warnings.filterwarnings("ignore", message=".*httpx.*", category=DeprecationWarning)

PROFILE = {
    "schema": "cnai/profile/v1",
    "service": {"name": "测试 Chat <b>bold</b>", "launch_date": "2025-03-03"},
    "roles": ["provider"],
    "audience": {"public_in_mainland": True},
    "capabilities": {"generates": ["text"], "dialogue_simulating_person": True},
}

PAYLOAD = '<script>alert("xss")</script><img src=x onerror="alert(1)"> 好的'


@pytest.fixture
def make_client(tmp_path):
    from fastapi.testclient import TestClient

    from cnai.web.app import create_app

    clients = []

    def make(token=None, demo=False, base_url="http://127.0.0.1", sub="ws"):
        app = create_app(tmp_path / sub, token=token, demo=demo)
        c = TestClient(app, base_url=base_url)
        c.app_ = app
        clients.append(c)
        return c

    yield make
    for c in clients:
        c.app_.fastapi.state.jobs.shutdown()


@pytest.fixture
def client(make_client):
    return make_client()


def csrf_of(client) -> str:
    """Load a page so the CSRF cookie is set, and return it (forms echo it in a hidden field)."""
    client.get("/services")
    return client.cookies.get("cnai_csrf")


def wait_job(client, jid: str, timeout: float = 60) -> dict:
    end = time.time() + timeout
    while time.time() < end:
        job = client.get(f"/api/v1/jobs/{jid}").json()
        if job["status"] in ("done", "failed", "cancelled"):
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {jid} did not finish: {job}")


def wait_items(fetch, n: int, timeout: float = 20) -> None:
    """Wait until the job `fetch()` returns has stored at least n items (a run under way, to interrupt)."""
    end = time.time() + timeout
    while (fetch().get("progress") or {}).get("done", 0) < n:
        assert time.time() < end, f"fewer than {n} items stored after {timeout} s"
        time.sleep(0.1)


class _Hostile(BaseHTTPRequestHandler):
    seen_auth: list = []

    def log_message(self, *a):  # keep test output clean
        pass

    def do_POST(self):
        n = int(self.headers.get("content-length") or 0)
        self.rfile.read(n)
        _Hostile.seen_auth.append(self.headers.get("authorization"))
        body = json.dumps({"id": "x", "object": "chat.completion", "model": "m",
                           "choices": [{"index": 0, "finish_reason": "stop",
                                        "message": {"role": "assistant", "content": PAYLOAD}}]}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def hostile_model():
    """An OpenAI-compatible endpoint on 127.0.0.1 whose every reply is an HTML/script injection payload."""
    _Hostile.seen_auth = []
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Hostile)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}/v1", _Hostile
    srv.shutdown()

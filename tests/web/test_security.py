"""Hostile input and the security guards: host, token, origin, CSRF, CSP, escaping, secrets, restarts."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from .conftest import PROFILE, csrf_of, wait_items, wait_job

TOKEN = "t0ken-for-tests-0123456789"


def test_without_token_only_loopback_host_names_are_answered(make_client):
    c = make_client(base_url="http://evil.example:8000")
    r = c.get("/api/v1/services")
    assert r.status_code == 421 and r.json()["error"]["code"] == "bad_host"
    ok = make_client(base_url="http://localhost:8000", sub="ws2")
    assert ok.get("/api/v1/services").status_code == 200


def test_with_a_token_every_request_needs_it(make_client):
    c = make_client(token=TOKEN, base_url="http://10.1.2.3:8000")
    assert c.get("/api/v1/services").status_code == 401
    assert c.get("/api/v1/openapi.json").status_code == 401
    r = c.get("/services", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert c.get("/api/v1/services", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert c.get("/api/v1/services", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
    assert c.get("/static/app.css").status_code == 200  # no secrets in static files
    # the login form sets an HttpOnly cookie; a wrong token does not
    assert c.post("/login", data={"token": "nope"}).status_code == 401
    r = c.post("/login", data={"token": TOKEN}, follow_redirects=False)
    assert r.status_code == 303 and "httponly" in r.headers["set-cookie"].lower()
    assert c.get("/services").status_code == 200
    assert TOKEN not in c.get("/services").text


def test_cross_origin_posts_and_forms_without_csrf_are_refused(client):
    r = client.post("/api/v1/services", json=PROFILE, headers={"Origin": "http://evil.example"})
    assert r.status_code == 403 and r.json()["error"]["code"] == "cross_origin"
    r = client.post("/api/v1/services", json=PROFILE, headers={"Origin": "null"})
    assert r.status_code == 403
    assert client.get("/api/v1/services").json() == []
    token = csrf_of(client)
    form = {"service.name": "Form service", "audience.public_in_mainland": "true"}
    r = client.post("/services/new", data=form, follow_redirects=False)
    assert r.status_code == 403
    r = client.post("/services/new", data={**form, "csrf": "forged"}, follow_redirects=False)
    assert r.status_code == 403
    r = client.post("/services/new", data={**form, "csrf": token}, follow_redirects=False)
    assert r.status_code == 303
    assert client.get("/api/v1/services").json()[0]["name"] == "Form service"


def test_every_page_has_a_strict_csp_and_no_inline_script(client):
    client.post("/api/v1/services", json=PROFILE)
    for path in ("/services", "/services/1", "/services/1/edit", "/services/1/duties", "/law", "/labels",
                 "/assessments", "/corpus", "/dossier", "/services/new", "/assessments/compare"):
        r = client.get(path)
        assert r.status_code == 200, path
        csp = r.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "object-src 'none'" in csp
        assert r.headers["x-frame-options"] == "DENY"
        html = r.text
        # only our own external script; no inline <script> bodies, no on* handlers, no CDN
        assert html.count("<script") == 1 and '<script src="/static/app.js" defer></script>' in html, path
        assert " onclick=" not in html and "http://cdn" not in html and "https://cdn" not in html


def test_markup_from_a_profile_is_escaped(client):
    client.post("/api/v1/services", json=PROFILE)  # name contains <b>bold</b>
    html = client.get("/services").text
    assert "<b>bold</b>" not in html and "&lt;b&gt;bold&lt;/b&gt;" in html


def test_model_reply_with_script_payload_is_escaped_and_the_key_never_stored(client, hostile_model):
    url, handler = hostile_model
    secret = "sk-SECRET-never-store-0123456789"
    r = client.post("/api/v1/assessments", json={"target": f"openai:{url}#m", "sample": "5", "api_key": secret,
                                                  "concurrency": 4})
    assert r.status_code == 201, r.text
    job = wait_job(client, r.json()["id"])
    assert job["status"] == "done", job
    assert f"Bearer {secret}" in handler.seen_auth  # the key reached the model (from memory, via env)
    page = client.get(f"/assessments/{job['id']}").text
    assert "<script>alert" not in page and "onerror=" not in page.replace("onerror=&#34;", "")
    assert "&lt;script&gt;alert(&#34;xss&#34;)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in page
    # the secret is nowhere: pages, API, job rows, workspace files (DB, logs, run store)
    assert secret not in page and secret not in client.get(f"/api/v1/jobs/{job['id']}").text
    ws = client.app_.fastapi.state.ws
    for p in ws.root.rglob("*"):
        if p.is_file():
            assert secret.encode() not in p.read_bytes(), p


def test_uploaded_file_names_and_contents_are_escaped(client, tmp_path):
    r = client.post("/api/v1/labels", files={"file": ('<img src=x onerror=alert(1)>.txt',
                                                      b"<script>alert(1)</script>", "text/plain")})
    assert r.status_code == 201
    html = client.get("/labels").text
    assert "<img src=x" not in html and "<script>alert" not in html


def test_workspace_refuses_foreign_or_future_folders(tmp_path):
    from cnai.errors import InputError
    from cnai.web.db import Workspace

    foreign = tmp_path / "home"
    foreign.mkdir()
    (foreign / "thesis.docx").write_text("mine")
    with pytest.raises(InputError, match="not a cnai workspace"):
        Workspace(foreign)
    assert (foreign / "thesis.docx").read_text() == "mine" and len(list(foreign.iterdir())) == 1
    ws = Workspace(tmp_path / "ws")
    with sqlite3.connect(ws.path) as con:
        con.execute("UPDATE meta SET value='99' WHERE key='schema_version'")
    with pytest.raises(InputError, match="newer than this cnai"):
        Workspace(tmp_path / "ws")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / ".cnai-workspace").touch()
    (tmp_path / "bad" / "workspace.sqlite").write_bytes(b"garbage" * 100)
    with pytest.raises(InputError, match="corrupt"):
        Workspace(tmp_path / "bad")


def test_job_left_running_by_a_dead_server_ends_failed_with_a_reason(tmp_path):
    from cnai.web.app import create_app
    from cnai.web.db import Workspace

    ws = Workspace(tmp_path / "ws")
    job = ws.add_job("assess", "x", {"target": "mock:mixed", "banks": ["starter"]})
    ws.update_job(job["id"], status="running", pid=2**22 + 7)  # no such process
    app = create_app(tmp_path / "ws")
    after = app.fastapi.state.ws.get_job(job["id"])
    assert after["status"] == "failed" and "server stopped" in after["error"]


def _serve(data_dir, port):
    return subprocess.Popen([sys.executable, "-m", "cnai", "serve", "--data-dir", str(data_dir), "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)


def _wait_up(port, timeout=20):
    import httpx

    end = time.time() + timeout
    while time.time() < end:
        try:
            return httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1).json()
        except (httpx.HTTPError, ValueError):
            time.sleep(0.1)
    raise AssertionError("server did not start")


@pytest.mark.slow
def test_server_killed_mid_job_then_restarted_job_fails_with_reason_and_resumes(tmp_path):
    import httpx

    from cnai.core.mockhttp import free_port

    port = free_port()
    srv = _serve(tmp_path / "ws", port)
    try:
        _wait_up(port)
        base = f"http://127.0.0.1:{port}/api/v1"
        httpx.post(f"{base}/services", json=PROFILE)
        r = httpx.post(f"{base}/assessments", json={"target": "mock:mixed?latency=0.05", "sample": "60",
                                                    "concurrency": 2})
        jid = r.json()["id"]
        wait_items(lambda: httpx.get(f"{base}/jobs/{jid}").json(), 5)
        os.killpg(srv.pid, signal.SIGKILL)  # the server and everything in its session, mid-job
        srv.wait()
    finally:
        if srv.poll() is None:
            os.killpg(srv.pid, signal.SIGKILL)
    srv = _serve(tmp_path / "ws", port)
    try:
        assert _wait_up(port)["ok"]
        job = httpx.get(f"{base}/jobs/{jid}").json()
        assert job["status"] == "failed" and "server stopped" in job["error"] and "resume" in job["error"]
        stored = job["progress"]["done"]
        assert 0 < stored < 180
        assert httpx.get(f"{base}/services").json()[0]["name"] == PROFILE["service"]["name"]
        assert httpx.post(f"{base}/jobs/{jid}/resume").status_code == 200
        end = time.time() + 60
        while (job := httpx.get(f"{base}/jobs/{jid}").json())["status"] not in ("done", "failed", "cancelled"):
            assert time.time() < end
            time.sleep(0.2)
        assert job["status"] == "done" and job["progress"]["done"] == 180, job
        assert job["result"]["session"]["asked"] == 180 - stored  # finished items were never asked again
    finally:
        srv.send_signal(signal.SIGTERM)
        srv.wait(timeout=20)


def test_cancel_then_resume_from_the_api(client):
    r = client.post("/api/v1/assessments", json={"target": "mock:mixed?latency=0.05", "sample": "60",
                                                  "concurrency": 2})
    jid = r.json()["id"]
    wait_items(lambda: client.get(f"/api/v1/jobs/{jid}").json(), 3)
    job = client.post(f"/api/v1/jobs/{jid}/cancel").json()
    assert job["status"] == "cancelled"
    assert client.post(f"/api/v1/jobs/{jid}/cancel").json()["status"] == "cancelled"  # idempotent
    assert client.post(f"/api/v1/jobs/{jid}/resume").json()["status"] == "running"
    assert wait_job(client, jid)["status"] == "done"
    assert client.post(f"/api/v1/jobs/{jid}/resume").status_code == 409  # a finished job is not resumed


def test_sse_stream_reports_progress_and_end(client):
    r = client.post("/api/v1/assessments", json={"target": "mock:refuse", "sample": "20"})
    jid = r.json()["id"]
    with client.stream("GET", f"/api/v1/jobs/{jid}/events") as s:
        assert s.headers["content-type"].startswith("text/event-stream")
        text = ""
        for chunk in s.iter_text():
            text += chunk
            if "event: end" in text:
                break
    assert "event: progress" in text and '"status": "done"' in text.split("event: end")[1]


def test_cli_refuses_a_network_bind_without_a_token(cnai, tmp_path, monkeypatch):
    monkeypatch.delenv("CNAI_TOKEN", raising=False)
    r = cnai("serve", "--host", "0.0.0.0", "--data-dir", str(tmp_path / "ws"))
    assert r.returncode == 2 and "--token" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    r = cnai("serve", "--host", "0.0.0.0", "--token", "short", "--data-dir", str(tmp_path / "ws"))
    assert r.returncode == 2 and "at least 16" in r.stderr
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("x")
    r = cnai("serve", "--data-dir", str(tmp_path / "mine"))
    assert r.returncode == 2 and "not a cnai workspace" in r.stderr
    assert not (tmp_path / "ws").exists()  # nothing created before refusing


def test_an_unexpected_error_is_a_json_500_not_a_traceback(make_client, monkeypatch):
    from fastapi.testclient import TestClient

    from cnai.web import services

    c = make_client()
    c = TestClient(c.app_, base_url="http://127.0.0.1", raise_server_exceptions=False)

    def boom(*a, **k):
        raise RuntimeError("engine exploded at /secret/path")

    monkeypatch.setattr(services, "run_scope", boom)
    services.SCOPE_CACHE.clear()
    r = c.post("/api/v1/scope", json=PROFILE)
    assert r.status_code == 500 and r.json()["error"]["code"] == "internal"
    assert "Traceback" not in r.text and "/secret/path" not in r.text

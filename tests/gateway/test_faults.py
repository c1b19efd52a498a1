"""Every fault ends in an OpenAI-style error to the client, a record in the chain, and a live gateway."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import httpx
import pytest

from cnai.core.mockhttp import free_port
from cnai.gateway.chainlog import export, verify
from cnai.gateway.policy import DEFAULT_POLICY_YAML

from .test_proxy import chat, sse_events

FAST = DEFAULT_POLICY_YAML.replace("upstream_timeout_s: 120", "upstream_timeout_s: 0.5").replace(
    "max_body_bytes: 4194304", "max_body_bytes: 2048")


def last(log_dir):
    return [x for x in export(log_dir) if x["kind"] == "request"][-1]["data"]


@pytest.mark.parametrize("fault,status,code,outcome", [
    ("timeout", 504, "upstream_timeout", "upstream_timeout"),
    ("reset", 502, "upstream_unreachable", "upstream_unreachable"),
    ("500", 502, "upstream_error", "upstream_error"),
    ("badjson", 502, "upstream_malformed", "upstream_malformed"),
])
def test_plain_faults(start_gateway, client, fault, status, code, outcome):
    base, gw, log_dir = start_gateway(FAST)
    r = chat(client, base, "hi", model=f"fault:{fault}")
    assert r.status_code == status
    assert r.json()["error"]["code"] == code and r.json()["error"]["type"] == "upstream_error"
    assert last(log_dir)["outcome"] == outcome
    assert chat(client, base, "still alive").status_code == 200     # no crash
    assert verify(log_dir)["ok"]


@pytest.mark.parametrize("fault,code,outcome", [
    ("reset-mid", "upstream_reset", "upstream_reset"),
    ("badsse", "upstream_malformed", "upstream_malformed"),
    ("truncate", "upstream_truncated", "upstream_truncated"),
    ("timeout", "upstream_timeout", "upstream_timeout"),
])
def test_stream_faults(start_gateway, client, fault, code, outcome):
    base, gw, log_dir = start_gateway(FAST)
    r = chat(client, base, "一二三四五六七八九十", model=f"fault:{fault}", stream=True, mock_chunk=2)
    if fault == "timeout":          # nothing streamed yet: a plain error response
        assert r.status_code == 504 and r.json()["error"]["code"] == code
    else:
        ev = sse_events(r.text)
        assert ev[-1] == "[DONE]" and ev[-2]["error"]["code"] == code
    assert last(log_dir)["outcome"] == outcome
    assert chat(client, base, "still alive").status_code == 200


def test_upstream_down(start_gateway, client):
    port = free_port()                          # nothing listens there
    base, gw, log_dir = start_gateway(FAST, upstream_url=f"http://127.0.0.1:{port}/v1")
    r = chat(client, base, "hi")
    assert r.status_code == 502 and r.json()["error"]["code"] == "upstream_unreachable"
    assert last(log_dir)["outcome"] == "upstream_unreachable"


def test_oversized_and_malformed_bodies(start_gateway, upstream, client):
    base, gw, log_dir = start_gateway(FAST)
    n0 = len(upstream.received)
    r = chat(client, base, "x" * 5000)
    assert r.status_code == 413 and r.json()["error"]["code"] == "body_too_large"
    # chunked upload without content-length is cut off as well
    r = client.post(f"{base}/v1/chat/completions", content=iter([b'{"a":"' + b"x" * 1500, b"x" * 1500 + b'"}']))
    assert r.status_code == 413
    r = client.post(f"{base}/v1/chat/completions", content=b"{not json")
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_json"
    assert len(upstream.received) == n0
    outcomes = [x["data"]["outcome"] for x in export(log_dir) if x["kind"] == "request"]
    assert outcomes == ["bad_request"] * 3


def test_client_disconnect_mid_stream_is_recorded(start_gateway, client):
    base, gw, log_dir = start_gateway(FAST)
    body = {"model": "echo", "stream": True, "mock_chunk": 1, "mock_delay": 0.05,
            "messages": [{"role": "user", "content": "一二三四五六七八九十" * 3}]}
    with httpx.Client(timeout=10) as c, c.stream("POST", f"{base}/v1/chat/completions", json=body) as r:
        for _chunk in r.iter_raw():
            break                                  # read one piece, then hang up
    for _ in range(100):
        recs = [x for x in export(log_dir) if x["kind"] == "request"]
        if recs:
            break
        time.sleep(0.05)
    assert recs and recs[-1]["data"]["outcome"] == "client_disconnected"
    assert chat(client, base, "still alive").status_code == 200
    assert verify(log_dir)["ok"]


def _spawn(tmp_path, upstream_url, log_dir, port, server="lean"):
    env = dict(os.environ, OPENAI_API_KEY="sk-x")
    return subprocess.Popen([sys.executable, "-m", "cnai", "gateway", "serve", "--upstream", upstream_url,
                             "--listen", f"127.0.0.1:{port}", "--log-dir", str(log_dir), "--server", server],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _wait_up(base, proc):
    for _ in range(300):
        try:
            if httpx.get(f"{base}/cnai/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.05)
        assert proc.poll() is None, proc.stderr.read().decode()
    raise AssertionError("gateway did not start")


def test_kill_9_never_breaks_the_chain(tmp_path, upstream, cnai, gateway_server):
    log_dir = tmp_path / "logs"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = _spawn(tmp_path, upstream.url, log_dir, port, gateway_server)
    try:
        _wait_up(base, proc)
        import concurrent.futures as cf

        done = []

        def hammer(i):
            try:
                with httpx.Client(timeout=5) as c:
                    for j in range(2000):
                        chat(c, base, f"req {i}-{j}")
                        done.append(j)
            except httpx.HTTPError:
                pass                                 # the kill cuts requests off
        with cf.ThreadPoolExecutor(4) as ex:
            futs = [ex.submit(hammer, i) for i in range(4)]
            for _ in range(400):                     # kill while requests are in flight
                if len(done) >= 40:
                    break
                time.sleep(0.025)
            os.kill(proc.pid, signal.SIGKILL)
            for f in futs:
                f.result()
        proc.wait(5)
        res = verify(str(log_dir))
        assert res["ok"], res
        n1 = res["chains"][0]["records"]
        assert n1 > 5
        # restart: the worker reclaims its chain (w0) and continues it
        proc = _spawn(tmp_path, upstream.url, log_dir, port, gateway_server)
        _wait_up(base, proc)
        with httpx.Client(timeout=5) as c:
            assert chat(c, base, "after restart").status_code == 200
        proc.send_signal(signal.SIGTERM)              # graceful: writes a stop event
        proc.wait(15)
        res = verify(str(log_dir))
        assert res["ok"] and len(res["chains"]) == 1 and res["chains"][0]["records"] >= n1 + 3
        r = cnai("gateway", "log", "verify", str(log_dir), "--format", "json")
        assert r.returncode == 0 and json.loads(r.stdout)["ok"]
    finally:
        if proc.poll() is None:
            proc.kill()


def test_sighup_reloads_policy(tmp_path, upstream, gateway_server):
    log_dir = tmp_path / "logs"
    pol = tmp_path / "p.yaml"
    pol.write_text(DEFAULT_POLICY_YAML, encoding="utf-8")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = dict(os.environ, OPENAI_API_KEY="sk-x")
    proc = subprocess.Popen([sys.executable, "-m", "cnai", "gateway", "serve", "--upstream", upstream.url,
                             "--listen", f"127.0.0.1:{port}", "--log-dir", str(log_dir), "--policy", str(pol),
                             "--server", gateway_server],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _wait_up(base, proc)
        with httpx.Client(timeout=5) as c:
            assert "13812345678" not in chat(c, base, "13812345678").text
            pol.write_text(DEFAULT_POLICY_YAML.replace("cn_mobile: redact", "cn_mobile: allow"), encoding="utf-8")
            proc.send_signal(signal.SIGHUP)
            for _ in range(200):                 # rebuilding the engine takes ~1 s on a loaded box
                if "13812345678" in chat(c, base, "13812345678").text:
                    break
                time.sleep(0.1)
            else:
                raise AssertionError("policy not reloaded")
            pol.write_text("input: [broken", encoding="utf-8")   # bad reload keeps the old policy
            proc.send_signal(signal.SIGHUP)
            time.sleep(0.3)
            assert chat(c, base, "hello").status_code == 200
        proc.send_signal(signal.SIGTERM)
        proc.wait(15)
        events = [x["data"]["event"] for x in export(str(log_dir)) if x["kind"] == "event"]
        assert "policy_reloaded" in events and "policy_reload_failed" in events and events[-1] == "stop"
    finally:
        if proc.poll() is None:
            proc.kill()


def test_two_workers_two_chains_export_and_verify_all(tmp_path, upstream, cnai, gateway_server):
    log_dir = tmp_path / "logs"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = dict(os.environ, OPENAI_API_KEY="sk-x")
    proc = subprocess.Popen([sys.executable, "-m", "cnai", "gateway", "serve", "--upstream", upstream.url,
                             "--listen", f"127.0.0.1:{port}", "--log-dir", str(log_dir), "--workers", "2",
                             "--server", gateway_server],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _wait_up(base, proc)
        for _ in range(100):                      # both workers up: two start events in two chains
            if len([x for x in export(str(log_dir)) if x["kind"] == "event"]) >= 2:
                break
            time.sleep(0.05)
        with httpx.Client(timeout=5) as c:
            for i in range(40):
                chat(c, base, f"hello {i}", headers={"connection": "close"})
        proc.send_signal(signal.SIGTERM)
        proc.wait(20)
    finally:
        if proc.poll() is None:
            proc.kill()
    res = verify(str(log_dir))
    assert res["ok"] and sorted(c["chain"] for c in res["chains"]) == ["w0", "w1"]
    assert sorted(s for c in res["chains"] for s in c["segments"]) == ["chain-w0.000001.sqlite",
                                                                       "chain-w1.000001.sqlite"]
    r = cnai("gateway", "log", "export", str(log_dir), "--since", "2000-01-01")
    recs = [json.loads(x) for x in r.stdout.splitlines()]
    assert len([x for x in recs if x["kind"] == "request"]) == 40
    assert {x["worker"] for x in recs} == {"w0", "w1"}
    assert cnai("gateway", "log", "export", str(log_dir), "--until", "2000-01-01").stdout == ""
    assert cnai("gateway", "log", "export", str(log_dir), "--since", "yesterday").returncode == 2

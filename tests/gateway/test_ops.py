"""Structured logs: one JSON object per line with the request fields, non-ASCII kept, odd values survive."""

import json
import logging

from cnai.gateway.app import JsonFormatter


def test_json_log_line():
    r = logging.LogRecord("cnai.gateway", logging.INFO, "", 0, "请求", None, None)
    r.fields = {"worker": "w0", "id": "req-1", "ms": 1.5, "route": "chat"}
    line = JsonFormatter().format(r)
    assert "\n" not in line and "请求" in line
    d = json.loads(line)
    assert d["level"] == "INFO" and d["msg"] == "请求" and d["worker"] == "w0" and d["ms"] == 1.5 and d["ts"]
    r.fields = {"error": ValueError("x"), "big": 2**70}          # not JSON-native: still one valid line
    d = json.loads(JsonFormatter().format(r))
    assert d["error"] == "x" and d["big"] == 2**70


def test_upstream_key_with_line_break_is_refused_not_injected(start_gateway, client, upstream, monkeypatch):
    from cnai.gateway.chainlog import export
    base, gw, log_dir = start_gateway()
    n = len(upstream.received)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-x\r\nx-evil: 1")
    r = client.post(f"{base}/v1/chat/completions", json={"model": "echo", "messages": [{"role": "user",
                                                                                      "content": "hi"}]})
    assert r.status_code == 500 and r.json()["error"]["type"] == "server_error"
    assert len(upstream.received) == n                      # nothing reached the upstream
    rec = [x for x in export(log_dir) if x["kind"] == "request"][-1]["data"]
    assert rec["outcome"] == "gateway_error"
    assert "sk-x" not in json.dumps(rec)                    # the key is never logged

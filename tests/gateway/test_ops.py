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

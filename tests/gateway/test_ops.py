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


def test_direct_log_line_matches_the_logging_path_and_yields_to_other_setups(tmp_path, monkeypatch):
    """Gateway._log writes straight to the stream only when the logger is exactly app_factory's setup; the
    line then has the same fields as the logging path. Any other setup (a filter, a second handler) still
    sees every record through logging."""
    import io

    from cnai.gateway import app as appmod

    gw = appmod.Gateway(appmod.Settings(upstream="http://127.0.0.1:9/v1", log_dir=str(tmp_path)))
    lg = appmod.log
    saved = (lg.handlers[:], lg.level, lg.propagate, lg.filters[:])
    try:
        direct, via = io.StringIO(), io.StringIO()
        h = logging.StreamHandler(direct)
        h.setFormatter(JsonFormatter())
        lg.handlers[:], lg.propagate = [h], False
        lg.setLevel(logging.INFO)
        assert appmod._plain_handler() is h
        gw._log("request", event="request", id="req-1", ms=2.5, note="请求")
        h2 = logging.StreamHandler(via)
        h2.setFormatter(JsonFormatter())
        h2.addFilter(lambda r: True)               # a filter: logging must run it, so no direct write
        lg.handlers[:] = [h2]
        assert appmod._plain_handler() is None
        gw._log("request", event="request", id="req-1", ms=2.5, note="请求")
        a, b = json.loads(direct.getvalue()), json.loads(via.getvalue())
        assert direct.getvalue().endswith("\n") and direct.getvalue().count("\n") == 1
        a.pop("ts"), b.pop("ts")
        assert a == b == {"level": "INFO", "msg": "request", "worker": gw.worker, "event": "request",
                          "id": "req-1", "ms": 2.5, "note": "请求"}
        lg.setLevel(logging.WARNING)                # INFO off: nothing written either way
        lg.handlers[:] = [h]
        gw._log("request", event="request")
        assert direct.getvalue().count("\n") == 1
    finally:
        lg.handlers[:], lg.propagate, lg.filters[:] = saved[0], saved[2], saved[3]
        lg.setLevel(saved[1])
        gw.chain.close()
        gw.violations.close()


def test_request_stats_export_like_prometheus_client():
    """The request counter and latency histogram kept as plain counts print the same samples as
    prometheus_client's own Counter and Histogram fed the same requests (bar the *_created series)."""
    from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
    from prometheus_client.parser import text_string_to_metric_families

    from cnai.gateway.app import _LATENCY_BUCKETS, Metrics
    m = Metrics()
    ref = CollectorRegistry()
    c = Counter("cnai_gateway_requests", "x", ["route", "outcome"], registry=ref)
    h = Histogram("cnai_gateway_latency_seconds", "x", ["route"], registry=ref, buckets=_LATENCY_BUCKETS)
    for route, outcome, s in [("chat", "ok", 0.0004), ("chat", "ok", 0.001), ("chat", "blocked_input", 0.0031),
                              ("completions", "ok", 7.5), ("chat", "ok", 250.0), ("models", "ok", 0.0)]:
        m.stats.add(route, outcome, s)
        c.labels(route, outcome).inc()
        h.labels(route).observe(s)

    def samples(reg, names):
        return sorted((s.name, tuple(sorted(s.labels.items())), s.value)
                      for f in text_string_to_metric_families(generate_latest(reg).decode())
                      for s in f.samples if s.name.startswith(names) and not s.name.endswith("_created"))

    names = ("cnai_gateway_requests", "cnai_gateway_latency_seconds")
    assert samples(m.registry, names) == samples(ref, names)
    assert len(samples(ref, names)) > 20

"""The lean server's own HTTP handling (the rest of tests/gateway runs on it and on uvicorn alike)."""

from __future__ import annotations

import json
import socket

import pytest

from cnai.gateway.policy import DEFAULT_POLICY_YAML

pytestmark = pytest.mark.parametrize("gateway_server", ["lean"])

SMALL = DEFAULT_POLICY_YAML.replace("max_body_bytes: 4194304", "max_body_bytes: 2048")


def _conn(base: str) -> socket.socket:
    host, port = base.removeprefix("http://").split(":")
    s = socket.create_connection((host, int(port)), timeout=10)
    return s


def _read_all(s: socket.socket) -> bytes:
    out = b""
    while True:
        try:
            b = s.recv(65536)
        except TimeoutError:
            break
        if not b:
            break
        out += b
    return out


def _post(path: str, body: bytes, extra: bytes = b"") -> bytes:
    return (b"POST %s HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: %d\r\n%s\r\n%s"
            % (path.encode(), len(body), extra, body))


def _chat_body(text: str) -> bytes:
    return json.dumps({"model": "echo", "messages": [{"role": "user", "content": text}]}).encode()


def test_pipelined_requests_are_answered_in_order(start_gateway):
    base, gw, _ = start_gateway()
    s = _conn(base)
    s.sendall(_post("/v1/chat/completions", _chat_body("first")) + _post("/v1/chat/completions", _chat_body("second"))
              + _post("/v1/chat/completions", _chat_body("third"), b"connection: close\r\n"))
    raw = _read_all(s)
    s.close()
    assert raw.count(b"HTTP/1.1 200 OK") == 3
    assert raw.index(b"first") < raw.index(b"second") < raw.index(b"third")
    assert b"connection: close" in raw.split(b"HTTP/1.1 200 OK")[3]   # only on the last reply


def test_malformed_http_gets_400_and_the_server_lives_on(start_gateway, client):
    base, gw, _ = start_gateway()
    s = _conn(base)
    s.sendall(b"THIS IS NOT HTTP\r\n\r\n")
    raw = _read_all(s)
    s.close()
    assert raw.startswith(b"HTTP/1.1 400 ")
    assert client.get(f"{base}/cnai/health").status_code == 200


def test_chunked_body_over_the_limit_is_refused(start_gateway):
    base, gw, log_dir = start_gateway(SMALL)
    s = _conn(base)
    head = b"POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n"
    piece = b"x" * 1000
    s.sendall(head + b"".join(b"%x\r\n%s\r\n" % (len(piece), piece) for _ in range(5)) + b"0\r\n\r\n")
    raw = _read_all(s)
    s.close()
    assert raw.startswith(b"HTTP/1.1 413 ") and b"body_too_large" in raw
    assert b"connection: close" in raw


def test_content_length_over_the_limit_is_answered_from_the_header(start_gateway):
    base, gw, _ = start_gateway(SMALL)
    s = _conn(base)
    s.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-length: 999999\r\n\r\n" + b"{" * 100)
    raw = _read_all(s)                     # answered although the body never completes; then closed
    s.close()
    assert raw.startswith(b"HTTP/1.1 413 ") and b"body_too_large" in raw


def test_oversized_headers_are_refused(start_gateway):
    base, gw, _ = start_gateway()
    s = _conn(base)
    s.sendall(b"GET /cnai/health HTTP/1.1\r\nhost: x\r\n" + b"x-big: " + b"a" * 70000 + b"\r\n\r\n")
    raw = _read_all(s)
    s.close()
    assert raw.startswith(b"HTTP/1.1 400 ")


def test_unknown_route_and_wrong_method_go_through_starlette(start_gateway, client):
    base, gw, _ = start_gateway()
    assert client.get(f"{base}/nope").status_code == 404
    assert client.get(f"{base}/v1/chat/completions").status_code == 405


def test_expect_100_continue_is_answered_before_the_body(start_gateway):
    base, gw, _ = start_gateway()
    s = _conn(base)
    body = _chat_body("hello")
    s.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
              b"expect: 100-continue\r\ncontent-length: %d\r\n\r\n" % len(body))
    s.settimeout(0.5)                      # well under curl's 1 s wait
    assert s.recv(100).startswith(b"HTTP/1.1 100 Continue\r\n\r\n")
    s.settimeout(10)
    s.sendall(body)
    assert s.recv(65536).startswith(b"HTTP/1.1 200 OK")
    s.close()


def test_head_gets_headers_without_a_body(start_gateway):
    base, gw, _ = start_gateway()
    s = _conn(base)
    s.sendall(b"HEAD /cnai/health HTTP/1.1\r\nhost: x\r\n\r\nGET /cnai/health HTTP/1.1\r\nhost: x\r\n"
              b"connection: close\r\n\r\n")
    raw = _read_all(s)
    s.close()
    first, _, rest = raw.partition(b"\r\n\r\n")
    assert rest.startswith(b"HTTP/1.1 ")      # nothing between the HEAD reply's headers and the next reply
    assert rest.split(b"\r\n\r\n", 1)[1].startswith(b'{"status":"ok"')


# ---------------------------------------------------------------------------------------------- the fast path
FAST_FAULTS = DEFAULT_POLICY_YAML.replace("upstream_timeout_s: 120", "upstream_timeout_s: 0.5")


@pytest.mark.parametrize("fault,status,code", [
    ("timeout", 504, "upstream_timeout"),
    ("reset", 502, "upstream_unreachable"),
    ("500", 502, "upstream_error"),
    ("badjson", 502, "upstream_malformed"),
])
def test_fast_path_faults_match_the_task_path(start_gateway, client, fault, status, code):
    """On a kept-alive client connection the second request runs on the fast path (the upstream connection the
    first one left pinned): its faults must end as on the task path, in the reply and in the chain."""
    from cnai.gateway.chainlog import export, verify

    from .test_proxy import chat
    base, gw, log_dir = start_gateway(FAST_FAULTS)
    assert chat(client, base, "warm up").status_code == 200       # task path: connects, then pins
    before = gw.fast_requests
    r = chat(client, base, "hi", model=f"fault:{fault}")
    assert gw.fast_requests == before + 1
    assert r.status_code == status and r.json()["error"]["code"] == code
    recs = [x["data"] for x in export(log_dir) if x["kind"] == "request"]
    assert recs[-1]["outcome"] == code
    ok = chat(client, base, "still alive")
    assert ok.status_code == 200 and "still alive" in ok.json()["choices"][0]["message"]["content"]
    assert verify(log_dir)["ok"]


def test_fast_path_runs_the_policy_and_records_like_the_task_path(start_gateway, client):
    """Same request on the task path (first on its connection) and on the fast path: same reply, same record
    fields (redaction, label, hashes)."""
    from cnai.gateway.chainlog import export

    from .test_proxy import chat
    base, gw, log_dir = start_gateway()
    text = "我的手机号是13812345678，请回复"
    a = chat(client, base, text)
    before = gw.fast_requests
    b = chat(client, base, text)
    assert gw.fast_requests == before + 1
    assert a.status_code == b.status_code == 200
    strip = lambda j: {k: v for k, v in j.items() if k not in ("id", "created")}  # noqa: E731
    assert strip(a.json()) == strip(b.json())
    assert "13812345678" not in b.text
    ra, rb = [x["data"] for x in export(log_dir) if x["kind"] == "request"][-2:]
    drop = ("id", "ms")
    assert {k: v for k, v in ra.items() if k not in drop} == {k: v for k, v in rb.items() if k not in drop}
    assert rb["input"]["findings"]


def test_fast_path_blocked_and_bad_requests_keep_the_connection(start_gateway, tmp_path):
    """Refusals decided before the upstream (bad JSON, a blocked prompt) leave the pinned upstream connection
    unused and the client connection open."""
    kw = tmp_path / "extra.txt"
    kw.write_text("禁词测试\tA.1.b\n", encoding="utf-8")
    pol = DEFAULT_POLICY_YAML.replace('    "*": log ', '    "*": block ', 1)     # input keywords: block
    base, gw, _ = start_gateway(pol, keywords=[str(kw)])
    s = _conn(base)
    s.sendall(_post("/v1/chat/completions", _chat_body("warm")))
    first = s.recv(65536)
    assert first.startswith(b"HTTP/1.1 200 ")
    before = gw.fast_requests
    s.sendall(_post("/v1/chat/completions", b"{not json"))
    assert s.recv(65536).startswith(b"HTTP/1.1 400 ")
    s.sendall(_post("/v1/chat/completions", _chat_body("这里有禁词测试")))
    assert s.recv(65536).startswith(b"HTTP/1.1 400 ")
    s.sendall(_post("/v1/chat/completions", _chat_body("again"), b"connection: close\r\n"))
    raw = _read_all(s)
    s.close()
    assert raw.startswith(b"HTTP/1.1 200 ") and b"again" in raw
    assert gw.fast_requests == before + 3

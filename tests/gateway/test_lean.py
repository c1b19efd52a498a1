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

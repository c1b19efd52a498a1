"""The lean server's fast path (an upstream connection pinned to each keep-alive client connection) against the
edge cases of the task path: the upstream connection limit, client and upstream closes, HTTP/1.0, graceful stop.
Each test has its own counting mock upstream, so connection counts are exact."""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from cnai.gateway.policy import DEFAULT_POLICY_YAML

from .conftest import serve_in_thread
from .test_lean import _chat_body, _conn, _post, _read_all
from .test_proxy import chat


def _limit(n: int) -> str:
    return DEFAULT_POLICY_YAML.replace("upstream_max_connections: 1000", f"upstream_max_connections: {n}")


def _recv_reply(s) -> bytes:
    """One whole reply with a content-length (the gateway's non-streamed replies)."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        b = s.recv(65536)
        if not b:
            return buf
        buf += b
    head, _, body = buf.partition(b"\r\n\r\n")
    n = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
    while len(body) < n:
        b = s.recv(65536)
        if not b:
            break
        body += b
    return head + b"\r\n\r\n" + body


def _replies(s, n: int) -> list[bytes]:
    """n whole replies (content-length framed) from s, however the bytes are split or joined."""
    f = s.makefile("rb")
    out = []
    for _ in range(n):
        head = b""
        while not head.endswith(b"\r\n\r\n"):
            line = f.readline()
            if not line:
                return out
            head += line
        size = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
        out.append(head + f.read(size))
    f.close()
    return out


@pytest.mark.parametrize("gateway_server", ["lean", "uvicorn"])
def test_more_keep_alive_clients_than_the_limit_open_at_most_the_limit(start_gateway, counting_upstream):
    """N+k keep-alive clients, requests in flight at once (some slow): never more than N upstream connections,
    and every request succeeds (the extra ones wait for a free connection)."""
    n, k, per = 3, 4, 6
    base, gw, _ = start_gateway(_limit(n), upstream_url=counting_upstream.url)
    results: list[tuple[int, str, str]] = []

    def client_loop(i: int):
        with httpx.Client(timeout=20) as c:
            for j in range(per):
                text = f"c{i} r{j}"
                r = chat(c, base, text, model="fault:slow" if j % 3 == 0 else "echo")
                results.append((r.status_code, text, r.json()["choices"][0]["message"]["content"]
                                if r.status_code == 200 else r.text))

    ts = [threading.Thread(target=client_loop, args=(i,)) for i in range(n + k)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(60)
    assert len(results) == (n + k) * per
    assert all(st == 200 and got.startswith(text) for st, text, got in results), results
    assert counting_upstream.open_max <= n and counting_upstream.connections <= n
    assert gw.pool.open <= n


@pytest.mark.parametrize("gateway_server", ["lean"])
def test_idle_pinned_connection_is_taken_back_at_the_limit(start_gateway, counting_upstream, client):
    """Limit 1: a keep-alive client holds the one upstream connection pinned and goes quiet; another client's
    request takes it back at once (no wait, no second connection), and the first client still gets served."""
    base, gw, _ = start_gateway(_limit(1), upstream_url=counting_upstream.url)
    s = _conn(base)
    s.sendall(_post("/v1/chat/completions", _chat_body("first")))
    assert _recv_reply(s).startswith(b"HTTP/1.1 200 ")
    s.sendall(_post("/v1/chat/completions", _chat_body("pinned now")))
    assert _recv_reply(s).startswith(b"HTTP/1.1 200 ")
    assert len(gw.pool._pinned) == 1
    t0 = time.monotonic()
    r = chat(client, base, "other client")
    assert r.status_code == 200 and time.monotonic() - t0 < 2
    s.sendall(_post("/v1/chat/completions", _chat_body("back again")))
    raw = _recv_reply(s)
    s.close()
    assert raw.startswith(b"HTTP/1.1 200 ") and b"back again" in raw
    assert counting_upstream.connections == 1


@pytest.mark.parametrize("gateway_server", ["lean"])
def test_client_disconnect_mid_request_leaves_a_reusable_upstream_connection(start_gateway, counting_upstream,
                                                                             client):
    """The client goes away while its fast-path request waits for the upstream: the reply is read whole (the
    upstream connection is reused, never with half a reply in it), recorded, and the next client is served."""
    from cnai.gateway.chainlog import export, verify
    base, gw, log_dir = start_gateway(upstream_url=counting_upstream.url)
    s = _conn(base)
    s.sendall(_post("/v1/chat/completions", _chat_body("warm")))
    assert _recv_reply(s).startswith(b"HTTP/1.1 200 ")
    before = gw.fast_requests
    s.sendall(_post("/v1/chat/completions", json_body := b'{"model": "fault:slow", "messages": '
                                                         b'[{"role": "user", "content": "gone"}]}'))
    assert json_body
    time.sleep(0.05)
    s.close()                                     # while the upstream takes 0.3 s
    time.sleep(0.5)
    assert gw.fast_requests == before + 1
    for i in range(3):
        r = chat(client, base, f"next {i}")
        assert r.status_code == 200 and r.json()["choices"][0]["message"]["content"].startswith(f"next {i}")
    assert counting_upstream.connections == 1
    recs = [x["data"] for x in export(log_dir) if x["kind"] == "request"]
    assert [r["outcome"] for r in recs].count("ok") == 5 and verify(log_dir)["ok"]


@pytest.mark.parametrize("gateway_server", ["lean"])
def test_upstream_closing_the_pinned_connection_between_requests(start_gateway, counting_upstream):
    """The upstream closes the pinned connection after a reply (no `connection: close`, as an idle timeout):
    the next request on the client connection goes out on a fresh connection, never on the closed one."""
    base, gw, _ = start_gateway(upstream_url=counting_upstream.url)
    s = _conn(base)
    s.sendall(_post("/v1/chat/completions", _chat_body("warm")))
    assert _recv_reply(s).startswith(b"HTTP/1.1 200 ")
    s.sendall(_post("/v1/chat/completions", b'{"model": "fault:close", "messages": [{"role": "user", '
                                            b'"content": "then close"}]}'))
    assert b"then close" in _recv_reply(s)
    time.sleep(0.3)                               # the upstream has closed it by now
    for i in range(3):
        s.sendall(_post("/v1/chat/completions", _chat_body(f"after {i}")))
        raw = _recv_reply(s)
        assert raw.startswith(b"HTTP/1.1 200 ") and f"after {i}".encode() in raw
    s.close()
    assert counting_upstream.connections == 2
    assert gw.pool.open == 1


@pytest.mark.parametrize("gateway_server", ["lean"])
def test_connection_close_from_the_client_returns_the_upstream_connection(start_gateway, counting_upstream):
    base, gw, _ = start_gateway(upstream_url=counting_upstream.url)
    for i in range(4):                 # each client: one kept-alive request, then one with connection: close
        s = _conn(base)
        s.sendall(_post("/v1/chat/completions", _chat_body(f"a{i}")))
        assert _recv_reply(s).startswith(b"HTTP/1.1 200 ")
        s.sendall(_post("/v1/chat/completions", _chat_body(f"b{i}"), b"connection: close\r\n"))
        raw = _read_all(s)
        s.close()
        assert raw.startswith(b"HTTP/1.1 200 ") and b"connection: close" in raw and f"b{i}".encode() in raw
        time.sleep(0.05)
    assert counting_upstream.connections == 1      # handed from one client connection to the next


@pytest.mark.parametrize("gateway_server", ["lean"])
def test_http10_clients(start_gateway, counting_upstream):
    """HTTP/1.0: closed after the reply unless the client asks for keep-alive, which the reply then confirms."""
    base, gw, _ = start_gateway(upstream_url=counting_upstream.url)
    body = _chat_body("old client")
    s = _conn(base)
    s.sendall(b"POST /v1/chat/completions HTTP/1.0\r\ncontent-type: application/json\r\n"
              b"content-length: %d\r\n\r\n%s" % (len(body), body))
    raw = _read_all(s)                            # returns at the close
    s.close()
    assert raw.startswith(b"HTTP/1.1 200 ") and b"old client" in raw and b"connection: close" in raw.lower()
    s = _conn(base)
    for i in range(2):
        b = _chat_body(f"kept {i}")
        s.sendall(b"POST /v1/chat/completions HTTP/1.0\r\nconnection: keep-alive\r\ncontent-type: application/json"
                  b"\r\ncontent-length: %d\r\n\r\n%s" % (len(b), b))
        raw = _recv_reply(s)
        assert raw.startswith(b"HTTP/1.1 200 ") and f"kept {i}".encode() in raw
        assert b"connection: keep-alive" in raw.lower()
    s.close()


def test_graceful_stop_sends_replies_waiting_for_the_upstream_and_the_commit(tmp_path, counting_upstream,
                                                                              monkeypatch):
    """A stop while fast-path requests wait for the upstream: each gets its whole reply (after its record is
    committed), then the connection closes; the chain holds every record."""
    from cnai.core.mockhttp import free_port
    from cnai.gateway.app import Settings, create_app
    from cnai.gateway.chainlog import export, verify
    from cnai.gateway.lean import LeanServer
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    log_dir = str(tmp_path / "logs")
    app = create_app(Settings(upstream=counting_upstream.url, log_dir=log_dir))
    port = free_port()
    srv = LeanServer(app, "127.0.0.1", port)
    th = serve_in_thread(srv)
    base = f"http://127.0.0.1:{port}"
    socks = []
    for i in range(3):
        s = _conn(base)
        for j in range(2):             # the second one leaves an upstream connection pinned to s
            s.sendall(_post("/v1/chat/completions", _chat_body(f"warm {i}.{j}")))
            assert _recv_reply(s).startswith(b"HTTP/1.1 200 ")
        socks.append(s)
    before = app.state.gateway.fast_requests
    for i, s in enumerate(socks):
        s.sendall(_post("/v1/chat/completions", b'{"model": "fault:slow", "messages": [{"role": "user", '
                                                b'"content": "slow %d"}]}' % i))
    time.sleep(0.1)
    srv.should_exit = True
    for i, s in enumerate(socks):
        raw = _read_all(s)
        s.close()
        assert raw.startswith(b"HTTP/1.1 200 ") and b"slow %d" % i in raw and b"connection: close" in raw
    th.join(10)
    assert app.state.gateway.fast_requests == before + 3
    recs = [x["data"] for x in export(log_dir) if x["kind"] == "request"]
    assert len(recs) == 9 and all(r["outcome"] == "ok" for r in recs) and verify(log_dir)["ok"]


def test_two_workers_share_many_long_lived_connections_evenly(tmp_path, counting_upstream):
    """64 keep-alive connections opened at once against 2 lean workers: each worker gets a fair share (one
    listening socket per worker with SO_REUSEPORT; with a shared socket one worker was seen taking 57 of 64)."""
    import os
    import signal
    import subprocess
    import sys

    from cnai.core.mockhttp import free_port
    from cnai.gateway.chainlog import export
    log_dir = str(tmp_path / "logs")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen([sys.executable, "-m", "cnai", "gateway", "serve", "--upstream", counting_upstream.url,
                             "--listen", f"127.0.0.1:{port}", "--log-dir", log_dir, "--workers", "2"],
                            env=dict(os.environ, OPENAI_API_KEY="sk-x"), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        for _ in range(300):                      # both workers up: two start events
            if len([x for x in export(log_dir) if x["kind"] == "event"]) >= 2:
                break
            time.sleep(0.05)
        # a second gateway on the same port is refused, as before SO_REUSEPORT (not silently sharing it)
        second = subprocess.Popen([sys.executable, "-m", "cnai", "gateway", "serve", "--upstream",
                                   counting_upstream.url, "--listen", f"127.0.0.1:{port}", "--log-dir",
                                   str(tmp_path / "logs2"), "--workers", "2"], env=dict(os.environ, OPENAI_API_KEY="x"),
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                  start_new_session=True)
        try:
            _, err = second.communicate(timeout=60)
        except subprocess.TimeoutExpired:            # it bound and serves: stop it and its workers
            os.killpg(second.pid, signal.SIGTERM)
            _, err = second.communicate(timeout=30)
            pytest.fail("a second gateway bound the port in use")
        assert second.returncode != 0 and "Address already in use" in err
        socks = [_conn(base) for _ in range(64)]
        for i, s in enumerate(socks):
            s.sendall(_post("/v1/chat/completions", _chat_body(f"conn {i}")))
        for i, s in enumerate(socks):
            assert f"conn {i}".encode() in _recv_reply(s)
        for s in socks:
            s.close()
        proc.send_signal(signal.SIGTERM)
        proc.wait(20)
    finally:
        if proc.poll() is None:                   # a failed assertion: stop the parent and its workers
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(30)
    per = {}
    for x in export(log_dir):
        if x["kind"] == "request":
            per[x["worker"]] = per.get(x["worker"], 0) + 1
    assert sum(per.values()) == 64 and len(per) == 2 and min(per.values()) >= 16, per


@pytest.mark.parametrize("gateway_server", ["lean"])
def test_oversized_body_on_a_pinned_connection(start_gateway, counting_upstream, client):
    """A body over the limit on a client connection holding a pinned upstream connection: 413 from the header,
    the client connection closed, the upstream connection unused and handed to the next client."""
    small = DEFAULT_POLICY_YAML.replace("max_body_bytes: 4194304", "max_body_bytes: 2048")
    base, gw, _ = start_gateway(small, upstream_url=counting_upstream.url)
    s = _conn(base)
    for i in range(2):
        s.sendall(_post("/v1/chat/completions", _chat_body(f"warm {i}")))
        assert _recv_reply(s).startswith(b"HTTP/1.1 200 ")
    assert len(gw.pool._pinned) == 1
    s.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
              b"content-length: 100000\r\n\r\n" + b"x" * 4000)
    raw = _read_all(s)
    s.close()
    assert raw.startswith(b"HTTP/1.1 413 ") and b"connection: close" in raw
    time.sleep(0.05)
    assert not gw.pool._pinned and gw.pool.open == 1
    assert chat(client, base, "next").status_code == 200
    assert counting_upstream.connections == 1 and len(counting_upstream.received) == 3


@pytest.mark.parametrize("gateway_server", ["lean"])
def test_http10_stream_is_not_chunked(start_gateway):
    """HTTP/1.0 has no chunked encoding: a streamed reply goes as plain bytes, delimited by the close."""
    base, gw, _ = start_gateway()
    body = b'{"model": "echo", "stream": true, "messages": [{"role": "user", "content": "stream me"}]}'
    s = _conn(base)
    s.sendall(b"POST /v1/chat/completions HTTP/1.0\r\nconnection: keep-alive\r\ncontent-type: application/json\r\n"
              b"content-length: %d\r\n\r\n%s" % (len(body), body))
    raw = _read_all(s)                            # returns at the close
    s.close()
    head, _, rest = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 ") and b"chunked" not in head.lower()
    assert b"connection: close" in head.lower()
    assert rest.startswith(b"data: ") and rest.rstrip().endswith(b"data: [DONE]")


@pytest.mark.parametrize("gateway_server", ["lean"])
def test_pipelined_requests_with_a_fault_between_them(start_gateway, counting_upstream):
    """Three pipelined requests on a connection with a pinned upstream connection, the middle one reset by the
    upstream: 200, 502, 200 in order, the broken upstream connection replaced, the client connection kept."""
    base, gw, _ = start_gateway(upstream_url=counting_upstream.url)
    s = _conn(base)
    for i in range(2):
        s.sendall(_post("/v1/chat/completions", _chat_body(f"warm {i}")))
        assert _recv_reply(s).startswith(b"HTTP/1.1 200 ")
    before = gw.fast_requests
    s.sendall(_post("/v1/chat/completions", _chat_body("one"))
              + _post("/v1/chat/completions", b'{"model": "fault:reset", "messages": [{"role": "user", '
                                              b'"content": "two"}]}')
              + _post("/v1/chat/completions", _chat_body("three")))
    got = _replies(s, 3)             # pipelined replies may arrive in one segment
    assert [g[:12] for g in got] == [b"HTTP/1.1 200", b"HTTP/1.1 502", b"HTTP/1.1 200"]
    assert b"one" in got[0] and b"upstream_unreachable" in got[1] and b"three" in got[2]
    s.sendall(_post("/v1/chat/completions", _chat_body("four")))
    assert b"four" in _recv_reply(s)
    s.close()
    assert gw.fast_requests - before >= 2          # "one", "two" on the pinned connection
    assert counting_upstream.connections == 2

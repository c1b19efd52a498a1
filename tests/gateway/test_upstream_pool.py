"""cnai.gateway.upstream.RawPool against a scripted raw HTTP server: keep-alive reuse, framing by length,
chunks or close, and every fault mapped to its exception (the gateway turns those into OpenAI errors)."""

from __future__ import annotations

import asyncio

import pytest

from cnai.gateway.upstream import RawPool, UpstreamMalformed, UpstreamReset, UpstreamUnreachable


async def serve(script):
    """A server whose reply to each request is script(n, request_bytes, writer) (n: request number on the
    connection); returns (server, base url, connection counter)."""
    conns = [0]

    async def handle(reader, writer):
        conns[0] += 1
        n = 0
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                body = await reader.readexactly(length) if length else b""
                n += 1
                if await script(n, head + body, writer) is False:
                    return
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    srv = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = srv.sockets[0].getsockname()[1]
    return srv, f"http://127.0.0.1:{port}/v1", conns


def ok(body: bytes) -> bytes:
    return b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n%s" % (len(body), body)


def run(coro):
    return asyncio.run(coro)


def test_keep_alive_reuses_one_connection_and_sends_path_host_and_body():
    seen = []

    async def script(n, req, w):
        seen.append(req)
        w.write(ok(b'{"n": %d}' % n))

    async def main():
        srv, url, conns = await serve(script)
        pool = RawPool(url, connect_timeout=2, read_timeout=2)
        out = [await pool.request("POST", "/chat/completions", b'{"a":1}', {"content-type": "application/json",
                                                                            "authorization": "Bearer k"})
               for _ in range(5)]
        pool.close()
        srv.close()
        return out, conns[0]

    out, nconn = run(main())
    assert out == [(200, b'{"n": %d}' % i) for i in range(1, 6)]
    assert nconn == 1
    first = seen[0].decode()
    assert first.startswith("POST /v1/chat/completions HTTP/1.1\r\n")
    assert "host: 127.0.0.1:" in first and "authorization: Bearer k" in first and first.endswith('{"a":1}')


def test_chunked_and_close_delimited_replies():
    async def script(n, req, w):
        if n == 1:
            w.write(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n")
        else:
            w.write(b"HTTP/1.1 500 X\r\nconnection: close\r\n\r\nno length")
            return False

    async def main():
        srv, url, _ = await serve(script)
        pool = RawPool(url, connect_timeout=2, read_timeout=2)
        a = await pool.request("GET", "/models", None, {})
        b = await pool.request("GET", "/models", None, {})
        pool.close()
        srv.close()
        return a, b

    assert run(main()) == ((200, b"abcde"), (500, b"no length"))


@pytest.mark.parametrize("fault, exc", [
    ("reset-before", UpstreamUnreachable),
    ("reset-after-headers", UpstreamReset),
    ("garbage", UpstreamMalformed),
    ("stall", TimeoutError),
])
def test_faults_map_to_exceptions(fault, exc):
    async def script(n, req, w):
        if fault == "reset-before":
            w.transport.abort()
            return False
        if fault == "reset-after-headers":
            w.write(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\npartial")
            await w.drain()
            w.transport.abort()
            return False
        if fault == "garbage":
            w.write(b"NOT HTTP AT ALL\r\n\r\n")
            return None
        await asyncio.sleep(5)

    async def main():
        srv, url, _ = await serve(script)
        pool = RawPool(url, connect_timeout=2, read_timeout=0.3)
        try:
            with pytest.raises(exc):
                await pool.request("POST", "/completions", b"{}", {})
        finally:
            pool.close()
            srv.close()

    run(main())


def test_refused_connection_and_idle_connection_closed_by_upstream():
    from cnai.core.mockhttp import free_port

    async def main():
        pool = RawPool(f"http://127.0.0.1:{free_port()}/v1", connect_timeout=1, read_timeout=1)
        with pytest.raises(UpstreamUnreachable):
            await pool.request("GET", "/models", None, {})

        async def script(n, req, w):      # answers, then closes the kept-alive connection while it is idle
            w.write(ok(b"{}"))
            await w.drain()
            return False

        srv, url, conns = await serve(script)
        pool = RawPool(url, connect_timeout=2, read_timeout=2)
        assert await pool.request("GET", "/models", None, {}) == (200, b"{}")
        await asyncio.sleep(0.1)          # the close reaches the pool
        assert await pool.request("GET", "/models", None, {}) == (200, b"{}")   # a fresh connection, no error
        pool.close()
        srv.close()
        return conns[0]

    assert run(main()) == 2


def test_bad_upstream_url():
    with pytest.raises(ValueError, match="http"):
        RawPool("ftp://x/v1", connect_timeout=1, read_timeout=1)


def test_https_upstream(tmp_path):
    """TLS to the upstream (cloud APIs): certificate checked against the trusted roots and the host name."""
    import datetime
    import ssl

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=1))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    crt, pem = tmp_path / "c.pem", tmp_path / "k.pem"
    crt.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    pem.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()))
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(crt, pem)

    async def handle(reader, writer):
        await reader.readuntil(b"\r\n\r\n")
        writer.write(ok(b'{"tls": true}'))
        await writer.drain()
        writer.close()

    async def main():
        srv = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=server_ctx)
        port = srv.sockets[0].getsockname()[1]
        try:
            pool = RawPool(f"https://localhost:{port}/v1", connect_timeout=2, read_timeout=2)
            with pytest.raises(UpstreamUnreachable, match="certificate"):   # not a trusted root: refused
                await pool.request("GET", "/models", None, {})
            pool._ssl = ssl.create_default_context(cafile=str(crt))
            return await pool.request("GET", "/models", None, {})
        finally:
            srv.close()

    assert run(main()) == (200, b'{"tls": true}')


def test_idle_connection_past_idle_timeout_is_not_reused_and_header_injection_refused():
    async def script(n, req, w):
        w.write(ok(b"{}"))

    async def main():
        srv, url, conns = await serve(script)
        pool = RawPool(url, connect_timeout=2, read_timeout=2, idle_timeout=0.05)
        await pool.request("GET", "/models", None, {})
        await pool.request("GET", "/models", None, {})       # reused: within the idle timeout
        n_before = conns[0]
        await asyncio.sleep(0.15)
        await pool.request("GET", "/models", None, {})       # idle too long: a fresh connection
        with pytest.raises(ValueError, match="line break"):
            await pool.request("GET", "/models", None, {"authorization": "Bearer x\r\nx-evil: 1"})
        pool.close()
        srv.close()
        return n_before, conns[0]

    assert run(main()) == (1, 2)


def test_connection_limit_queues_requests_and_times_out_a_long_wait():
    """max_conns=2: six requests at once use two connections (the others wait for a free one); a wait longer
    than the read timeout ends in TimeoutError and gives nothing back twice."""
    async def script(n, req, w):
        await asyncio.sleep(0.05 if b"fast" in req else 0.6)
        w.write(ok(req[req.index(b"\r\n\r\n") + 4:]))

    async def main():
        srv, url, conns = await serve(script)
        pool = RawPool(url, connect_timeout=2, read_timeout=2, max_conns=2)
        got = await asyncio.gather(*(pool.request("POST", "/x", b"fast%d" % i, {}) for i in range(6)))
        assert [b for _, b in got] == [b"fast%d" % i for i in range(6)]
        assert conns[0] == 2 and pool.open == 2
        pool.read_timeout = 0.3
        slow = [asyncio.create_task(pool.request("POST", "/x", b"slow", {})) for _ in range(2)]
        await asyncio.sleep(0.05)
        with pytest.raises(TimeoutError, match="no upstream connection free"):
            await pool.request("POST", "/x", b"fast", {})
        for t in slow:
            with pytest.raises(TimeoutError):      # the upstream itself took longer than 0.3 s
                await t
        await asyncio.sleep(0.05)
        assert pool.open == 0 and not pool._waiters      # both aborted: their slots are free again
        pool.read_timeout = 2
        assert (await pool.request("POST", "/x", b"fast again", {}))[1] == b"fast again"
        assert pool.open == 1
        pool.close()
        srv.close()

    run(main())


def test_pinned_and_idle_connections_together_stay_within_max_idle():
    async def script(n, req, w):
        await asyncio.sleep(0.05)
        w.write(ok(b"{}"))

    async def main():
        srv, url, conns = await serve(script)
        pool = RawPool(url, connect_timeout=2, read_timeout=2, max_idle=2, max_conns=10)
        await asyncio.gather(*(pool.request("POST", "/x", b"{}", {}) for _ in range(3)))
        await asyncio.sleep(0.02)
        assert conns[0] == 3 and pool.open == 2 and len(pool._idle) == 2     # the third was closed
        now = asyncio.get_running_loop().time()
        a, b = pool.take_idle(), pool.take_idle()
        assert pool.pin(a, "client a", now) and pool.pin(b, "client b", now)
        await pool.request("POST", "/x", b"{}", {})       # a third connection: not kept (2 pinned already)
        await asyncio.sleep(0.02)
        assert pool.open == 2 and not pool._idle
        assert pool.unpin(a, "client a") and not pool.unpin(b, "client a")
        assert pool.pin(a, "client a", now) and len(pool._pinned) == 2      # room again
        pool.close()
        srv.close()

    run(main())


def test_a_slot_handed_to_a_waiter_cancelled_in_the_same_turn_is_not_lost():
    async def main():
        pool = RawPool("http://127.0.0.1:9/v1", connect_timeout=1, read_timeout=5, max_conns=1)
        pool.open = 1                                   # the one slot is taken
        t = asyncio.create_task(pool._acquire())
        await asyncio.sleep(0)
        assert len(pool._waiters) == 1
        pool.open -= 1                                  # that connection closes: its slot goes to the waiter...
        pool._hand_slot()
        assert pool.open == 1 and not pool._waiters
        t.cancel()                                      # ...which is cancelled before it runs
        with pytest.raises(asyncio.CancelledError):
            await t
        assert pool.open == 0                           # the slot came back

    run(main())

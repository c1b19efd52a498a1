"""A lean HTTP/1.1 server for the gateway: asyncio.Protocol + httptools, no ASGI on the proxy routes.

Why: profiled under 64 clients, uvicorn's protocol plus the ASGI/Starlette plumbing (scope dicts, header
tuples, Request/Response objects sent as ASGI messages) cost about 30 % of the gateway's CPU per proxied
request. Here the four proxy routes call Gateway.handle with a small request object and a finished Response
is written as one buffer. Everything else (streamed replies, /cnai/*, /metrics, 404/405) still goes through
ASGI: the Starlette app and StreamingResponse run against a minimal ASGI shim, so their behaviour is the one
the uvicorn server has (same handlers, same error bodies).

Scope: one request at a time per connection (a pipelined request waits in a queue, and reading pauses
while one waits; a connection that sends one request at a time is never paused, which saves two epoll
changes per request); keep-alive by HTTP/1.1 rules; a request body is buffered up to the policy's max_body_bytes (+1 byte,
so the handler answers 413; the connection is then closed); headers over 64 KiB or unparsable HTTP get 400
and a closed connection. Streaming honours transport back-pressure (pause_writing/resume_writing) and a
client disconnect reaches the handler as an ASGI http.disconnect.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import gc
import os
import signal
import socket
import time
from http import HTTPStatus

import httptools
from starlette.responses import Response

from cnai.gateway.app import FastJSON
from cnai.gateway.upstream import Sink

_REASON = {s.value: s.phrase.encode() for s in HTTPStatus}
_MAX_HEADER_BYTES = 64 * 1024
_ERROR_500 = b"HTTP/1.1 500 Internal Server Error\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
_FAST = {"/v1/chat/completions": "chat", "/v1/completions": "completions"}
_BAD = b"HTTP/1.1 400 Bad Request\r\ncontent-type: text/plain\r\ncontent-length: 11\r\nconnection: close\r\n\r\nbad request"


def _status_line(status: int) -> bytes:
    return b"HTTP/1.1 %d %s\r\n" % (status, _REASON.get(status, b"Unknown"))


_CONN_HEADER = (b"connection: close\r\n", b"", b"connection: keep-alive\r\n")


def _whole(resp, body: bytes, keep: int) -> bytes:
    """A whole reply's bytes: status line, headers, body. keep: 0 close, 1 keep alive (HTTP/1.1), 2 keep alive
    and say so (an HTTP/1.0 client that asked for it)."""
    raw_headers = resp.raw_headers
    if type(resp) is FastJSON and len(raw_headers) == 2:    # the common reply: a fixed template
        return (b"HTTP/1.1 %d %s\r\ncontent-length: %s\r\ncontent-type: application/json\r\n%s\r\n%s"
                % (resp.status_code, _REASON.get(resp.status_code, b"Unknown"), raw_headers[0][1],
                   _CONN_HEADER[keep], body))
    parts = [_status_line(resp.status_code)]
    for k, v in raw_headers:
        parts += (k, b": ", v, b"\r\n")
    parts.append(_CONN_HEADER[keep])
    parts += (b"\r\n", body)
    return b"".join(parts)


class Headers(dict):
    """Lower-cased header names -> value (the last one wins, as Starlette's .get does for the first; the
    gateway only reads single-valued headers)."""


class LeanRequest:
    """What Gateway.handle reads from a request: .headers.get(), the body already read (raw_body, at most the
    limit + 1 bytes) and the ASGI .receive() (for a client disconnect)."""

    __slots__ = ("headers", "receive", "raw_body")

    def __init__(self, headers, receive, raw_body):
        self.headers, self.receive, self.raw_body = headers, receive, raw_body


class _Conn(asyncio.Protocol):
    def __init__(self, server: LeanServer):
        self.srv = server
        self.parser = httptools.HttpRequestParser(self)
        self.transport = None
        self.closed = False
        self.busy = False
        self.skip = False          # a too-big body was answered from its header: ignore the rest
        self.disconnected: asyncio.Future | None = None
        self._writable = asyncio.Event()
        self._writable.set()
        self.queue: collections.deque = collections.deque()   # pipelined requests waiting their turn
        self.paused = False
        self.eof = False                # the client half-closed: answer what is in flight, then close
        self.up = None                  # upstream connection pinned to this one (fast path), idle
        self._reset()

    def _reset(self):
        self.url = b""
        self.headers = Headers()
        self.header_bytes = 0
        self.body: list[bytes] = []    # the body's pieces (joined once: one piece is not copied)
        self.body_len = 0
        self.over = False          # body went past the limit: buffering stopped
        self.too_big = False       # content-length over the limit: answered at once, then closed

    # ------------------------------------------------------------------ asyncio.Protocol
    def connection_made(self, transport):
        self.transport = transport
        self.disconnected = asyncio.get_running_loop().create_future()
        self.srv.conns.add(self)

    def connection_lost(self, exc):
        self.closed = True
        self.srv.conns.discard(self)
        if self.up is not None:             # the pinned upstream connection goes back to the pool
            up, self.up = self.up, None
            if up.owner is self:            # (else the pool took it back already)
                self.srv.gw.pool.put_idle(up)
        if not self.disconnected.done():
            self.disconnected.set_result(None)
        self._writable.set()

    def eof_received(self):
        if self.busy or self.queue:
            self.eof = True
            return True                 # keep the write side open for the replies in flight
        return None                     # idle: the transport closes

    def pause_writing(self):
        self._writable.clear()

    def resume_writing(self):
        self._writable.set()

    def data_received(self, data: bytes):
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._bad()
        except httptools.HttpParserError:
            self._bad()

    def _bad(self):
        if not self.closed:
            self.transport.write(_BAD)
            self.transport.close()
            self.closed = True

    # ------------------------------------------------------------------ httptools callbacks
    def on_url(self, url: bytes):
        self.url += url

    def on_header(self, name: bytes, value: bytes):
        self.header_bytes += len(name) + len(value)
        if self.header_bytes > _MAX_HEADER_BYTES:
            raise httptools.HttpParserError("headers too large")
        self.headers[name.decode("latin-1").lower()] = value.decode("latin-1")

    def on_headers_complete(self):
        cl = self.headers.get("content-length")
        if cl and cl.isdigit() and int(cl) > self.srv.body_limit():
            # the handler answers 413 from the header alone; the unread body makes the connection unusable
            self.too_big = True
            self._pause()
            self._dispatch()
        elif self.headers.get("expect", "").lower() == "100-continue":
            # curl sends this for bodies over 1 KiB and waits up to 1 s for it before sending the body
            self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")

    def on_body(self, body: bytes):
        if self.skip or self.over:
            return
        self.body.append(body)
        self.body_len += len(body)
        if self.body_len > self.srv.body_limit():
            self.over = True       # enough to make the handler answer 413; the rest is dropped

    def on_message_complete(self):
        if not self.skip:
            self._dispatch()

    def _pause(self):
        if not self.paused:
            self.paused = True
            self.transport.pause_reading()

    # ------------------------------------------------------------------ one request
    def _dispatch(self):
        method = self.parser.get_method().decode("latin-1")
        # keep: 0 close, 1 keep alive, 2 keep alive and say so (HTTP/1.0 keep-alive)
        v10 = self.parser.get_http_version() == "1.0"
        keep = 0 if self.too_big or self.over or not self.parser.should_keep_alive() else 2 if v10 else 1
        url = self.url
        # the common case, a plain path, needs no URL parser
        path = (url if b"?" not in url and b"#" not in url and url[:1] == b"/" else
                httptools.parse_url(url).path).decode("latin-1")
        req = (method, path, self.headers, b"".join(self.body), keep, v10)
        self.skip = self.too_big
        self._reset()
        if self.busy or self.queue:     # pipelined: one at a time, in order; stop reading more meanwhile
            self.queue.append(req)
            self._pause()
            return
        self._start(req)

    def _start(self, req):
        self.busy = True
        if req[0] == "POST" and req[1] in _FAST and self._fast(req):
            return
        t = asyncio.get_running_loop().create_task(self._run(*req))
        self.srv.tasks.add(t)
        t.add_done_callback(self.srv.tasks.discard)

    def _end(self, keep: bool) -> None:
        """The reply is out: next pipelined request, more reading, or close."""
        self.busy = False
        if self.closed:
            return
        if not keep:
            self.queue.clear()
            self.transport.close()
            self.closed = True
            return
        if self.queue:
            self._start(self.queue.popleft())
            return
        if self.srv.stopping or self.eof:
            self.transport.close()
            self.closed = True
            return
        if self.paused:
            self.paused = False
            self.transport.resume_reading()

    # ------------------------------------------------------------------ the fast path
    # A non-streamed chat/completions call with an upstream connection at hand (this client connection's own,
    # pinned while both sides keep alive, or an idle one of the pool) runs as callbacks: no task, no
    # coroutines, no futures. The steps are the Gateway's own (suspended, admit, reply, done), as on the
    # task path; everything else (a new upstream connection, streams, other routes) takes the task path.
    def _fast(self, req) -> bool:
        gw = self.srv.gw
        pool = gw.pool
        if pool is None:
            return False
        method, path, headers, raw, keep, _v10 = req
        body = gw.parse_body(headers, raw)
        if type(body) is dict and body.get("stream"):
            return False
        up = self.up
        if up is not None:
            self.up = None
            if not pool.unpin(up, self):    # the pool took it back (at its limit, or idle too long)
                up = None
            elif not pool.reusable(up, asyncio.get_running_loop().time()):
                up.transport.close()
                up = None
        if up is None:
            up = pool.take_idle()
            if up is None:
                return False
        t0 = time.perf_counter()
        gw.fast_requests += 1
        route = _FAST[path]
        if self.srv.stopping or self.eof:
            keep = 0
        rec = gw.new_record(headers, route)
        started = False
        try:
            r = gw.suspended(rec)
            if r is None:
                r = gw.admit(headers, route, body, rec)
                if not isinstance(r, Response):
                    data = gw.upstream_request(route, body)
                    sink = Sink(self._fast_reply, (route, rec, t0, r, keep, up))
                    started = True
                    up.start(data, sink)
                    pool.watch(sink)
                    return True
        except Exception as e:
            if started:
                up.transport.abort()
                up = None
            r = gw.unexpected(rec, e)
        if up is not None:                  # not used: its idle time is unchanged
            self._keep_upstream(up, None)
        self._fast_done(route, rec, t0, r, keep)
        return True

    def _keep_upstream(self, up, now: float | None) -> None:
        """An upstream connection this request is done with: pinned for this client connection's next request
        (now: its idle time starts; None: unchanged), unless requests wait for one or the pool keeps enough."""
        pool = self.srv.gw.pool
        if not self.closed and pool.pin(up, self, now):
            self.up = up
        else:
            pool.put_idle(up)

    def _fast_reply(self, sink, result, exc) -> None:
        route, rec, t0, text_label, keep, up = sink.arg
        gw = self.srv.gw
        gw.pool.unwatch(sink)
        try:
            if exc is not None:
                up.transport.abort()        # half-read reply or timed out: not reusable
                r = gw.upstream_failed(exc, rec)
            else:
                self._keep_upstream(up, asyncio.get_running_loop().time())
                r = gw.reply(route, result[0], result[1], rec, text_label)
        except Exception as e:
            r = gw.unexpected(rec, e)
        self._fast_done(route, rec, t0, r, keep)

    def _fast_done(self, route, rec, t0, r, keep) -> None:
        gw = self.srv.gw
        if self.srv.stopping:               # a stop began while the upstream replied: say this is the last
            keep = 0
        try:
            gw.done(route, rec, t0)
            data = _whole(r, r.body, keep)
        except Exception as e:  # the server's last resort, as on the task path
            gw._log("server error", event="error", error=repr(e))
            data, keep = _ERROR_500, 0
        if not gw.after_commit(self._send_whole, data, keep):
            self._send_whole(data, keep)

    def _send_whole(self, data: bytes, keep: bool) -> None:
        if not self.closed:
            self.transport.write(data)
        self._end(keep)

    async def _run(self, method, path, headers, body, keep, v10=False):
        sent_body = False

        async def receive():
            nonlocal sent_body
            if not sent_body:
                sent_body = True
                return {"type": "http.request", "body": body, "more_body": False}
            await asyncio.shield(self.disconnected)   # a cancelled waiter must not cancel the shared future
            return {"type": "http.disconnect"}

        if self.srv.stopping or self.eof:
            keep = 0
        gw = self.srv.gw
        try:
            route = self.srv.routes.get((method, path))
            if route is not None:
                resp = await gw.handle(LeanRequest(headers, receive, body), route, defer=True)
                raw = getattr(resp, "body", None)
                if raw is not None:
                    if self.srv.stopping:
                        keep = 0
                    data = _whole(resp, b"" if method == "HEAD" else raw, keep)
                    # released only once this request's record is committed (group commit), as the uvicorn
                    # path's await does, without waking this task again
                    if not gw.after_commit(self._send_whole, data, keep):
                        self._send_whole(data, keep)
                    return
                # a streamed reply: StreamingResponse over the ASGI shim
                keep = await self._asgi(resp, method, path, headers, receive, keep, v10)
            else:
                keep = await self._asgi(self.srv.app, method, path, headers, receive, keep, v10)
        except Exception as e:  # the handler catches its own errors; this is the server's last resort
            gw._log("server error", event="error", error=repr(e))
            if not self.closed:
                self.transport.write(_ERROR_500)
            keep = 0
        self._end(keep)

    async def _asgi(self, app, method, path, headers, receive, keep, v10=False) -> bool:
        """Run an ASGI app (or Response) for this request; returns whether the connection stays open. A reply
        without content-length goes chunked, or to an HTTP/1.0 client (no chunked there) as bytes up to the
        close."""
        scope = {"type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"}, "http_version": "1.1",
                 "method": method, "scheme": "http", "path": path, "raw_path": path.encode(), "root_path": "",
                 "query_string": b"", "headers": [(k.encode("latin-1"), v.encode("latin-1"))
                                                   for k, v in headers.items()],
                 "server": None, "client": None, "app": app}
        state = {"chunked": False, "started": False, "done": False, "close": False}

        async def send(msg):
            if self.closed:
                raise OSError("client disconnected")
            if msg["type"] == "http.response.start":
                hs = list(msg.get("headers", ()))
                state["chunked"] = not any(k.lower() == b"content-length" for k, _ in hs)
                if state["chunked"] and v10:
                    state["chunked"] = False
                    state["close"] = True
                parts = [_status_line(msg["status"])]
                for k, v in hs:
                    parts += (k, b": ", v, b"\r\n")
                if state["chunked"]:
                    parts.append(b"transfer-encoding: chunked\r\n")
                parts.append(_CONN_HEADER[0 if state["close"] else keep])
                parts.append(b"\r\n")
                self.transport.write(b"".join(parts))
                state["started"] = True
            elif msg["type"] == "http.response.body":
                b = b"" if method == "HEAD" else msg.get("body", b"")   # HEAD: headers only
                more = msg.get("more_body", False)
                if state["chunked"]:
                    out = (b"%x\r\n%s\r\n" % (len(b), b)) if b else b""
                    if not more:
                        out += b"0\r\n\r\n"
                    if out:
                        self.transport.write(out)
                elif b:
                    self.transport.write(b)
                if not more:
                    state["done"] = True
                if not self._writable.is_set():
                    await self._writable.wait()      # back-pressure: a slow reader slows the stream
                    if self.closed:
                        raise OSError("client disconnected")

        try:
            await app(scope, receive, send)
        except OSError:
            return False
        return keep and state["done"] and not state["close"]


class LeanServer:
    def __init__(self, app, host: str, port: int, sock: socket.socket | None = None,
                 graceful_timeout: float = 30.0):
        self.fast = app                 # cnai.gateway.app.FastPath
        self.gw, self.app, self.routes = app.gw, app.app, app.ROUTES
        self.host, self.port, self.sock = host, port, sock
        self.graceful_timeout = graceful_timeout
        self.conns: set[_Conn] = set()
        self.tasks: set[asyncio.Task] = set()
        self.stopping = False
        self.started = False
        self.should_exit = False        # as uvicorn.Server: set from another thread to stop
        self._server = None

    def body_limit(self) -> int:
        return self.gw.policy.limits.max_body_bytes

    async def serve(self) -> None:
        loop = asyncio.get_running_loop()
        await self.gw.startup()
        # what is alive now (policy, keyword automaton, libraries) lives as long as the server: moved out of
        # the collector's sight, so its full collections do not walk it again and again under load
        gc.collect()
        gc.freeze()
        try:
            if self.sock is not None:
                self._server = await loop.create_server(lambda: _Conn(self), sock=self.sock, backlog=2048)
            else:
                self._server = await loop.create_server(lambda: _Conn(self), self.host, self.port,
                                                        reuse_address=True, backlog=2048)
            stop = asyncio.Event()
            for sig in (signal.SIGINT, signal.SIGTERM):
                with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                    loop.add_signal_handler(sig, stop.set)
            if _early_stop:          # a stop signal came while the worker was still starting up
                stop.set()
            self.started = True
            while not stop.is_set() and not self.should_exit:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), 0.1)
            await self._drain()
        finally:
            await self.gw.shutdown()

    async def _drain(self) -> None:
        """Graceful stop: no new connections, idle ones closed, requests in flight finish (up to the
        timeout), then the rest are cancelled."""
        self.stopping = True
        self._server.close()
        for c in list(self.conns):
            if not c.busy and not c.closed:
                c.transport.close()
        deadline = time.monotonic() + self.graceful_timeout
        if self.tasks:
            _, pending = await asyncio.wait(set(self.tasks), timeout=self.graceful_timeout)
            for t in pending:
                t.cancel()
        # fast-path requests have no task: wait for their connections to finish the reply
        while any(c.busy and not c.closed for c in self.conns) and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        for c in list(self.conns):
            if not c.closed:
                c.transport.close()

    def run(self) -> None:
        try:
            import uvloop
            runner = uvloop.run
        except ImportError:   # plain asyncio works the same, a little slower
            runner = asyncio.run
        runner(self.serve())


_early_stop: list[int] = []


def _bound(host: str, port: int, reuse_port: bool) -> socket.socket:
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


def serve_workers(app_factory, host: str, port: int, workers: int) -> None:
    """Run `workers` processes on one port; SIGTERM/SIGINT stop them gracefully, SIGHUP is passed on (policy
    reload).

    Each worker listens on a socket of its own with SO_REUSEPORT, so the kernel spreads new connections over
    the workers by their addresses. With one shared listening socket (CNAI_GATEWAY_REUSEPORT=0, or where
    SO_REUSEPORT is missing) whichever worker wakes first accepts a whole burst: 64 keep-alive clients were
    measured splitting 9/55 to 29/35 between two workers, and a long-lived connection never moves. The parent
    binds the port first (an error in use shows at once) but does not listen, so it receives nothing."""
    if workers == 1:
        LeanServer(app_factory(), host, port).run()
        return
    reuse_port = hasattr(socket, "SO_REUSEPORT") and os.environ.get("CNAI_GATEWAY_REUSEPORT", "1") != "0"
    if reuse_port:
        # a plain bind first: a port held by anyone, even another gateway of this user listening with
        # SO_REUSEPORT (which would otherwise silently share the traffic), fails here as before
        probe = _bound(host, port, False)
        port = probe.getsockname()[1]
        probe.close()
    sock = _bound(host, port, reuse_port)
    port = sock.getsockname()[1]
    if not reuse_port:
        sock.listen(2048)
        sock.set_inheritable(True)
    pids = []
    for _ in range(workers):
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                if reuse_port:
                    own = _bound(host, port, True)
                    own.listen(2048)
                    sock.close()
                    sock = own
                # until the loop's own handlers are in: a stop request while the policy and keyword
                # automaton load is remembered (the worker then starts, records start and stop, and exits)
                signal.signal(signal.SIGHUP, signal.SIG_IGN)
                for sig in (signal.SIGTERM, signal.SIGINT):
                    signal.signal(sig, lambda s, f: _early_stop.append(s))
                LeanServer(app_factory(), host, port, sock=sock).run()
            except BaseException:
                import traceback
                traceback.print_exc()
                code = 1
            os._exit(code)
        pids.append(pid)

    def forward(sig, _frame):
        for p in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(p, sig)

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, forward)
    for p in pids:
        while True:
            try:
                os.waitpid(p, 0)
                break
            except InterruptedError:
                continue
            except ChildProcessError:
                break
    sock.close()

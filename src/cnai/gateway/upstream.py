"""A lean keep-alive HTTP/1.1 client for the non-streamed upstream calls: asyncio.Protocol + httptools.

Profiled at 64 clients, aiohttp's request machinery (request/response objects, payload wrappers, header
multidicts, the connector) was about a third of the gateway's CPU per proxied request. A non-streamed proxy
call needs none of it: one pre-built request, one parsed reply kept whole. Streams stay on aiohttp (their
bytes are relayed as they come, where its reader earns its cost).

Faults map as before: a connect or reply timeout raises TimeoutError; a connection refused or reset before
the reply's headers raises UpstreamUnreachable, after them UpstreamReset (both OSError); a reply the parser
rejects raises UpstreamMalformed. An idle kept-alive connection that the upstream closed is noticed before it
is reused (never a resent request: a POST is only ever written once).
"""

from __future__ import annotations

import asyncio
import ssl
from urllib.parse import urlsplit

import httptools


class UpstreamUnreachable(ConnectionError):
    """No reply headers: connection refused, or reset before the reply began."""


class UpstreamReset(ConnectionError):
    """The connection broke after the reply's headers."""


class UpstreamMalformed(ValueError):
    """The reply is not valid HTTP/1.1."""


class _Conn(asyncio.Protocol):
    __slots__ = ("transport", "parser", "waiter", "status", "body", "headers_done", "closed", "framed",
                 "keep", "idle_since")

    def __init__(self):
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.waiter: asyncio.Future | None = None
        self.status = 0
        self.body: list[bytes] = []
        self.headers_done = False
        self.closed = False
        self.framed = False      # content-length or chunked: the reply's end is known without a close
        self.keep = False
        self.idle_since = 0.0

    # asyncio.Protocol
    def connection_made(self, transport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as e:
            self._fail(UpstreamMalformed(f"malformed upstream reply: {e}"))
            self.transport.close()

    def connection_lost(self, exc) -> None:
        self.closed = True
        w = self.waiter
        if w is not None and not w.done():
            if self.headers_done and not self.framed:       # a reply delimited by the close: complete now
                w.set_result((self.status, b"".join(self.body)))
            elif self.headers_done:
                w.set_exception(UpstreamReset("upstream connection reset while sending the reply"))
            else:
                w.set_exception(UpstreamUnreachable("upstream closed the connection before replying"))

    # httptools callbacks
    def on_header(self, name: bytes, value: bytes) -> None:
        n = name.lower()
        if n == b"content-length" or (n == b"transfer-encoding" and b"chunked" in value.lower()):
            self.framed = True

    def on_headers_complete(self) -> None:
        self.status = self.parser.get_status_code()
        self.headers_done = True

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        self.keep = self.parser.should_keep_alive()
        w = self.waiter
        if w is not None and not w.done():
            w.set_result((self.status, b"".join(self.body)))

    def _fail(self, exc: BaseException) -> None:
        w = self.waiter
        if w is not None and not w.done():
            w.set_exception(exc)

    def start(self, data: bytes, waiter=None) -> asyncio.Future:
        """Send one request; its (status, body) or exception goes to waiter (a Future, or a Sink)."""
        self.waiter = asyncio.get_running_loop().create_future() if waiter is None else waiter
        self.status, self.body, self.headers_done, self.framed, self.keep = 0, [], False, False, False
        # the parser of __init__ serves every reply: a connection is reused only after a complete reply
        # that keeps it alive, which leaves the parser at a message boundary
        self.transport.write(data)
        return self.waiter


class Sink:
    """A Future's set_result/set_exception/done for a callback: fn(sink, (status, body), None) or
    fn(sink, None, exception), called once, at once (no task wake-up); sink.arg is the caller's. fn must not
    raise."""

    __slots__ = ("fn", "arg", "_done")

    def __init__(self, fn, arg):
        self.fn, self.arg, self._done = fn, arg, False

    def done(self) -> bool:
        return self._done

    def set_result(self, result) -> None:
        self._done = True
        self.fn(self, result, None)

    def set_exception(self, exc: BaseException) -> None:
        self._done = True
        self.fn(self, None, exc)


def _expire(fut: asyncio.Future) -> None:
    if not fut.done():
        fut.set_exception(TimeoutError("no upstream reply within the read timeout"))


class RawPool:
    """Keep-alive connections to one upstream base URL (http or https)."""

    def __init__(self, base_url: str, *, connect_timeout: float, read_timeout: float, max_idle: int = 256,
                 idle_timeout: float = 4.0):
        """idle_timeout: a kept-alive connection idle longer than this is not reused. Servers close idle
        connections after their own timeout (uvicorn, under vLLM and many others: 5 s); reusing one just as the
        server closes it would fail that request, so the pool lets go first."""
        u = urlsplit(base_url)
        if u.scheme not in ("http", "https") or not u.hostname:
            raise ValueError(f"upstream URL must be http(s)://host[:port]/path: {base_url}")
        self.host, self.tls = u.hostname, u.scheme == "https"
        self.port = u.port or (443 if self.tls else 80)
        self.prefix = u.path.rstrip("/")
        default = (self.port == 443) if self.tls else (self.port == 80)
        host = f"[{self.host}]" if ":" in self.host else self.host
        self.host_header = host if default else f"{host}:{self.port}"
        self.connect_timeout, self.read_timeout, self.max_idle = connect_timeout, read_timeout, max_idle
        self.idle_timeout = idle_timeout
        self._idle: list[_Conn] = []
        self._heads: dict[tuple, bytes] = {}
        self._watched: dict = {}          # waiter -> deadline (loop time)
        self._sweeper: asyncio.TimerHandle | None = None
        self._period = min(1.0, max(0.005, read_timeout / 10))
        self._ssl = ssl.create_default_context() if self.tls else None

    async def _connect(self) -> _Conn:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self.connect_timeout):
                _t, conn = await loop.create_connection(_Conn, self.host, self.port, ssl=self._ssl,
                                                        server_hostname=self.host if self.tls else None)
        except TimeoutError:
            raise
        except OSError as e:
            raise UpstreamUnreachable(f"cannot connect to the upstream: {e}") from e
        return conn

    def build(self, method: str, path: str, body: bytes | None, headers: dict) -> bytes:
        """The request's bytes. The head up to content-length is the same for every call with the same
        method, path and headers: built once (a few per gateway) and kept."""
        key = (method, path, *headers.items())
        head = self._heads.get(key)
        if head is None:
            parts = [f"{method} {self.prefix}{path} HTTP/1.1\r\nhost: {self.host_header}\r\n"]
            for k, v in headers.items():
                if "\n" in v or "\r" in v or "\n" in k or "\r" in k:   # e.g. a key variable with a line break
                    raise ValueError(f"upstream header {k!r} contains a line break")
                parts.append(f"{k}: {v}\r\n")
            head = "".join(parts).encode("latin-1")
            if len(self._heads) >= 64:      # keys rotate (the key variable changed): start afresh
                self._heads.clear()
            self._heads[key] = head
        if body is None:
            return head + b"\r\n"
        return b"%scontent-length: %d\r\n\r\n%s" % (head, len(body), body)

    _build = build

    def take_idle(self) -> _Conn | None:
        """A kept-alive connection fit for reuse, or None."""
        if not self._idle:
            return None
        now = asyncio.get_running_loop().time()
        while self._idle:
            c = self._idle.pop()        # newest first; anything older than it is older still
            if self.reusable(c, now):
                return c
            c.transport.close()
        return None

    def reusable(self, c: _Conn, now: float) -> bool:
        return not c.closed and not c.transport.is_closing() and now - c.idle_since <= self.idle_timeout

    def put_idle(self, conn: _Conn) -> None:
        """A connection whose reply is complete: kept for reuse when the upstream keeps it alive."""
        conn.waiter = None
        if conn.keep and not conn.closed and len(self._idle) < self.max_idle:
            conn.idle_since = asyncio.get_running_loop().time()
            self._idle.append(conn)
        else:
            conn.transport.close()

    async def request(self, method: str, path: str, body: bytes | None, headers: dict) -> tuple[int, bytes]:
        """(status, body) of one request; see the module docstring for the exceptions."""
        conn = self.take_idle()
        if conn is None:
            conn = await self._connect()
        fut = conn.start(self.build(method, path, body, headers))
        self.watch(fut)
        try:
            status, raw = await fut
        except BaseException:
            conn.transport.abort()         # half-read reply or cancelled: the connection is not reusable
            raise
        finally:
            self.unwatch(fut)
        self.put_idle(conn)
        return status, raw

    # read timeouts: one sweep timer for all requests in flight rather than a timer per request (uvloop's
    # call_later + cancel cost ~3 µs of CPU per request). A waiter fails with TimeoutError between
    # read_timeout and read_timeout + a tenth of it (at most 1 s) after its request was sent.
    def watch(self, waiter) -> None:
        if not waiter.done():
            loop = asyncio.get_running_loop()
            self._watched[waiter] = loop.time() + self.read_timeout
            if self._sweeper is None:
                self._sweeper = loop.call_later(self._period, self._sweep)

    def unwatch(self, waiter) -> None:
        self._watched.pop(waiter, None)

    def _sweep(self) -> None:
        loop = asyncio.get_running_loop()
        now = loop.time()
        late = []
        for w, deadline in self._watched.items():    # insertion order = deadline order (one read_timeout)
            if deadline > now:
                break
            late.append(w)
        for w in late:
            del self._watched[w]
            _expire(w)
        self._sweeper = loop.call_later(self._period, self._sweep) if self._watched else None

    def close(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None
        for c in self._idle:
            c.transport.close()
        self._idle.clear()

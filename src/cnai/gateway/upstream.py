"""A lean keep-alive HTTP/1.1 client for the non-streamed upstream calls: asyncio.Protocol + httptools.

Profiled at 64 clients, aiohttp's request machinery (request/response objects, payload wrappers, header
multidicts, the connector) was about a third of the gateway's CPU per proxied request. A non-streamed proxy
call needs none of it: one pre-built request, one parsed reply kept whole. Streams stay on aiohttp (their
bytes are relayed as they come, where its reader earns its cost).

Faults map as before: a connect or reply timeout raises TimeoutError; a connection refused or reset before
the reply's headers raises UpstreamUnreachable, after them UpstreamReset (both OSError); a reply the parser
rejects raises UpstreamMalformed. An idle kept-alive connection that the upstream closed is noticed before it
is reused (never a resent request: a POST is only ever written once).

Connection limit: at most `max_conns` connections are open or being opened at once (idle, in use, or pinned to a
client connection by the lean server's fast path); a request that finds none free waits for one (up to the read
timeout, then TimeoutError). A pinned connection is the pool's still: pinned and idle ones together stay within
`max_idle` (as the idle ones alone did before pinning); when the pool is at its limit and has no idle connection,
the oldest idle pinned one is taken back; a connection finished while requests wait goes to them rather than
back to its client; one pinned but idle past `idle_timeout` is closed.
"""

from __future__ import annotations

import asyncio
import collections
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
                 "keep", "idle_since", "pool", "owner")

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
        self.pool: RawPool | None = None     # told when the connection closes (its slot is free again)
        self.owner = None        # the client connection this one is pinned to (idle), or None

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
        if self.pool is not None:
            self.pool._lost(self)
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
                 idle_timeout: float = 4.0, max_conns: int = 256):
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
        if max_conns < 1:
            raise ValueError(f"max_conns must be at least 1: {max_conns}")
        self.max_conns = max_conns
        self.open = 0                     # connections open or being opened (each holds one of max_conns)
        self._pinned: dict[_Conn, None] = {}      # idle connections pinned to a client connection, oldest first
        self._waiters: collections.deque[asyncio.Future] = collections.deque()   # requests waiting for a slot
        self.opened = 0                   # connections opened so far (tests, stats)
        self._heads: dict[tuple, bytes] = {}
        self._watched: dict = {}          # waiter -> deadline (loop time)
        self._sweeper: asyncio.TimerHandle | None = None
        self._period = min(1.0, max(0.005, read_timeout / 10))
        self._ssl = ssl.create_default_context() if self.tls else None

    async def _connect(self) -> _Conn:
        """A new connection in a slot already counted in self.open (given back if the connect fails)."""
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self.connect_timeout):
                _t, conn = await loop.create_connection(_Conn, self.host, self.port, ssl=self._ssl,
                                                        server_hostname=self.host if self.tls else None)
        except BaseException as e:
            self.open -= 1
            self._hand_slot()
            if isinstance(e, OSError) and not isinstance(e, TimeoutError):
                raise UpstreamUnreachable(f"cannot connect to the upstream: {e}") from e
            raise
        conn.pool = self
        self.opened += 1
        return conn

    async def _acquire(self) -> _Conn:
        """An idle connection, a new one if the limit allows, or the next one released."""
        while True:
            conn = self.take_idle()
            if conn is not None:
                return conn
            if self.open < self.max_conns:
                self.open += 1
                return await self._connect()
            w = asyncio.get_running_loop().create_future()
            self._waiters.append(w)
            try:
                async with asyncio.timeout(self.read_timeout):
                    conn = await w
            except BaseException as e:
                if w in self._waiters:      # timed out or cancelled while waiting
                    self._waiters.remove(w)
                elif w.done() and not w.cancelled():     # handed over just as the wait ended: pass it on
                    c = w.result()
                    if c is None:
                        self.open -= 1
                        self._hand_slot()
                    else:
                        self.put_idle(c)
                if isinstance(e, TimeoutError):
                    raise TimeoutError(f"no upstream connection free within {self.read_timeout} s "
                                       f"(limit {self.max_conns})") from None
                raise
            if conn is None:                # a slot came free: ours, already counted
                return await self._connect()
            if not conn.closed and not conn.transport.is_closing():
                return conn
            # handed over, then closed by the upstream before this task ran: try again

    def _hand_slot(self) -> None:
        """A slot came free (a connection closed or a connect failed): the oldest waiter opens a connection."""
        while self._waiters:
            w = self._waiters.popleft()
            if not w.done():
                self.open += 1
                w.set_result(None)
                return

    def _lost(self, conn: _Conn) -> None:
        self.open -= 1
        if conn.owner is not None:
            conn.owner = None
            self._pinned.pop(conn, None)
        if self._waiters:
            self._hand_slot()

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
        """A kept-alive connection fit for reuse, or None. At the limit with none idle, the oldest idle
        pinned connection is taken back from its client connection."""
        if not self._idle and (self.open < self.max_conns or not self._pinned):
            return None
        now = asyncio.get_running_loop().time()
        while self._idle:
            c = self._idle.pop()        # newest first; anything older than it is older still
            if self.reusable(c, now):
                return c
            c.transport.close()
        if self.open >= self.max_conns:
            while self._pinned:
                c = next(iter(self._pinned))
                del self._pinned[c]
                c.owner = None          # its client connection sees this and uses the pool next time
                if self.reusable(c, now):
                    return c
                c.transport.close()
        return None

    def pin(self, conn: _Conn, owner, now: float | None = None) -> bool:
        """Keep conn (its reply complete) idle for owner's next request, unless requests wait for a connection
        or max_idle connections are kept already (then the caller gives it to put_idle). now: the idle time
        starts (None: unchanged)."""
        if self._waiters or conn.closed or not conn.keep or len(self._pinned) + len(self._idle) >= self.max_idle:
            return False
        conn.waiter = None
        conn.owner = owner
        if now is not None:
            conn.idle_since = now
        self._pinned[conn] = None
        if self._sweeper is None:
            self._sweeper = asyncio.get_running_loop().call_later(self._period, self._sweep)
        return True

    def unpin(self, conn: _Conn, owner) -> bool:
        """Owner takes its pinned conn for a request: False when the pool took it back meanwhile."""
        if conn.owner is not owner:
            return False
        conn.owner = None
        del self._pinned[conn]
        return True

    def reusable(self, c: _Conn, now: float) -> bool:
        return not c.closed and not c.transport.is_closing() and now - c.idle_since <= self.idle_timeout

    def put_idle(self, conn: _Conn) -> None:
        """A connection whose reply is complete: kept for reuse when the upstream keeps it alive."""
        conn.waiter = None
        if conn.owner is not None:
            conn.owner = None
            del self._pinned[conn]
        if conn.keep and not conn.closed and not conn.transport.is_closing():
            while self._waiters:            # a request waits for a connection: this one
                w = self._waiters.popleft()
                if not w.done():
                    w.set_result(conn)
                    return
            if len(self._idle) + len(self._pinned) < self.max_idle:
                conn.idle_since = asyncio.get_running_loop().time()
                self._idle.append(conn)
                return
        conn.transport.close()              # its slot goes to a waiter when the close completes

    async def request(self, method: str, path: str, body: bytes | None, headers: dict) -> tuple[int, bytes]:
        """(status, body) of one request; see the module docstring for the exceptions."""
        conn = await self._acquire()
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
        # pinned connections idle past idle_timeout are let go (their client connections went quiet)
        old = now - self.idle_timeout
        while self._pinned:
            c = next(iter(self._pinned))     # oldest first: pinned in idle_since order
            if c.idle_since > old and not c.closed:
                break
            del self._pinned[c]
            c.owner = None
            c.transport.close()
        self._sweeper = loop.call_later(self._period, self._sweep) if self._watched or self._pinned else None

    def close(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None
        for c in self._idle:
            c.transport.close()
        self._idle.clear()
        for c in self._pinned:
            c.owner = None
            c.transport.close()
        self._pinned.clear()
        for w in self._waiters:
            if not w.done():
                w.set_exception(UpstreamUnreachable("the gateway is stopping"))
        self._waiters.clear()

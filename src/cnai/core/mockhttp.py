"""The one skeleton of cnai's small test HTTP/1.1 servers (mock model APIs for tests, demos and benchmarks).

Raw asyncio rather than a framework, so a subclass can inject real faults: resets, stalls, truncated bodies.
Loopback only. A subclass answers one request in ``handle`` and says whether the connection stays open.
"""

from __future__ import annotations

import asyncio
import contextlib


def free_port() -> int:
    """A loopback port nobody holds right now (for a test or benchmark server started next)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def parse_head(head: bytes) -> tuple[str, str, dict[str, str]]:
    """Request line and headers (names lower-cased) of one request head; a malformed line gives empty fields."""
    lines = head.decode("latin-1").split("\r\n")
    method, path, _ = (lines[0].split(" ") + ["", ""])[:3]
    headers = {}
    for ln in lines[1:]:
        if ":" in ln:
            k, v = ln.split(":", 1)
            headers[k.strip().lower()] = v.strip()
    return method, path, headers


class MockHTTPServer:
    """Keep-alive request loop on 127.0.0.1; bodies by Content-Length (what OpenAI clients send)."""

    server: asyncio.AbstractServer | None = None
    port: int = 0

    async def start(self, port: int = 0) -> int:
        self.server = await asyncio.start_server(self._conn, "127.0.0.1", port, backlog=1024)
        self.port = self.server.sockets[0].getsockname()[1]
        return self.port

    async def close(self) -> None:
        if self.server:
            self.server.close()

    async def handle(self, method: str, path: str, headers: dict[str, str], body: bytes,
                     writer: asyncio.StreamWriter) -> bool:
        """Answer one request; return False to close the connection."""
        raise NotImplementedError

    async def _conn(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
                    return
                method, path, headers = parse_head(head)
                body = await reader.readexactly(int(headers.get("content-length", "0") or 0))
                if not await self.handle(method, path, headers, body, writer):
                    return
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            return
        finally:
            with contextlib.suppress(Exception):  # closing a broken socket
                writer.close()

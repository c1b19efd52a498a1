"""The floor of any Python proxy on this box (issue #14 round 7, benchmark code only): a byte relay on uvloop
with no HTTP parsing, no policy and no log. Each client connection gets its own upstream connection (kept as
long as the client keeps its own), and bytes are passed on as they arrive. Whatever share of `direct` this
reaches at 64 clients bounds what any gateway written in Python on uvloop can reach here: every real gateway
does this work and more.

    python benchmarks/tcp_relay.py LISTEN_PORT UPSTREAM_PORT        (127.0.0.1 only)
"""

from __future__ import annotations

import asyncio
import sys


class _Up(asyncio.Protocol):
    def __init__(self, down: asyncio.Transport):
        self.down = down

    def data_received(self, data: bytes) -> None:
        self.down.write(data)

    def connection_lost(self, exc) -> None:
        self.down.close()


class _Down(asyncio.Protocol):
    def __init__(self, port: int):
        self.port = port
        self.up: asyncio.Transport | None = None
        self.queued: list[bytes] = []

    def connection_made(self, transport) -> None:
        self.transport = transport
        asyncio.get_running_loop().create_task(self._connect())

    async def _connect(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            self.up, _ = await loop.create_connection(lambda: _Up(self.transport), "127.0.0.1", self.port)
        except OSError:
            self.transport.close()
            return
        for data in self.queued:  # what arrived while the upstream connection was being opened
            self.up.write(data)
        self.queued = []

    def data_received(self, data: bytes) -> None:
        if self.up is None:
            self.queued.append(data)
        else:
            self.up.write(data)

    def connection_lost(self, exc) -> None:
        if self.up is not None:
            self.up.close()


async def main(listen: int, upstream: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: _Down(upstream), "127.0.0.1", listen)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    import uvloop

    uvloop.install()
    asyncio.run(main(int(sys.argv[1]), int(sys.argv[2])))

"""A small OpenAI-compatible HTTP/1.1 server on 127.0.0.1 for tests, demos and benchmarks.

Replies come from the deterministic ``mock:mixed`` target, so results do not depend on faults or timing.
Fault injection (fraction ``fault_rate`` of requests, seeded): 429 with Retry-After, 500, 503, a hang
past the client's timeout, a connection reset, a truncated body, a non-JSON body, JSON without
``choices``, and very slow (but valid) replies. GET /stats returns counters, including how many
successful replies were sent per prompt (to prove that resumed runs never re-ask completed items).

    with ServerThread(latency=0.0, fault_rate=0.2) as srv:
        srv.base_url  # "http://127.0.0.1:PORT/v1"
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import threading
import time
from collections import Counter

from cnai.core.mockhttp import MockHTTPServer

FAULTS = ("429", "500", "503", "hang", "reset", "truncated", "nonjson", "nochoices", "slow")
# Faults a run cannot recover from by retrying; only on request (faults=...), never in the default mix.
EXTRA_FAULTS = ("401", "null", "empty")


class MockServer(MockHTTPServer):
    def __init__(self, *, latency: float = 0.0, fault_rate: float = 0.0, seed: int = 0,
                 faults: tuple[str, ...] = FAULTS, hang_s: float = 30.0, slow_s: float = 1.0, mock: str = "mixed"):
        from .targets import MockTarget

        self.latency = latency
        self.fault_rate = fault_rate
        self.rng = random.Random(seed)
        self.faults = faults
        self.hang_s = hang_s
        self.slow_s = slow_s
        self.mock = MockTarget(mock)          # replies from the conversation; "gullible" for attack tests
        self.conversation_lengths: Counter = Counter()   # messages per request (multi-turn attacks)
        self.stats: Counter = Counter()
        self.ok_by_prompt: Counter = Counter()
        self.auth_seen: Counter = Counter()     # Authorization header values (tests check the key is sent)

    def _send(self, writer, status: int, body: bytes, ctype="application/json", extra: dict | None = None,
              length: int | None = None) -> None:
        reason = {200: "OK", 401: "Unauthorized", 404: "Not Found", 429: "Too Many Requests", 500: "Internal Server Error",
                  503: "Service Unavailable", 400: "Bad Request"}.get(status, "X")
        h = [f"HTTP/1.1 {status} {reason}", f"content-type: {ctype}",
             f"content-length: {len(body) if length is None else length}", "connection: keep-alive"]
        for k, v in (extra or {}).items():
            h.append(f"{k}: {v}")
        writer.write(("\r\n".join(h) + "\r\n\r\n").encode("latin-1") + body)

    async def handle(self, method: str, path: str, headers: dict, body: bytes, writer) -> bool:
        self.stats["requests"] += 1
        self.auth_seen[(headers or {}).get("authorization", "")] += 1
        if method == "GET" and path.endswith("/stats"):
            self._send(writer, 200, json.dumps({"stats": dict(self.stats),
                                                "ok_by_prompt": dict(self.ok_by_prompt)}).encode())
            await writer.drain()
            return True
        if method == "GET" and path.endswith("/models"):
            self._send(writer, 200, b'{"object":"list","data":[{"id":"mock","object":"model"}]}')
            await writer.drain()
            return True
        if method != "POST" or not path.endswith("/chat/completions"):
            self._send(writer, 404, b'{"error":"not found"}')
            await writer.drain()
            return True
        try:
            req = json.loads(body)
            messages = req["messages"]
        except (ValueError, KeyError):
            self._send(writer, 400, b'{"error":"bad request"}')
            await writer.drain()
            return True
        if self.latency:
            await asyncio.sleep(self.latency)
        fault = self.rng.choice(self.faults) if self.fault_rate and self.rng.random() < self.fault_rate else None
        if fault:
            self.stats[f"fault_{fault}"] += 1
        if fault == "401":
            self._send(writer, 401, b'{"error":{"message":"invalid api key","type":"invalid_request_error"}}')
            await writer.drain()
            return True
        if fault in ("null", "empty"):
            payload = json.dumps({"id": "x", "object": "chat.completion", "choices": [{"index": 0, "message": {
                "role": "assistant", "content": None if fault == "null" else "  "}, "finish_reason": "stop"}]})
            self._send(writer, 200, payload.encode())
            await writer.drain()
            return True
        if fault in ("429", "500", "503"):
            self._send(writer, int(fault), b'{"error":"injected"}', extra={"retry-after": "0"} if fault == "429" else None)
            await writer.drain()
            return True
        if fault == "hang":
            await asyncio.sleep(self.hang_s)
            return False
        if fault == "reset":
            writer.transport.abort()
            return False
        if fault == "nonjson":
            self._send(writer, 200, b"<html>upstream error</html>", ctype="text/html")
            await writer.drain()
            return True
        if fault == "nochoices":
            self._send(writer, 200, b'{"id":"x","object":"chat.completion"}')
            await writer.drain()
            return True
        if fault == "slow":
            await asyncio.sleep(self.slow_s)
        self.conversation_lengths[len(messages)] += 1
        content = self.mock.reply(messages)
        payload = json.dumps({
            "id": "chatcmpl-mock", "object": "chat.completion", "created": int(time.time()),
            "model": req.get("model", "mock"),
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}}, ensure_ascii=False).encode()
        if fault == "truncated":
            self._send(writer, 200, payload[: len(payload) // 2], length=len(payload))
            await writer.drain()
            writer.transport.abort()
            return False
        key = hashlib.sha256(json.dumps(messages, ensure_ascii=False, sort_keys=True).encode()).hexdigest()[:16]
        self.ok_by_prompt[key] += 1
        self.stats["ok"] += 1
        self._send(writer, 200, payload)
        await writer.drain()
        return True


class ServerThread:
    """Run a MockServer in a background thread (its own event loop)."""

    def __init__(self, **kw):
        self.kw = kw
        self.srv: MockServer | None = None
        self.loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        asyncio.set_event_loop(self.loop)
        self.srv = MockServer(**self.kw)
        self.loop.run_until_complete(self.srv.start(0))
        self._ready.set()
        self.loop.run_forever()

    def __enter__(self) -> ServerThread:
        self.thread.start()
        self._ready.wait(10)
        return self

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.srv.port}/v1"

    def stats(self) -> dict:
        return {"stats": dict(self.srv.stats), "ok_by_prompt": dict(self.srv.ok_by_prompt),
                "conversation_lengths": dict(self.srv.conversation_lengths)}

    def __exit__(self, *exc):
        async def shutdown():
            await self.srv.close()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self.loop.stop()

        asyncio.run_coroutine_threadsafe(shutdown(), self.loop)
        self.thread.join(5)


async def serve_forever(*, port: int, latency: float = 0.0, fault_rate: float = 0.0, seed: int = 0,
                        faults: tuple[str, ...] | None = None, mock: str = "mixed") -> None:
    if faults:
        unknown = [f for f in faults if f not in FAULTS + EXTRA_FAULTS]
        if unknown:
            from cnai.errors import InputError

            raise InputError(f"unknown fault {unknown[0]!r}; known: {', '.join(FAULTS + EXTRA_FAULTS)}",
                             field="--fault")
    srv = MockServer(latency=latency, fault_rate=fault_rate, seed=seed, faults=faults or FAULTS, mock=mock)
    await srv.start(port)
    await asyncio.Event().wait()

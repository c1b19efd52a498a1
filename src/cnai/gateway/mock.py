"""A fault-injecting OpenAI-compatible mock upstream (raw asyncio HTTP/1.1, so faults are real: resets,
stalls, truncated streams). Used by the tests and the benchmark; 127.0.0.1 only.

The request's "model" picks the behaviour: "echo" (default) replies with the last user text; "say:TEXT" replies
TEXT; "fault:timeout|reset|500|badjson|badsse|truncate|reset-mid|slow|close" ("close": a normal reply, then the
connection closed without a `connection: close` header, as a server whose idle timeout fires). For streams,
"mock_chunk": N splits the reply into N-character SSE chunks. Every parsed request body is kept in `received`;
`connections` counts the connections accepted, `open_now` / `open_max` the ones open.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time

from cnai.core.mockhttp import MockHTTPServer


def _reply_text(body: dict) -> str:
    model = str(body.get("model") or "echo")
    if model.startswith("say:"):
        return model[4:]
    msgs = body.get("messages")
    if isinstance(msgs, list) and msgs:
        c = msgs[-1].get("content") if isinstance(msgs[-1], dict) else ""
        return c if isinstance(c, str) else json.dumps(c, ensure_ascii=False)
    return str(body.get("prompt") or "")


_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")


class MockUpstream(MockHTTPServer):
    def __init__(self):
        self.received: list[dict] = []
        self.headers: list[dict] = []
        self.connections = self.open_now = self.open_max = 0

    async def _conn(self, reader, writer) -> None:
        self.connections += 1
        self.open_now += 1
        self.open_max = max(self.open_max, self.open_now)
        try:
            await super()._conn(reader, writer)
        finally:
            self.open_now -= 1

    async def _send(self, writer, status: int, obj, keep: bool = True) -> bool:
        data = obj if isinstance(obj, bytes) else json.dumps(obj, ensure_ascii=False).encode()
        writer.write(f"HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {len(data)}\r\n"
                     f"{'' if keep else 'connection: close' + chr(13) + chr(10)}\r\n".encode() + data)
        await writer.drain()
        return keep

    async def handle(self, method, path, hdrs, raw, writer) -> bool:
        if method == "GET" and path.endswith("/models"):
            return await self._send(writer, 200, {"object": "list", "data": [{"id": "echo", "object": "model"}]})
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            return await self._send(writer, 400, {"error": {"message": "bad json"}})
        self.received.append(body)
        self.headers.append({k: v for k, v in hdrs.items() if k == "authorization"})
        model = str(body.get("model") or "echo")
        fault = model[6:] if model.startswith("fault:") else ""
        if fault == "timeout":
            await asyncio.sleep(3600)
        if fault == "reset":
            writer.transport.abort()
            return False
        if fault == "500":
            return await self._send(writer, 500, {"error": {"message": "model crashed", "type": "server_error"}})
        if fault == "badjson":
            return await self._send(writer, 200, b'{"choices": [')
        if fault == "slow":
            await asyncio.sleep(0.3)
        if fault == "close":
            await self._send(writer, 200, {"id": "cmpl-1", "object": "chat.completion", "created": 0, "model": model,
                                           "choices": [{"index": 0, "finish_reason": "stop", "message": {
                                               "role": "assistant", "content": _reply_text(body)}}]})
            await asyncio.sleep(0.05)
            return False
        if path.endswith("/images/generations"):
            return await self._send(writer, 200, {"created": int(time.time()),
                                                  "data": [{"b64_json": base64.b64encode(_PNG).decode()}]})
        chat = path.endswith("/chat/completions")
        text = _reply_text(body)
        if not body.get("stream"):
            choice = ({"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"} if chat
                      else {"index": 0, "text": text, "finish_reason": "stop"})
            return await self._send(writer, 200, {"id": "cmpl-1", "object": "chat.completion" if chat else "text_completion",
                                                  "created": 0, "model": model, "choices": [choice]})
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n")

        def put(data: bytes) -> None:  # one HTTP/1.1 chunk, so a reset is a protocol error, not an EOF
            writer.write(b"%x\r\n%s\r\n" % (len(data), data))

        size = int(body.get("mock_chunk") or 4)
        pieces = [text[i:i + size] for i in range(0, len(text), size)] or [""]
        for i, p in enumerate(pieces):
            if fault == "reset-mid" and i == 1:
                writer.transport.abort()
                return False
            if fault == "badsse" and i == 1:
                put(b"data: {not json\n\n")
                await writer.drain()
                continue
            ch = {"index": 0, "delta": {"content": p}, "finish_reason": None} if chat else \
                {"index": 0, "text": p, "finish_reason": None}
            ev = {"id": "cmpl-1", "object": "chat.completion.chunk" if chat else "text_completion", "created": 0,
                  "model": model, "choices": [ch]}
            put(b"data: " + json.dumps(ev, ensure_ascii=False).encode() + b"\n\n")
            await writer.drain()
            if body.get("mock_delay"):
                await asyncio.sleep(float(body["mock_delay"]))
        if fault == "truncate":           # a clean end of the HTTP body, but no [DONE]
            put(b"")
            await writer.drain()
            return True
        end = {"index": 0, "delta": {}, "finish_reason": "stop"} if chat else {"index": 0, "text": "", "finish_reason": "stop"}
        put(b"data: " + json.dumps({"id": "cmpl-1", "object": "chat.completion.chunk", "created": 0,
                                    "model": model, "choices": [end]}).encode() + b"\n\ndata: [DONE]\n\n")
        put(b"")
        await writer.drain()
        return True


def main() -> None:  # python -m cnai.gateway.mock PORT  (benchmarks, manual tests)
    import sys

    async def run():
        m = MockUpstream()
        port = await m.start(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
        print(port, flush=True)
        await asyncio.Event().wait()
    asyncio.run(run())


if __name__ == "__main__":
    main()

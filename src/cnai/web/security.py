"""Request guards as one pure ASGI middleware: host check, token, origin check, body limit, headers.

- Without a token the server only answers requests whose Host is a loopback name (stops DNS rebinding).
- With a token every request needs it (Authorization: Bearer, or the HttpOnly cookie set by /login),
  except /login itself and the static files.
- Unsafe methods from a browser must come from our own origin; forms also carry a CSRF token (app.py).
- Bodies over the limit get 413 before they are read into memory.
- Every response gets a strict Content-Security-Policy (no inline script, no third-party anything).
"""

from __future__ import annotations

import hmac
import json
from urllib.parse import urlsplit

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
       "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),  # no-referrer would make Chromium send "Origin: null" on our own forms
    (b"cross-origin-opener-policy", b"same-origin"),
]
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]", "testserver"}
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


class TooLarge(Exception):
    pass


def _error(status: int, code: str, message: str) -> tuple[int, bytes]:
    return status, json.dumps({"error": {"code": code, "message": message, "status": status}}).encode()


class Guard:
    def __init__(self, app, *, token: str | None, max_body: int, max_upload: int,
                 upload_paths: tuple[str, ...]):
        self.app = app
        self.token = token
        self.max_body = max_body
        self.max_upload = max_upload
        self.upload_paths = upload_paths

    async def _reply(self, send, status: int, body: bytes) -> None:
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"), *HEADERS]})
        await send({"type": "http.response.body", "body": body})

    def _authorised(self, headers: dict[bytes, bytes]) -> bool:
        tok = self.token.encode()
        auth = headers.get(b"authorization", b"")
        if auth.startswith(b"Bearer ") and hmac.compare_digest(auth[7:].strip(), tok):
            return True
        for part in headers.get(b"cookie", b"").split(b";"):
            k, _, v = part.strip().partition(b"=")
            if k == b"cnai_token" and hmac.compare_digest(v, tok):
                return True
        return False

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope["headers"])
        path = scope["path"]
        method = scope["method"]
        host = headers.get(b"host", b"").decode("latin-1")
        hostname = urlsplit("//" + host).hostname or ""
        if self.token is None and hostname not in LOOPBACK:
            return await self._reply(send, *_error(421, "bad_host", f"host {host!r} not served; this workspace "
                                                   "answers only on 127.0.0.1/localhost without a token"))
        public = path in ("/login", "/favicon.ico") or path.startswith("/static/")
        if self.token is not None and not public and not self._authorised(headers):
            if method == "GET" and not path.startswith("/api/"):
                await send({"type": "http.response.start", "status": 303,
                            "headers": [(b"location", b"/login"), *HEADERS]})
                return await send({"type": "http.response.body", "body": b""})
            return await self._reply(send, *_error(401, "unauthorized", "a token is required: send "
                                                   "'Authorization: Bearer TOKEN' (see cnai serve --token)"))
        if method in UNSAFE:
            origin = headers.get(b"origin")
            if origin is not None and origin != b"null":
                o = urlsplit(origin.decode("latin-1"))
                if o.netloc != host:
                    return await self._reply(send, *_error(403, "cross_origin", "request from another origin refused"))
            elif origin == b"null":
                return await self._reply(send, *_error(403, "cross_origin", "request from an opaque origin refused"))
        limit = self.max_upload if any(path.startswith(p) for p in self.upload_paths) else self.max_body
        try:
            declared = int(headers.get(b"content-length", b"0") or 0)
        except ValueError:
            return await self._reply(send, *_error(400, "bad_request", "Content-Length is not a number"))
        if declared > limit:
            return await self._reply(send, *_error(413, "too_large", f"request body of {declared} bytes is over "
                                                   f"the limit of {limit} bytes"))
        seen = 0
        started = False

        async def limited_receive():
            nonlocal seen
            msg = await receive()
            if msg["type"] == "http.request":
                seen += len(msg.get("body", b""))
                if seen > limit:
                    raise TooLarge(limit)
            return msg

        async def send_with_headers(msg):
            nonlocal started
            if msg["type"] == "http.response.start":
                started = True
                msg = dict(msg)
                msg["headers"] = [*msg.get("headers", []), *HEADERS]
            await send(msg)

        try:
            await self.app(scope, limited_receive, send_with_headers)
        except TooLarge:
            if not started:
                await self._reply(send, *_error(413, "too_large", f"request body is over the limit of {limit} bytes"))

"""CORS for /v1/: off until the operator (``CORS_ALLOWED_ORIGINS``) or an organisation lists an origin.

A preflight carries no key, so it is answered for every origin that the operator or *some*
organisation allows: the union, which the key cache keeps in memory with each key's own
organisation's list. The actual request is then judged by its key's organisation: an origin that
organisation does not list gets no CORS headers, so the browser withholds the answer. A request
whose key is unknown (its 401) is judged like a preflight, so that the page can read the error.
No wildcard, ever; no database query: both lists are in memory. See docs/cors.md.
"""

from __future__ import annotations

import re
from typing import Any

from gateway.keys import KeyCache, KeyInfo

Headers = list[tuple[bytes, bytes]]
# Where GatewayApp leaves the request's CorsSend for the pipeline, which tells it the key.
SCOPE_KEY = "gateway.cors"
ALLOW_METHODS = b"GET, POST, OPTIONS"
# What the OpenAI and Anthropic SDKs send from a browser; their x-stainless-* headers are echoed.
ALLOW_HEADERS = (
    "authorization, x-api-key, content-type, anthropic-version, anthropic-beta, "
    "anthropic-dangerous-direct-browser-access, openai-beta, openai-organization, openai-project, x-request-id"
)
EXPOSE_HEADERS = (
    b"x-request-id, request-id, x-gateway-provider, x-gateway-attempts, retry-after, "
    b"x-ratelimit-limit-requests, x-ratelimit-remaining-requests, x-ratelimit-reset-requests, "
    b"x-ratelimit-limit-tokens, x-ratelimit-remaining-tokens, x-ratelimit-reset-tokens"
)
MAX_AGE = b"600"
_STAINLESS = re.compile(r"x-stainless-[a-z0-9-]{1,40}")
_MAX_REQUESTED_HEADERS = 40
_VARY = (b"vary", b"Origin")


class Cors:
    __slots__ = ("keys", "static")

    def __init__(self, static: frozenset[str], keys: KeyCache) -> None:
        self.static = static
        self.keys = keys

    def active(self) -> bool:
        return bool(self.static or self.keys.cors_origins)

    def allows(self, origin: str, key: KeyInfo | None) -> bool:
        if origin in self.static:
            return True
        return origin in (key.cors_origins if key is not None else self.keys.cors_origins)

    def response_headers(self, origin: str, key: KeyInfo | None) -> Headers:
        if not self.allows(origin, key):
            return [_VARY]
        return [(b"access-control-allow-origin", origin.encode()), (b"access-control-expose-headers", EXPOSE_HEADERS),
                _VARY]  # fmt: skip

    def preflight_headers(self, origin: str, requested: bytes) -> Headers:
        vary = (b"vary", b"Origin, Access-Control-Request-Method, Access-Control-Request-Headers")
        if not self.allows(origin, None):
            return [vary]
        return [
            (b"access-control-allow-origin", origin.encode()),
            (b"access-control-allow-methods", ALLOW_METHODS),
            (b"access-control-allow-headers", allow_headers(requested).encode()),
            (b"access-control-max-age", MAX_AGE),
            vary,
        ]


def allow_headers(requested: bytes) -> str:
    """The fixed list, plus the x-stainless-* headers the browser asks for (no wildcard there either)."""
    names = requested.decode("latin-1").lower().split(",", _MAX_REQUESTED_HEADERS)[:_MAX_REQUESTED_HEADERS]
    extra = [name for name in (n.strip() for n in names) if _STAINLESS.fullmatch(name)]
    return ", ".join([ALLOW_HEADERS, *extra])


class CorsSend:
    """The ASGI ``send`` of a request from a browser: adds the CORS headers its origin and key earn."""

    __slots__ = ("cors", "key", "origin", "send")

    def __init__(self, cors: Cors, origin: str, send: Any) -> None:
        self.cors = cors
        self.origin = origin
        self.send = send
        self.key: KeyInfo | None = None  # set by the pipeline once the key is known

    async def __call__(self, message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            headers = [*message.get("headers", ()), *self.cors.response_headers(self.origin, self.key)]
            message = {**message, "headers": headers}
        await self.send(message)


async def serve(cors: Cors, scope: dict[str, Any], send: Any) -> Any:
    """The ``send`` to use for this request, or None when this was a preflight, now answered."""
    origin = method = requested = b""
    for name, value in scope["headers"]:
        if name == b"origin":
            origin = value
        elif name == b"access-control-request-method":
            method = value
        elif name == b"access-control-request-headers":
            requested = value
    if not origin:
        return send
    text = origin.decode("latin-1")
    if scope["method"] == "OPTIONS" and method:
        headers = cors.preflight_headers(text, requested)
        await send({"type": "http.response.start", "status": 204, "headers": headers})
        await send({"type": "http.response.body", "body": b""})
        return None
    wrapped = CorsSend(cors, text, send)
    scope[SCOPE_KEY] = wrapped
    return wrapped

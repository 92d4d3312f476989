"""The floor for the gateway: a bare ASGI relay on the same stack (granian + aiohttp + orjson).

It reads the body, parses it, relays it to one upstream URL and streams the answer back, with no
auth, routing, limits, records or failover. Run by ``run_proxy --targets bare-relay``; the upstream
comes from ``BARE_RELAY_UPSTREAM``.
"""

from __future__ import annotations

import os
from typing import Any

import aiohttp
import orjson

UPSTREAM = os.environ.get("BARE_RELAY_UPSTREAM", "")
_state: dict[str, aiohttp.ClientSession] = {}


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    parts = []
    while True:
        message = await receive()
        parts.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    body = orjson.loads(b"".join(parts))
    session = _state["session"]
    async with session.post(UPSTREAM, data=orjson.dumps(body), headers={"content-type": "application/json"}) as answer:
        headers = [(b"content-type", answer.headers.get("content-type", "application/json").encode())]
        await send({"type": "http.response.start", "status": answer.status, "headers": headers})
        async for piece in answer.content.iter_any():
            await send({"type": "http.response.body", "body": piece, "more_body": True})
    await send({"type": "http.response.body", "body": b"", "more_body": False})


async def _lifespan(receive: Any, send: Any) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            _state["session"] = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await _state["session"].close()
            await send({"type": "lifespan.shutdown.complete"})
            return

"""The proxy's own ASGI app: routing for /v1/, and the worker's start-up and shutdown."""

from __future__ import annotations

import gc
import logging
from typing import Any

from gateway.inbound import anthropic_messages, openai_chat, openai_completions, openai_embeddings
from gateway.conf.domain import ConfigFileError
from gateway.errors import GatewayError
from gateway.runtime import Runtime, build_runtime

log = logging.getLogger(__name__)

_ROUTES = {
    ("POST", "/v1/chat/completions"): openai_chat.chat_completions,
    ("GET", "/v1/models"): openai_chat.list_models,
    ("POST", "/v1/messages"): anthropic_messages.messages,
    ("POST", "/v1/messages/count_tokens"): anthropic_messages.count_tokens,
    ("POST", "/v1/embeddings"): openai_embeddings.embeddings,
    ("POST", "/v1/completions"): openai_completions.completions,
}
_PATHS = {path for _, path in _ROUTES}


class GatewayApp:
    def __init__(self, runtime: Runtime | None = None) -> None:
        self.runtime = runtime

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await self.lifespan(scope, receive, send)
            return
        path = scope["path"].rstrip("/") or "/"
        handler = _ROUTES.get((scope["method"], path))
        if handler is None:
            await _send_error(send, _route_error(scope["method"], path), "")
            return
        if self.runtime is None:
            error = GatewayError(
                503, "The gateway is starting or has no provider configuration.", type="server_error", code="not_ready"
            )
            await _send_error(send, error, "")
            return
        await handler(self.runtime, scope, receive, send)

    async def lifespan(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.startup()
                except ConfigFileError as exc:
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def startup(self) -> None:
        if self.runtime is None:
            self.runtime = build_runtime()
        await self.runtime.start()
        # Everything loaded so far lives for the whole process: keep the cyclic collector from
        # re-scanning it (Django and the libraries are ~10^5 objects), which cuts tail latency.
        gc.collect()
        gc.freeze()

    async def shutdown(self) -> None:
        if self.runtime is not None:
            await self.runtime.stop()


def _route_error(method: str, path: str) -> GatewayError:
    if path in _PATHS:
        return GatewayError(405, f"Method {method} is not allowed on {path}.", code="method_not_allowed")
    return GatewayError(404, f"Unknown endpoint {method} {path}.", code="unknown_url")


async def _send_error(send: Any, error: GatewayError, request_id: str) -> None:
    headers = [(b"content-type", b"application/json"), *error.headers]
    await send({"type": "http.response.start", "status": error.status, "headers": headers})
    await send({"type": "http.response.body", "body": error.body()})

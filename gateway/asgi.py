"""The proxy's own ASGI app: routing for /v1/, and the worker's start-up and shutdown."""

from __future__ import annotations

import gc
import logging
from typing import Any

from gateway import cors
from gateway.inbound import (
    anthropic_messages,
    model_list,
    openai_chat,
    openai_completions,
    openai_embeddings,
    openai_responses,
)
from gateway.conf.domain import ConfigFileError
from gateway.errors import GatewayError
from gateway.runtime import Runtime, build_runtime

log = logging.getLogger(__name__)

_ROUTES = {
    ("POST", "/v1/chat/completions"): openai_chat.chat_completions,
    ("GET", "/v1/models"): model_list.list_models,
    ("POST", "/v1/messages"): anthropic_messages.messages,
    ("POST", "/v1/messages/count_tokens"): anthropic_messages.count_tokens,
    ("POST", "/v1/responses"): openai_responses.responses,
    ("POST", "/v1/embeddings"): openai_embeddings.embeddings,
    ("POST", "/v1/completions"): openai_completions.completions,
}
# Paths that end in an id which may itself hold "/" or ":" (model ids like "anthropic/claude-x").
_PREFIX_ROUTES = {
    ("GET", model_list.PREFIX): model_list.retrieve_model,
    ("GET", openai_responses.PREFIX): openai_responses.stored_response,
    ("DELETE", openai_responses.PREFIX): openai_responses.stored_response,
}


class GatewayApp:
    def __init__(self, runtime: Runtime | None = None) -> None:
        self.runtime = runtime

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await self.lifespan(scope, receive, send)
            return
        runtime = self.runtime
        if runtime is None:
            error = GatewayError(
                503, "The gateway is starting or has no provider configuration.", type="server_error", code="not_ready"
            )
            await _send_error(send, error)
            return
        if runtime.cors.active():
            send = await cors.serve(runtime.cors, scope, send)
            if send is None:
                return
        path = scope["path"].rstrip("/") or "/"
        handler = _ROUTES.get((scope["method"], path)) or _prefix_route(scope["method"], path) or _route_error
        await handler(runtime, scope, receive, send)

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


def _prefix_route(method: str, path: str) -> Any:
    for (route_method, prefix), handler in _PREFIX_ROUTES.items():
        if route_method == method and path.startswith(prefix) and len(path) > len(prefix):
            return handler
    return None


def _allowed_methods(path: str) -> list[str]:
    exact = [method for method, route in _ROUTES if route == path]
    prefixed = [method for method, prefix in _PREFIX_ROUTES if path.startswith(prefix) and len(path) > len(prefix)]
    return sorted({*exact, *prefixed})


async def _route_error(runtime: Runtime, scope: dict[str, Any], receive: Any, send: Any) -> None:
    """No route: a 401 for a bad key first (as clients expect), then the 404 or 405, in the caller's shape."""
    exchange, key = await model_list.authenticated(runtime, scope, receive, send)
    if key is None:
        return
    method, path = scope["method"], scope["path"].rstrip("/") or "/"
    allowed = _allowed_methods(path)
    if allowed:
        allow = (b"allow", ", ".join(allowed).encode())
        error = GatewayError(405, f"Method {method} is not allowed on {path}.", code="method_not_allowed",
                             headers=(allow,))  # fmt: skip
    else:
        error = GatewayError(404, f"Unknown endpoint {method} {path[:200]}.", code="unknown_url")
    await exchange.send_error(error)


async def _send_error(send: Any, error: GatewayError) -> None:
    headers = [(b"content-type", b"application/json"), *error.headers]
    await send({"type": "http.response.start", "status": error.status, "headers": headers})
    await send({"type": "http.response.body", "body": error.body()})

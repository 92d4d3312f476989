"""``GET /v1/models`` and ``GET /v1/models/{id}``, in the caller's API: OpenAI's or Anthropic's.

A key sees the models its ``allowed_models`` allow (all when empty); any other id is a 404, as for
a model that does not exist. Anthropic's SDKs send ``x-api-key`` and ``anthropic-version``: they
get Anthropic's model objects, its paged list envelope and its error shape; everyone else OpenAI's.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

import orjson

from gateway.conf.domain import Model
from gateway.errors import GatewayError
from gateway.inbound.anthropic_messages import MESSAGES
from gateway.inbound.openai_chat import CODEC
from gateway.keys import KeyInfo
from gateway.pipeline import JSON, Codec, Exchange, RequestHeaders, Scope, authenticate
from gateway.runtime import Runtime

PREFIX = "/v1/models/"
# Anthropic: "May be set to an epoch value if the release date is unknown" (the config has none).
EPOCH = "1970-01-01T00:00:00Z"
DEFAULT_LIMIT, MAX_LIMIT = 20, 1000


def codec_for(scope: Scope) -> Codec:
    """The API the caller speaks, for requests whose path does not say (model lists, unknown routes)."""
    for name, _ in scope["headers"]:
        if name == b"x-api-key" or name == b"anthropic-version":
            return MESSAGES
    return CODEC


async def authenticated(runtime: Runtime, scope: Scope, receive: Any, send: Any) -> tuple[Exchange, KeyInfo | None]:
    """The caller's exchange, and its key: None once the 401 has been sent."""
    exchange = Exchange(runtime, codec_for(scope), RequestHeaders(scope), receive, send)
    try:
        return exchange, await authenticate(runtime, exchange.codec, exchange.request)
    except GatewayError as error:
        await exchange.send_error(error)
        return exchange, None


async def list_models(runtime: Runtime, scope: Scope, receive: Any, send: Any) -> None:
    exchange, key = await authenticated(runtime, scope, receive, send)
    if key is None:
        return
    visible = [model for model in runtime.config.models.values() if _visible(key, model)]
    try:
        body = _anthropic_page(visible, scope) if exchange.codec is MESSAGES else _openai_list(visible)
    except GatewayError as error:
        await exchange.send_error(error)
        return
    await send_json(exchange, body)


async def retrieve_model(runtime: Runtime, scope: Scope, receive: Any, send: Any) -> None:
    exchange, key = await authenticated(runtime, scope, receive, send)
    if key is None:
        return
    name = scope["path"][len(PREFIX) :]
    model = runtime.config.models.get(name)
    if model is None or not _visible(key, model):
        message = f"The model '{name[:200]}' does not exist or you do not have access to it."
        await exchange.send_error(GatewayError(404, message, param="model", code="model_not_found"))
        return
    entry = anthropic_model(model) if exchange.codec is MESSAGES else openai_model(model)
    await send_json(exchange, orjson.dumps(entry))


def _visible(key: KeyInfo, model: Model) -> bool:
    return not key.allowed_models or model.name in key.allowed_models


def openai_model(model: Model) -> dict[str, Any]:
    entry: dict[str, Any] = {"id": model.name, "object": "model", "created": 0, "owned_by": "gateway"}
    if model.context_window:
        entry["context_window"] = model.context_window
    if model.max_output:
        entry["max_output_tokens"] = model.max_output
    # USD per million tokens, per provider serving the model (docs/providers.md).
    pricing = [{"provider": d.provider.name, **d.price.as_json()} for d in model.deployments if d.price]
    if pricing:
        entry["pricing"] = pricing
    return entry


def anthropic_model(model: Model) -> dict[str, Any]:
    return {"type": "model", "id": model.name, "display_name": model.name, "created_at": EPOCH}


def _openai_list(models: list[Model]) -> bytes:
    return orjson.dumps({"object": "list", "data": [openai_model(model) for model in models]})


def _anthropic_page(models: list[Model], scope: Scope) -> bytes:
    """Anthropic's cursor paging: ``limit`` models after ``after_id``, or before ``before_id``."""
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"), max_num_fields=20)
    limit = _limit(query.get("limit", [str(DEFAULT_LIMIT)])[-1])
    after, before = query.get("after_id", [""])[-1], query.get("before_id", [""])[-1]
    if after and before:
        raise GatewayError(400, "after_id and before_id: give one of them, not both.")
    names = [model.name for model in models]
    if before:
        end = _cursor(names, before, "before_id")
        start = max(0, end - limit)
        page, has_more = models[start:end], start > 0
    else:
        start = _cursor(names, after, "after_id") + 1 if after else 0
        page, has_more = models[start : start + limit], start + limit < len(models)
    data = [anthropic_model(model) for model in page]
    first, last = (data[0]["id"], data[-1]["id"]) if data else (None, None)
    return orjson.dumps({"data": data, "has_more": has_more, "first_id": first, "last_id": last})


def _limit(text: str) -> int:
    if text.isascii() and text.isdigit() and len(text) <= 4 and 1 <= int(text) <= MAX_LIMIT:
        return int(text)
    raise GatewayError(400, f"limit: Input should be an integer from 1 to {MAX_LIMIT}.", param="limit")


def _cursor(names: list[str], cursor: str, param: str) -> int:
    try:
        return names.index(cursor)
    except ValueError:
        raise GatewayError(400, f"{param}: no model with this id is listed for this key.", param=param) from None


async def send_json(exchange: Exchange, body: bytes) -> None:
    headers = [(b"content-type", JSON), *exchange.codec.headers(exchange.request.request_id)]
    await exchange.send({"type": "http.response.start", "status": 200, "headers": headers})
    await exchange.send({"type": "http.response.body", "body": body})

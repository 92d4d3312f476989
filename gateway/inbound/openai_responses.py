"""OpenAI's Responses API (``POST /v1/responses``) in front of the same failover as chat completions.

The request becomes an OpenAI chat request (gateway/inbound/responses_request.py), so every
deployment of the model can serve it whatever its wire format, and the chat answer goes back
as a ``response`` object or as Responses SSE events (gateway/inbound/responses_output.py).
Auth, errors and headers are those of the chat endpoint: the same clients and SDKs call both.

Responses are stored (gateway/inbound/responses_store.py) unless the request says ``store:
false``: the store is read before translation (``previous_response_id``, ``item_reference``)
and written before the answer's last bytes go out, so a client's next turn can follow at once.
``GET`` and ``DELETE /v1/responses/{id}`` and ``GET /v1/responses/{id}/input_items`` read it.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import parse_qs

import orjson

from gateway.errors import GatewayError
from gateway.ids import random_hex
from gateway.inbound.model_list import authenticated, send_json
from gateway.inbound.openai_chat import OpenAIChat
from gateway.inbound.responses_output import Envelope, ResponseEvents, to_response
from gateway.inbound.responses_request import DEFAULTS, MAX_ITEMS, invalid, to_chat
from gateway.inbound.responses_store import MAX_ID_LENGTH, ResponsesStore
from gateway.keys import KeyInfo
from gateway.pipeline import Scope, handle, stream_interrupted
from gateway.routing.failover import Job
from gateway.runtime import Runtime
from gateway.upstream.adapters.base import Chunk
from gateway.upstream.attempt import OpenAttempt, StreamBroken
from gateway.upstream.chunks import StreamState
from gateway.usage import estimated_usage


class OpenAIResponses(OpenAIChat):
    """One per request: the response object echoes that request's parameters."""

    inbound = "openai.responses"
    stateful = True

    def __init__(self, store: ResponsesStore) -> None:
        self.envelope = Envelope(DEFAULTS, int(time.time()))
        self.store = store
        self.org_id = 0
        self.input_items: list[dict[str, Any]] = []  # what a stored response keeps as its input

    async def restore(self, key: KeyInfo, body: dict[str, Any]) -> dict[str, Any]:
        """The body with its ``item_reference`` items and ``previous_response_id`` resolved, same org only."""
        self.org_id = key.org_id
        store = body.get("store")
        if store is not None and not isinstance(store, bool):
            raise invalid("Invalid type for 'store': expected a boolean.", "store", "invalid_type")
        self.envelope.store = store is not False
        items = body.get("input")
        if isinstance(items, str):
            items = [{"type": "message", "role": "user", "content": [{"type": "input_text", "text": items}]}]
        if not isinstance(items, list) or len(items) > MAX_ITEMS:
            return body  # to_chat says what is wrong with it
        items = await self._resolve(items)
        previous = body.pop("previous_response_id", None)
        if previous is not None:
            items = [*await self._previous(_stored_id(previous, "previous_response_id")), *items]
            self.envelope.previous_response_id = previous
        body["input"] = items
        if self.envelope.store:
            self.input_items = [_with_id(item) for item in items]
        return body

    async def _resolve(self, items: list[Any]) -> list[Any]:
        refs = {
            index: _stored_id(item.get("id"), f"input[{index}].id")
            for index, item in enumerate(items)
            if isinstance(item, dict) and item.get("type") == "item_reference"
        }
        if not refs:
            return items
        found = await self.store.items(self.org_id, list(refs.values()))
        resolved = list(items)
        for index, item_id in refs.items():
            if item_id not in found:
                raise GatewayError(
                    400, f"Item with id '{item_id}' not found: it was not stored, has expired or belongs to "
                    "another organisation.", param=f"input[{index}]", code="item_not_found",
                )  # fmt: skip
            resolved[index] = found[item_id]
        return resolved

    async def _previous(self, response_id: str) -> list[dict[str, Any]]:
        record = await self.store.load(self.org_id, response_id)
        if record is None:
            raise GatewayError(
                400, f"Previous response with id '{response_id}' not found.",
                param="previous_response_id", code="previous_response_not_found",
            )  # fmt: skip
        return [*record["input"], *record["response"]["output"]]

    async def keep(self, response: dict[str, Any]) -> None:
        """Store the answer (when asked to), and say in it whether it was."""
        if self.envelope.store:
            response["store"] = self.envelope.store = await self.store.put(self.org_id, response, self.input_items)

    def decode(self, body: dict[str, Any]) -> dict[str, Any]:
        chat, self.envelope.echo = to_chat(body)
        return chat

    def answer(self, job: Job, completion: dict[str, Any]) -> bytes:
        return orjson.dumps(to_response(self.envelope, completion))

    async def answer_kept(self, job: Job, completion: dict[str, Any]) -> bytes:
        response = to_response(self.envelope, completion)
        await self.keep(response)
        return orjson.dumps(response)

    def stream(self, job: Job, state: StreamState) -> ResponsesStream:  # type: ignore[override]
        return ResponsesStream(job, state, ResponseEvents(self.envelope, state.target_model), self)


_ID_PREFIXES = {"message": "msg", "function_call": "fc", "function_call_output": "fco", "reasoning": "rs"}


def _stored_id(value: Any, param: str) -> str:
    if not isinstance(value, str) or not 0 < len(value) <= MAX_ID_LENGTH:
        raise invalid(f"Invalid '{param}': expected an id of 1 to {MAX_ID_LENGTH} characters.", param)
    return value


def _with_id(item: Any) -> Any:
    """Input items get ids, as OpenAI gives them, for GET /v1/responses/{id}/input_items."""
    if not isinstance(item, dict) or "id" in item:
        return item
    return {"id": f"{_ID_PREFIXES.get(item.get('type', 'message'), 'item')}_{random_hex()}", **item}


class ResponsesStream:
    def __init__(self, job: Job, state: StreamState, events: ResponseEvents, codec: OpenAIResponses) -> None:
        self.job = job
        self.state = state
        self.events = events
        self.codec = codec

    def head(self, opened: OpenAttempt) -> bytes:
        return self.events.start() + self.batch(opened.head)

    def batch(self, batch: list[Chunk]) -> bytes:
        out: list[bytes] = []
        for _, chunk in batch:
            self.events.chunk(chunk, out)
        return b"".join(out)

    def tail(self) -> bytes:
        return self.events.end(self.state.usage or estimated_usage(self.job.body, self.state))

    async def tail_kept(self) -> bytes:
        out, response = self.events.close(self.state.usage or estimated_usage(self.job.body, self.state))
        await self.codec.keep(response)
        return self.events.terminal(out, response)

    def error(self, broken: StreamBroken) -> bytes:
        self.codec.envelope.store = False  # a failed answer is not stored
        return self.events.failed(stream_interrupted(broken), self.state.usage)


async def responses(runtime: Runtime, scope: Scope, receive: Any, send: Any) -> None:
    await handle(runtime, OpenAIResponses(runtime.responses), scope, receive, send)


# ---------------------------------------------------------------- the stored responses

PREFIX = "/v1/responses/"


async def stored_response(runtime: Runtime, scope: Scope, receive: Any, send: Any) -> None:
    """``GET``/``DELETE /v1/responses/{id}``, ``GET /v1/responses/{id}/input_items``: own organisation only."""
    exchange, key = await authenticated(runtime, scope, receive, send)
    if key is None:
        return
    response_id, _, rest = scope["path"].rstrip("/")[len(PREFIX) :].partition("/")
    method = scope["method"]
    try:
        if rest not in ("", "input_items") or (rest and method != "GET") or len(response_id) > MAX_ID_LENGTH:
            raise GatewayError(404, f"Unknown endpoint {method} {scope['path'][:200]}.", code="unknown_url")
        if method == "DELETE":
            if not await runtime.responses.delete(key.org_id, response_id):
                raise _not_found(response_id)
            body = {"id": response_id, "object": "response", "deleted": True}
        else:
            record = await runtime.responses.load(key.org_id, response_id)
            if record is None:
                raise _not_found(response_id)
            body = _input_list(record["input"], scope) if rest else record["response"]
    except GatewayError as error:
        await exchange.send_error(error)
        return
    await send_json(exchange, orjson.dumps(body))


def _not_found(response_id: str) -> GatewayError:
    return GatewayError(404, f"Response with id '{response_id}' not found.", code="response_not_found")


def _input_list(items: list[dict[str, Any]], scope: Scope) -> dict[str, Any]:
    """All of them in one page (a stored response is at most 1 MiB); newest first unless ``order=asc``."""
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"), max_num_fields=20)
    if query.get("order", ["desc"])[-1] != "asc":
        items = items[::-1]
    return {
        "object": "list",
        "data": items,
        "first_id": items[0]["id"] if items else None,
        "last_id": items[-1]["id"] if items else None,
        "has_more": False,
    }

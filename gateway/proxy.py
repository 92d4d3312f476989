"""The proxy endpoints as plain ASGI handlers: /v1/chat/completions and /v1/models."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import orjson

from gateway.adapters.base import Chunk
from gateway.config import resolve_model
from gateway.errors import GatewayError, error_body
from gateway.failover import Failover, Job, Served
from gateway.ids import random_hex
from gateway.keys import KeyInfo
from gateway.relay import OpenAttempt, StreamBroken, StreamState, aggregate, read_rest
from gateway.runtime import Runtime
from gateway.validation import check_chat_request, parse_body

Scope = dict[str, Any]
Headers = list[tuple[bytes, bytes]]
JSON = b"application/json"
DONE_EVENT = b"data: [DONE]\n\n"
_MAX_REQUEST_ID = 128


class _Request:
    """What the handlers need from the ASGI scope, read in one pass over the headers."""

    __slots__ = ("authorization", "content_length", "request_id")

    def __init__(self, scope: Scope) -> None:
        self.authorization = b""
        self.request_id = ""
        self.content_length = -1
        for name, value in scope["headers"]:
            if name == b"authorization":
                self.authorization = value
            elif name == b"x-request-id":
                self.request_id = clean_request_id(value)
            elif name == b"content-length":
                self.content_length = int(value) if value.isdigit() else -1
        if not self.request_id:
            self.request_id = random_hex()


def clean_request_id(value: bytes) -> str:
    if len(value) > _MAX_REQUEST_ID or not value.isascii():
        return ""
    text = value.decode()
    return text if text.isprintable() else ""


def _headers(request_id: str, content_type: bytes = JSON) -> Headers:
    return [(b"content-type", content_type), (b"x-request-id", request_id.encode())]


async def send_error(send: Any, error: GatewayError, request_id: str) -> None:
    headers = _headers(request_id) + list(error.headers)
    await send({"type": "http.response.start", "status": error.status, "headers": headers})
    await send({"type": "http.response.body", "body": error.body()})


async def _send_json(send: Any, status: int, headers: Headers, body: bytes) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def authenticate(runtime: Runtime, authorization: bytes) -> KeyInfo:
    if not authorization:
        raise GatewayError(
            401,
            "You didn't provide an API key. Send it in an Authorization header: 'Authorization: Bearer YOUR_KEY'.",
            code="missing_api_key",
        )
    scheme, _, token = authorization.decode("latin-1").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise GatewayError(401, "Malformed Authorization header: expected 'Bearer YOUR_KEY'.", code="invalid_api_key")
    hashed, info = runtime.keys.lookup(token)
    if info is None:
        info = await runtime.keys.lookup_miss(token, hashed)
    if info is None:
        raise GatewayError(401, "Incorrect API key provided.", code="invalid_api_key")
    if info.revoked:
        raise GatewayError(401, "This API key has been revoked.", code="revoked_api_key")
    if not info.usable(time.time()):
        raise GatewayError(401, "This API key has expired.", code="expired_api_key")
    runtime.keys.mark_used(info)
    return info


async def read_body(receive: Any, limit: int, declared: int) -> bytes:
    if declared > limit:
        raise GatewayError(
            413, f"The request body is {declared} bytes; the limit is {limit} bytes.", code="request_too_large"
        )
    body = b""
    more = True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise asyncio.CancelledError
        body += message.get("body", b"")
        more = message.get("more_body", False)
        if len(body) > limit:
            raise GatewayError(413, f"The request body exceeds the limit of {limit} bytes.", code="request_too_large")
    return body


def make_job(runtime: Runtime, key: KeyInfo, body: dict[str, Any], request_id: str) -> Job:
    check_chat_request(body)
    requested = body["model"]
    resolved = resolve_model(runtime.config, requested)
    if resolved is None:
        raise GatewayError(
            404,
            f"The model '{requested}' does not exist or you do not have access to it.",
            param="model",
            code="model_not_found",
        )
    model, pinned = resolved
    if key.allowed_models and model.name not in key.allowed_models:
        raise GatewayError(
            403, f"This API key may not use the model '{model.name}'.", param="model", code="model_not_allowed"
        )
    options = body.get("stream_options") or {}
    return Job(
        request_id=request_id,
        key=key,
        body=body,
        stream=bool(body.get("stream")),
        wants_usage=bool(options.get("include_usage")),
        choices=body.get("n") or 1,
        requested=requested,
        model=model,
        pinned=pinned,
        budget_until=asyncio.get_running_loop().time() + runtime.request_budget,
    )


def estimate_tokens(body: dict[str, Any]) -> int:
    """Prompt tokens, plus the requested completion budget."""
    completion = body.get("max_completion_tokens") or body.get("max_tokens") or 0
    return estimate_prompt_tokens(body) + (completion if isinstance(completion, int) else 0)


def estimate_prompt_tokens(body: dict[str, Any]) -> int:
    """Messages and tool definitions at ~4 characters a token: no tokenizer on the request path."""
    tools = body.get("tools")
    return (len(orjson.dumps(body.get("messages"))) + (len(orjson.dumps(tools)) if tools else 0)) // 4


async def admit(runtime: Runtime, job: Job) -> None:
    """Apply the key's and the organisation's rate limits and budgets; raise if over one."""
    scopes = job.key.scopes
    if not scopes:
        return
    job.estimated_tokens = estimate_tokens(job.body)
    verdict = await runtime.limiter.check(list(scopes), job.estimated_tokens)
    job.rate_headers = verdict.headers()
    if verdict.allowed:
        return
    who = "this API key" if verdict.scope.startswith("key:") else "your organisation"
    if verdict.reason == "budget":
        raise GatewayError(
            402, f"The monthly spend budget of {who} is used up.", type="insufficient_quota", code="budget_exceeded"
        )
    retry = str(max(1, round(verdict.reset_seconds))).encode()
    raise GatewayError(
        429,
        f"Rate limit of {who} reached: {verdict.reason} per minute.",
        type=verdict.reason,
        code="rate_limit_exceeded",
        headers=(*verdict.headers(), (b"retry-after", retry)),
    )


async def settle(runtime: Runtime, job: Job, served: Served | None) -> None:
    """After the client has its answer: correct the token estimate and count the spend."""
    if not job.key.scopes:
        return
    event = served.event if served is not None else None
    used = (event.prompt_tokens or 0) + (event.completion_tokens or 0) if event is not None else 0
    cost = round((event.cost_usd or 0) * 1_000_000) if event is not None else 0
    await runtime.limiter.settle(list(job.key.scopes), job.estimated_tokens, used, cost)


async def chat_completions(runtime: Runtime, scope: Scope, receive: Any, send: Any) -> None:
    request = _Request(scope)
    try:
        key = await authenticate(runtime, request.authorization)
        raw = await read_body(receive, runtime.max_body_bytes, request.content_length)
        job = make_job(runtime, key, parse_body(raw), request.request_id)
        await admit(runtime, job)
    except GatewayError as error:
        await send_error(send, error, request.request_id)
        return
    except asyncio.CancelledError:
        return
    await serve(runtime, job, receive, send, _serve_complete, _serve_stream)


async def serve(
    runtime: Runtime,
    job: Job,
    receive: Any,
    send: Any,
    complete: Callable[[Runtime, Job, Any], Awaitable[None]],
    stream: Callable[[Runtime, Job, Any, DisconnectWatcher], Awaitable[None]],
) -> None:
    """Answer a validated job with the endpoint's own encoding, whole or streamed."""
    if not job.stream:
        await complete(runtime, job, send)
        return
    # Only a stream needs this extra task: a client that leaves mid-stream must cancel the upstream.
    watcher = DisconnectWatcher(receive)
    try:
        await stream(runtime, job, send, watcher)
    except asyncio.CancelledError:
        if not watcher.client_gone:
            raise
    finally:
        watcher.stop()


class DisconnectWatcher:
    """Cancels the handler the moment the client disconnects, so the upstream is cancelled too."""

    def __init__(self, receive: Any) -> None:
        self.client_gone = False
        self.responding_done = False
        self._handler = asyncio.current_task()
        self._task = asyncio.create_task(self._watch(receive))

    async def _watch(self, receive: Any) -> None:
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                if not self.responding_done and self._handler is not None:
                    self.client_gone = True
                    self._handler.cancel()
                return

    def stop(self) -> None:
        self.responding_done = True
        self._task.cancel()


def served_headers(job: Job, served: Served, content_type: bytes) -> Headers:
    return [*_served_headers(job, served, content_type), *job.rate_headers]


def _served_headers(job: Job, served: Served, content_type: bytes) -> Headers:
    provider = served.opened.deployment.provider.name.encode()
    attempts = str(served.attempt_no).encode()
    return [
        *_headers(job.request_id, content_type),
        (b"x-gateway-provider", provider),
        (b"x-gateway-attempts", attempts),
    ]


async def _serve_complete(runtime: Runtime, job: Job, send: Any) -> None:
    try:
        served = await Failover(runtime, job).run()
    except GatewayError as error:
        await send_error(send, error, job.request_id)
        await settle(runtime, job, None)
        return
    state = served.opened.state
    completion = aggregate(served.chunks, state)
    if completion["usage"] is None:
        completion["usage"] = estimated_usage(job, state)
    finish_event(runtime, job, served, "ok")
    await _send_json(send, 200, served_headers(job, served, JSON), orjson.dumps(completion))
    await served.opened.finish()
    await settle(runtime, job, served)


async def _serve_stream(runtime: Runtime, job: Job, send: Any, watcher: DisconnectWatcher) -> None:
    try:
        served = await Failover(runtime, job).run()
    except GatewayError as error:
        watcher.responding_done = True
        await send_error(send, error, job.request_id)
        await settle(runtime, job, None)
        return
    headers = [*served_headers(job, served, b"text/event-stream"), (b"cache-control", b"no-cache")]
    await relay_stream(runtime, job, served, send, watcher, headers, _OpenAIEvents(job, served.opened.state))


class StreamEncoder(Protocol):
    """How one inbound endpoint writes a stream: its first bytes, each batch, a clean end, a cut."""

    def head(self, opened: OpenAttempt) -> bytes: ...

    def batch(self, batch: list[Chunk]) -> bytes: ...

    def tail(self) -> bytes: ...

    def error(self, broken: StreamBroken) -> bytes: ...


class _OpenAIEvents:
    def __init__(self, job: Job, state: StreamState) -> None:
        self.job = job
        self.state = state

    def head(self, opened: OpenAttempt) -> bytes:
        return b"".join(opened.head)

    def batch(self, batch: list[Chunk]) -> bytes:
        return b"".join(e for e in (self.state.client_bytes(p, c) for p, c in batch) if e is not None)

    def tail(self) -> bytes:
        if self.job.wants_usage and self.state.usage is None:
            return _usage_event(self.job, self.state) + DONE_EVENT
        return DONE_EVENT

    def error(self, broken: StreamBroken) -> bytes:
        return _stream_error_event(broken)


async def relay_stream(
    runtime: Runtime,
    job: Job,
    served: Served,
    send: Any,
    watcher: DisconnectWatcher,
    headers: Headers,
    encoder: StreamEncoder,
) -> None:
    """Relay the rest of a served stream; a cut after content ends with the encoder's error event."""
    opened = served.opened
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    outcome = "ok"
    try:
        await send({"type": "http.response.body", "body": encoder.head(opened), "more_body": True})
        async for batch in read_rest(opened):
            body = encoder.batch(batch)
            if body:
                await send({"type": "http.response.body", "body": body, "more_body": True})
        watcher.responding_done = True
        await send({"type": "http.response.body", "body": encoder.tail(), "more_body": False})
    except StreamBroken as broken:
        # Content already reached the client: no failover is possible, and no end-of-stream marker
        # either, so a truncated answer can never pass for a complete one.
        outcome = f"{broken.failure.value}_after_content"
        runtime.health.record_failure(opened.deployment.id, asyncio.get_running_loop().time())
        served.event.error = str(broken)[:500]
        watcher.responding_done = True
        await send({"type": "http.response.body", "body": encoder.error(broken), "more_body": False})
    except asyncio.CancelledError:
        outcome = "client_disconnected"
        await opened.close()
        raise
    finally:
        finish_event(runtime, job, served, outcome)
    await opened.finish()
    await settle(runtime, job, served)


def _stream_error_event(broken: StreamBroken) -> bytes:
    return (
        b"data: "
        + error_body(
            f"The upstream stream was interrupted after the answer began: {broken}",
            "server_error",
            "stream_interrupted",
        )
        + b"\n\n"
    )


def finish_event(runtime: Runtime, job: Job, served: Served, outcome: str) -> None:
    event = served.event
    state = served.opened.state
    # Without the provider's usage, the estimate still bills and limits the request.
    usage: dict[str, Any] = state.usage or (estimated_usage(job, state) if state.content_seen else {})
    event.outcome = outcome
    event.latency_ms = (time.perf_counter() - served.clock_started) * 1000
    event.prompt_tokens = usage.get("prompt_tokens")
    event.completion_tokens = usage.get("completion_tokens")
    details = usage.get("prompt_tokens_details") or {}
    event.cached_tokens = details.get("cached_tokens")
    price = served.opened.deployment.price
    if price is not None and event.prompt_tokens is not None and event.completion_tokens is not None:
        event.cost_usd = price.cost(event.prompt_tokens, event.completion_tokens, event.cached_tokens or 0)
    event.malformed_events = served.opened.state.malformed
    runtime.log.record(event)


def estimated_usage(job: Job, state: StreamState) -> dict[str, int]:
    """When the provider reports no usage, a rough estimate beats none (~4 characters a token)."""
    prompt = max(1, estimate_prompt_tokens(job.body))
    completion = state.content_chunks
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def _usage_event(job: Job, state: StreamState) -> bytes:
    first = state.first_chunk or {}
    chunk = {
        "id": first.get("id", ""),
        "object": "chat.completion.chunk",
        "created": first.get("created", int(time.time())),
        "model": state.target_model,
        "choices": [],
        "usage": estimated_usage(job, state),
    }
    return b"data: " + orjson.dumps(chunk) + b"\n\n"


async def list_models(runtime: Runtime, scope: Scope, receive: Any, send: Any) -> None:
    request = _Request(scope)
    try:
        key = await authenticate(runtime, request.authorization)
    except GatewayError as error:
        await send_error(send, error, request.request_id)
        return
    data = []
    for model in runtime.config.models.values():
        if key.allowed_models and model.name not in key.allowed_models:
            continue
        entry: dict[str, Any] = {"id": model.name, "object": "model", "created": 0, "owned_by": "gateway"}
        if model.context_window:
            entry["context_window"] = model.context_window
        if model.max_output:
            entry["max_output_tokens"] = model.max_output
        # USD per million tokens, per provider serving the model (docs/providers.md).
        pricing = [{"provider": d.provider.name, **d.price.as_json()} for d in model.deployments if d.price]
        if pricing:
            entry["pricing"] = pricing
        data.append(entry)
    await _send_json(send, 200, _headers(request.request_id), orjson.dumps({"object": "list", "data": data}))

"""The proxy endpoints as plain ASGI handlers: /v1/chat/completions and /v1/models."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import orjson

from gateway.upstream.adapters.base import Chunk
from gateway.conf.loader import resolve_model
from gateway.errors import GatewayError, error_body, internal_error
from gateway.routing.failover import Failover, Job, Served
from gateway.ids import random_hex
from gateway.keys import KeyInfo
from gateway.upstream.attempt import OpenAttempt, StreamBroken, StreamState, aggregate, read_rest
from gateway.runtime import Runtime
from gateway.usage import charge, estimate_tokens, estimated_usage, spent
from gateway.validation import check_chat_request, parse_body

log = logging.getLogger(__name__)
Scope = dict[str, Any]
Headers = list[tuple[bytes, bytes]]
JSON = b"application/json"
DONE_EVENT = b"data: [DONE]\n\n"
_MAX_REQUEST_ID = 128
# How an inbound endpoint writes an error in its own API's shape.
ErrorSender = Callable[[Any, GatewayError, str], Awaitable[None]]


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


async def read_body(receive: Any, limit: int, declared: int, timeout: float) -> bytes:
    """The whole body, in time linear in its size, within ``timeout`` seconds (else a 408)."""
    if declared > limit:
        raise GatewayError(
            413, f"The request body is {declared} bytes; the limit is {limit} bytes.", code="request_too_large"
        )
    parts: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(timeout):
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    raise asyncio.CancelledError
                part = message.get("body", b"")
                size += len(part)
                if size > limit:
                    raise GatewayError(
                        413, f"The request body exceeds the limit of {limit} bytes.", code="request_too_large"
                    )
                parts.append(part)
                if not message.get("more_body", False):
                    break
    except TimeoutError:
        raise GatewayError(
            408, f"The request body did not arrive within {timeout:g} seconds.", code="request_timeout"
        ) from None
    return parts[0] if len(parts) == 1 else b"".join(parts)


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


async def admit(runtime: Runtime, job: Job) -> None:
    """Apply the key's and the organisation's rate limits and budgets; raise if over one."""
    scopes = job.key.scopes
    if not scopes:
        return
    job.estimated_tokens = estimate_tokens(job.body, job.choices)
    verdict = await runtime.limiter.check(list(scopes), job.estimated_tokens)
    job.limit_window = verdict.window
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


def settle(runtime: Runtime, job: Job) -> None:
    """Correct the token estimate and count the spend of every attempt, once per request.

    Called on every way out (answer, error, error after content, disconnect, crash). The Redis
    update runs as its own task: a handler being cancelled must not skip it.
    """
    if job.settled or not job.key.scopes:
        return
    job.settled = True
    tokens, cost = spent(job.events)
    scopes = list(job.key.scopes)
    runtime.background(runtime.limiter.settle(scopes, job.limit_window, job.estimated_tokens, tokens, cost))


async def chat_completions(runtime: Runtime, scope: Scope, receive: Any, send: Any) -> None:
    request = _Request(scope)
    try:
        key = await authenticate(runtime, request.authorization)
        raw = await read_body(receive, runtime.max_body_bytes, request.content_length, runtime.body_timeout)
        job = make_job(runtime, key, parse_body(raw), request.request_id)
        await admit(runtime, job)
    except GatewayError as error:
        await send_error(send, error, request.request_id)
        return
    except asyncio.CancelledError:
        return
    except Exception:
        await send_crash(send, send_error, request.request_id)
        return
    await serve(runtime, job, receive, send, _serve_complete, _serve_stream, send_error)


async def send_crash(send: Any, send_error: ErrorSender, request_id: str) -> None:
    """An unexpected exception: logged with its traceback, answered with a 500 carrying the request id."""
    log.exception("request %s: unexpected error in the proxy", request_id)
    # The response may have started already; then there is nothing more to tell the client.
    with contextlib.suppress(Exception):
        await send_error(send, internal_error(request_id), request_id)


async def serve(
    runtime: Runtime,
    job: Job,
    receive: Any,
    send: Any,
    complete: Callable[[Runtime, Job, Any], Awaitable[None]],
    stream: Callable[[Runtime, Job, Any, DisconnectWatcher], Awaitable[None]],
    send_error: ErrorSender,
) -> None:
    """Answer a validated job with the endpoint's own encoding, whole or streamed; settle it on
    every way out."""
    watcher: DisconnectWatcher | None = None
    try:
        if not job.stream:
            await complete(runtime, job, send)
            return
        # Only a stream needs this extra task: a client that leaves mid-stream must cancel the upstream.
        watcher = DisconnectWatcher(receive)
        await stream(runtime, job, send, watcher)
    except asyncio.CancelledError:
        if watcher is None or not watcher.client_gone:
            raise
    except Exception:
        if watcher is not None:
            watcher.responding_done = True
        await send_crash(send, send_error, job.request_id)
    finally:
        if watcher is not None:
            watcher.stop()
        settle(runtime, job)


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
        return
    state = served.opened.state
    completion = aggregate(served.chunks, state)
    if completion["usage"] is None:
        completion["usage"] = estimated_usage(job.body, state)
    finish_event(runtime, job, served, "ok")
    settle(runtime, job)
    await _send_json(send, 200, served_headers(job, served, JSON), orjson.dumps(completion))
    await served.opened.finish()


async def _serve_stream(runtime: Runtime, job: Job, send: Any, watcher: DisconnectWatcher) -> None:
    try:
        served = await Failover(runtime, job).run()
    except GatewayError as error:
        watcher.responding_done = True
        await send_error(send, error, job.request_id)
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
        settle(runtime, job)
    await opened.finish()


def stream_interrupted(broken: StreamBroken) -> str:
    """What a client is told of a cut after content: the provider and the class, never its text."""
    return f"The upstream stream was interrupted after the answer began ({broken.provider}: {broken.failure.value})."


def _stream_error_event(broken: StreamBroken) -> bytes:
    return b"data: " + error_body(stream_interrupted(broken), "server_error", "stream_interrupted") + b"\n\n"


def finish_event(runtime: Runtime, job: Job, served: Served, outcome: str) -> None:
    event = served.event
    event.outcome = outcome
    event.latency_ms = (time.perf_counter() - served.clock_started) * 1000
    # Without the provider's usage, the estimate still bills and limits the request.
    charge(event, job.body, served.opened.state, served.opened.deployment)
    job.events.append(event)
    runtime.log.record(event)


def _usage_event(job: Job, state: StreamState) -> bytes:
    first = state.first_chunk or {}
    chunk = {
        "id": first.get("id", ""),
        "object": "chat.completion.chunk",
        "created": first.get("created", int(time.time())),
        "model": state.target_model,
        "choices": [],
        "usage": estimated_usage(job.body, state),
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

"""The one request pipeline every inbound API runs through.

    read headers → authenticate → read and validate the body → build the job → admit (limits)
    → serve (whole or streamed, with a disconnect watcher) → relay → finish: record and settle

An inbound API is a ``Codec`` (gateway/inbound/): it turns its request into the internal job body
(an OpenAI chat request) and writes answers, streams and errors in its own shape. Nothing below
the codecs knows which API the client speaks. An API that is not chat (embeddings, legacy
completions) names its upstream ``Operation``; the job carries it to the adapters.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, cast

import orjson

from gateway.conf.domain import CHAT, EMBEDDING, Model, resolve_model
from gateway.cors import SCOPE_KEY as CORS_SCOPE_KEY
from gateway.cors import CorsSend
from gateway.deadlines import BodyDeadlines
from gateway.errors import GatewayError, internal_error
from gateway.events.outcomes import Outcome, after_content
from gateway.events.records import RequestEvent
from gateway.ids import random_hex
from gateway.ids import uuid7 as new_event_id
from gateway.keys import KeyInfo
from gateway.routing.failover import Failover, Job, Served, finish_served
from gateway.runtime import Runtime
from gateway.upstream.adapters.base import Chunk
from gateway.upstream.attempt import OpenAttempt, StreamBroken, read_rest
from gateway.upstream.chunks import StreamState, aggregate
from gateway.upstream.operation import Operation
from gateway.usage import estimate_tokens, estimated_usage, spent
from gateway.validation import check_chat_request, parse_body

log = logging.getLogger(__name__)
Scope = dict[str, Any]
Headers = list[tuple[bytes, bytes]]
JSON = b"application/json"
SSE = b"text/event-stream"
_MAX_REQUEST_ID = 128
Ending = tuple[int, Outcome, str]  # the status, outcome and error code the client got


class RequestHeaders:
    """What the pipeline needs from the ASGI scope, read in one pass over the headers."""

    __slots__ = ("api_key", "authorization", "content_length", "cors", "request_id")

    def __init__(self, scope: Scope) -> None:
        self.cors: CorsSend | None = scope.get(CORS_SCOPE_KEY)
        self.authorization = b""
        self.api_key = b""
        self.request_id = ""
        self.content_length = -1
        for name, value in scope["headers"]:
            if name == b"authorization":
                self.authorization = value
            elif name == b"x-api-key":
                self.api_key = value
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


class ClientGone(Exception):
    """The client disconnected before its request was read."""


class StreamEncoder(Protocol):
    """How one inbound API writes a stream: its first bytes, each batch, a clean end, a cut."""

    def head(self, opened: OpenAttempt) -> bytes: ...

    def batch(self, batch: list[Chunk]) -> bytes: ...

    def tail(self) -> bytes: ...

    def error(self, broken: StreamBroken) -> bytes: ...


class Codec(Protocol):
    """One inbound API: its request in, its answers, streams and errors out."""

    inbound: str  # recorded with every request: "openai.chat", "anthropic.messages"
    # Keeps state between requests (the Responses API's store): the pipeline then awaits the
    # StatefulCodec steps, which read and write Redis; no other API pays for them.
    stateful: bool

    def credential(self, request: RequestHeaders) -> bytes:
        """The Authorization header value to check, b"" when the request carries no key."""

    def missing_key(self) -> GatewayError: ...

    def decode(self, body: dict[str, Any]) -> dict[str, Any]:
        """The internal job body (an OpenAI chat request) for the client's body; GatewayError if invalid."""

    def headers(self, request_id: str) -> Headers:
        """Headers of every response: content type excepted."""

    def error_body(self, error: GatewayError, request_id: str) -> bytes: ...

    def answer(self, job: Job, completion: dict[str, Any]) -> bytes:
        """A whole answer, from the aggregated chat.completion."""

    def stream(self, job: Job, state: StreamState) -> StreamEncoder: ...


class StatefulCodec(Codec, Protocol):
    async def restore(self, key: KeyInfo, body: dict[str, Any]) -> dict[str, Any]:
        """The body with the stored state it refers to filled in, before ``decode``; GatewayError if it cannot be."""

    async def answer_kept(self, job: Job, completion: dict[str, Any]) -> bytes:
        """``answer``, once the answer is stored: before its bytes go out, so a next turn can follow at once."""


class StatefulEncoder(StreamEncoder, Protocol):
    async def tail_kept(self) -> bytes:
        """``tail``, once the answer is stored."""


# ---------------------------------------------------------------- the steps


async def authenticate(runtime: Runtime, codec: Codec, request: RequestHeaders) -> KeyInfo:
    authorization = codec.credential(request)
    if not authorization:
        raise codec.missing_key()
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
    if request.cors is not None:
        request.cors.key = info
    return info


async def read_body(receive: Any, limit: int, declared: int, deadlines: BodyDeadlines) -> bytes:
    """The whole body, in time linear in its size, within the deadline (else a 408)."""
    if declared > limit:
        raise GatewayError(
            413, f"The request body is {declared} bytes; the limit is {limit} bytes.", code="request_too_large"
        )
    parts: list[bytes] = []
    size = 0
    task = asyncio.current_task()
    assert task is not None
    deadlines.watch(task)
    try:
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise ClientGone
            part = message.get("body", b"")
            size += len(part)
            if size > limit:
                raise GatewayError(
                    413, f"The request body exceeds the limit of {limit} bytes.", code="request_too_large"
                )
            parts.append(part)
            if not message.get("more_body", False):
                break
    except asyncio.CancelledError:
        if not deadlines.release(task):
            raise
        task.uncancel()
        raise GatewayError(
            408, f"The request body did not arrive within {deadlines.seconds:g} seconds.", code="request_timeout"
        ) from None
    deadlines.release(task)
    return parts[0] if len(parts) == 1 else b"".join(parts)


def make_job(
    runtime: Runtime, key: KeyInfo, body: dict[str, Any], request_id: str, operation: Operation | None = None
) -> Job:
    """The job for a valid body; ``operation`` None is chat (an operation's codec checked the body)."""
    if operation is None:
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
    if model.mode != (CHAT if operation is None else operation.mode):
        raise _wrong_mode(model)
    if operation is not None:
        operation.admit(body, model)
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
        operation=operation,
    )


def _wrong_mode(model: Model) -> GatewayError:
    if model.mode == EMBEDDING:
        message = f"The model '{model.name}' is an embedding model: use it with POST /v1/embeddings."
    else:
        message = f"The model '{model.name}' is not an embedding model: POST /v1/embeddings needs one."
    return GatewayError(400, message, param="model", code="model_not_supported")


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
            402,
            f"The monthly spend budget of {who} is used up.",
            type="insufficient_quota",
            code="budget_exceeded",
            outcome=Outcome.LIMITED,
        )
    retry = str(max(1, round(verdict.reset_seconds))).encode()
    raise GatewayError(
        429,
        f"Rate limit of {who} reached: {verdict.reason} per minute.",
        type=verdict.reason,
        code="rate_limit_exceeded",
        headers=(*verdict.headers(), (b"retry-after", retry)),
        outcome=Outcome.LIMITED,
    )


# ---------------------------------------------------------------- one request


class Exchange:
    """One request on its way through the pipeline: what its record and its settlement need."""

    __slots__ = (
        "codec",
        "job",
        "key",
        "operation",
        "receive",
        "recorded",
        "request",
        "runtime",
        "send",
        "started",
        "started_at",
    )

    def __init__(
        self,
        runtime: Runtime,
        codec: Codec,
        request: RequestHeaders,
        receive: Any,
        send: Any,
        operation: Operation | None = None,
    ) -> None:
        self.runtime = runtime
        self.codec = codec
        self.operation = operation
        self.request = request
        self.receive = receive
        self.send = send
        self.started = time.perf_counter()
        self.started_at = time.time()
        self.key: KeyInfo | None = None
        self.job: Job | None = None
        self.recorded = False

    async def send_error(self, error: GatewayError) -> None:
        rid = self.request.request_id
        _finish(self, error.status, error.outcome, error.code or "")
        headers = [(b"content-type", JSON), *self.codec.headers(rid), *error.headers]
        await self.send({"type": "http.response.start", "status": error.status, "headers": headers})
        await self.send({"type": "http.response.body", "body": self.codec.error_body(error, rid)})

    async def send_crash(self) -> None:
        """An unexpected exception: logged with its traceback, answered with a 500 carrying the request id."""
        log.exception("request %s: unexpected error in the gateway", self.request.request_id)
        # The response may have started already; then there is nothing more to tell the client.
        with contextlib.suppress(Exception):
            await self.send_error(internal_error(self.request.request_id))


async def handle(
    runtime: Runtime, codec: Codec, scope: Scope, receive: Any, send: Any, operation: Operation | None = None
) -> None:
    """Serve one request of ``codec``'s API, through the failover to an upstream; ``operation`` is
    what the upstreams are asked for when it is not chat (embeddings, legacy completions)."""
    exchange = Exchange(runtime, codec, RequestHeaders(scope), receive, send, operation)
    await _run(exchange, _accept_and_serve)


async def handle_local(
    runtime: Runtime, codec: Codec, scope: Scope, receive: Any, send: Any, answer: Callable[[Job], Any]
) -> None:
    """Serve a request the gateway answers itself, with no upstream call and no limits charged."""

    async def local(exchange: Exchange) -> Ending:
        job = await _accept(exchange, charge_limits=False)
        headers = [(b"content-type", JSON), *codec.headers(job.request_id)]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        _finish(exchange, 200, Outcome.OK, "")
        await send({"type": "http.response.body", "body": orjson.dumps(answer(job))})
        return 200, Outcome.OK, ""

    await _run(Exchange(runtime, codec, RequestHeaders(scope), receive, send), local)


async def _run(exchange: Exchange, work: Callable[[Exchange], Awaitable[Ending]]) -> None:
    """Every way a request can end, answered in the codec's shape; every accepted request is recorded once."""
    status, outcome, code = 200, Outcome.OK, ""
    try:
        status, outcome, code = await work(exchange)
    except GatewayError as error:
        status, outcome, code = error.status, error.outcome, error.code or ""
        await exchange.send_error(error)
    except ClientGone:
        status, outcome, code = 499, Outcome.CLIENT_DISCONNECTED, ""
    except asyncio.CancelledError:
        status, outcome, code = 499, Outcome.CANCELLED, ""
        raise
    except Exception:
        status, outcome, code = 500, Outcome.ERROR, "internal_error"
        await exchange.send_crash()
    finally:
        _finish(exchange, status, outcome, code)


async def _accept(exchange: Exchange, *, charge_limits: bool = True) -> Job:
    runtime, request = exchange.runtime, exchange.request
    exchange.key = key = await authenticate(runtime, exchange.codec, request)
    raw = await read_body(exchange.receive, runtime.max_body_bytes, request.content_length, runtime.body_deadlines)
    body = parse_body(raw)
    if exchange.codec.stateful:
        body = await cast(StatefulCodec, exchange.codec).restore(key, body)
    body = exchange.codec.decode(body)
    job = make_job(runtime, exchange.key, body, request.request_id, exchange.operation)
    exchange.job = job
    if charge_limits:
        await admit(runtime, job)
    return job


async def _accept_and_serve(exchange: Exchange) -> Ending:
    return await _serve(exchange, await _accept(exchange))


async def _serve(exchange: Exchange, job: Job) -> Ending:
    """Answer an admitted job, whole or streamed; the status, outcome and code the client got."""
    if not job.stream:
        return await _serve_complete(exchange, job)
    # Only a stream needs this extra task: a client that leaves mid-stream must cancel the upstream.
    watcher = DisconnectWatcher(exchange.receive)
    try:
        return await _serve_stream(exchange, job, watcher)
    except asyncio.CancelledError:
        if not watcher.client_gone:
            raise
        return 200 if job.served is not None else 499, Outcome.CLIENT_DISCONNECTED, ""
    except Exception:
        watcher.responding_done = True
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


def _answer_headers(exchange: Exchange, served: Served, content_type: bytes) -> Headers:
    job = exchange.job
    assert job is not None
    return [
        (b"content-type", content_type),
        *exchange.codec.headers(job.request_id),
        (b"x-gateway-provider", served.opened.deployment.provider.name.encode()),
        (b"x-gateway-attempts", str(served.attempt_no).encode()),
        *job.rate_headers,
    ]


async def _serve_complete(exchange: Exchange, job: Job) -> Ending:
    served = await Failover(exchange.runtime, job).run()
    job.served = served
    if served.opened.answer is None:
        chunks = [chunk for _, chunk in served.opened.head] + served.chunks
        completion = aggregate(chunks, served.opened.state)
        if completion["usage"] is None:
            completion["usage"] = estimated_usage(job.body, served.opened.state)
    else:
        completion = served.opened.answer
    finish_served(exchange.runtime, job, served, Outcome.OK)
    settle(exchange.runtime, job)
    if exchange.codec.stateful:
        body = await cast(StatefulCodec, exchange.codec).answer_kept(job, completion)
    else:
        body = exchange.codec.answer(job, completion)
    headers = _answer_headers(exchange, served, JSON)
    await exchange.send({"type": "http.response.start", "status": 200, "headers": headers})
    _finish(exchange, 200, Outcome.OK, "")
    await exchange.send({"type": "http.response.body", "body": body})
    await served.opened.finish()
    return 200, Outcome.OK, ""


async def _serve_stream(exchange: Exchange, job: Job, watcher: DisconnectWatcher) -> Ending:
    try:
        served = await Failover(exchange.runtime, job).run()
    except GatewayError:
        watcher.responding_done = True
        raise
    job.served = served
    encoder = exchange.codec.stream(job, served.opened.state)
    headers = [*_answer_headers(exchange, served, SSE), (b"cache-control", b"no-cache")]
    return await relay_stream(exchange, job, served, watcher, headers, encoder)


async def relay_stream(
    exchange: Exchange,
    job: Job,
    served: Served,
    watcher: DisconnectWatcher,
    headers: Headers,
    encoder: StreamEncoder,
) -> Ending:
    """Relay the rest of a served stream; a cut after content ends with the encoder's error event."""
    runtime, send, opened = exchange.runtime, exchange.send, served.opened
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    outcome, code = Outcome.OK, ""
    try:
        await send({"type": "http.response.body", "body": encoder.head(opened), "more_body": True})
        async for batch in read_rest(opened):
            body = encoder.batch(batch)
            if body:
                await send({"type": "http.response.body", "body": body, "more_body": True})
        watcher.responding_done = True
        last = await cast(StatefulEncoder, encoder).tail_kept() if exchange.codec.stateful else encoder.tail()
    except StreamBroken as broken:
        # Content already reached the client: no failover is possible, and no end-of-stream marker
        # either, so a truncated answer can never pass for a complete one.
        outcome, code = after_content(broken.failure), "stream_interrupted"
        served.event.error = str(broken)[:500]
        watcher.responding_done = True
        last = encoder.error(broken)
    except asyncio.CancelledError:
        outcome = Outcome.CLIENT_DISCONNECTED
        await opened.close()
        raise
    finally:
        finish_served(runtime, job, served, outcome)
        settle(runtime, job)
    _finish(exchange, 200, outcome, code)
    await send({"type": "http.response.body", "body": last, "more_body": False})
    await opened.finish()
    return 200, outcome, code


def stream_interrupted(broken: StreamBroken) -> str:
    """What a client is told of a cut after content: the provider and the class, never its text."""
    return f"The upstream stream was interrupted after the answer began ({broken.provider}: {broken.failure.value})."


# ---------------------------------------------------------------- finishing


def settle(runtime: Runtime, job: Job) -> None:
    """Correct the token estimate and count the spend of every attempt, once per request.

    Called on every way out (answer, error, error after content, disconnect, crash). The Redis
    update runs as its own task: a handler being cancelled must not skip it.
    """
    if job.settled or not job.key.scopes:
        return
    job.settled = True
    prompt, completion, cost = spent(job.events)
    tokens, micros = (prompt or 0) + (completion or 0), round((cost or 0) * 1_000_000)
    scopes = list(job.key.scopes)
    runtime.background(runtime.limiter.settle(scopes, job.limit_window, job.estimated_tokens, tokens, micros))


def _finish(exchange: Exchange, status: int, outcome: Outcome, code: str) -> None:
    """Settle, and record the request as its client saw it: once, for every request whose key was good.

    Called before the last byte of an answer is sent (so an answered request is on disk, see
    gateway.events.log), and again on the way out for requests that end unanswered.
    """
    key, job = exchange.key, exchange.job
    if key is None or exchange.recorded:
        return
    exchange.recorded = True
    if job is not None:
        settle(exchange.runtime, job)
    exchange.runtime.log.record(_request_event(exchange, key, job, status, outcome, code))


def _request_event(
    exchange: Exchange, key: KeyInfo, job: Job | None, status: int, outcome: Outcome, code: str
) -> RequestEvent:
    events = job.events if job is not None else []
    served = job.served if job is not None else None
    prompt, completion, cost = spent(events)
    ttft_ms = None
    if served is not None and served.opened.ttft is not None:
        ttft_ms = (served.opened.started + served.opened.ttft - exchange.started) * 1000
    return RequestEvent(
        id=new_event_id(),
        request_id=exchange.request.request_id,
        started_at=exchange.started_at,
        org_id=key.org_id,
        key_id=key.id,
        inbound=exchange.codec.inbound,
        requested_model=job.requested if job is not None else "",
        model=served.model.name if served is not None else "",
        provider=served.opened.deployment.provider.name if served is not None else "",
        stream=job.stream if job is not None else False,
        status=status,
        outcome=outcome.value,
        error_code=code,
        attempts=len(events),
        failovers=sum(1 for e in events if not e.final),
        rescued=served is not None and served.attempt_no > 1,
        latency_ms=(time.perf_counter() - exchange.started) * 1000,
        ttft_ms=ttft_ms,
        prompt_tokens=prompt,
        completion_tokens=completion,
        cost_usd=cost,
    )

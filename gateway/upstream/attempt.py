"""One upstream attempt's stream: deadlines, first-content detection, relay and aggregation.

Every attempt is streamed from the upstream, even for non-streaming clients: that gives a
first-token deadline and a TTFT for every request, and a cut before the answer is complete
stays invisible to a non-streaming client.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx

from gateway.upstream.adapters import ADAPTERS
from gateway.upstream.adapters.base import Adapter, Chunk, Decoder, UpstreamRequest
from gateway.conf.domain import Deployment
from gateway.errors import AttemptError, Inexpressible
from gateway.events.outcomes import Outcome
from gateway.upstream.chunks import StreamState, completion_to_chunks
from gateway.upstream.operation import Operation
from gateway.upstream.transport import upstream_request
from gateway.usage import estimate_prompt_tokens

MAX_ERROR_BODY = 64 * 1024
DRAIN_SECONDS = 1.0
Send = Callable[[dict[str, Any]], Awaitable[None]]


@dataclass(slots=True)
class Deadlines:
    """Absolute loop-time deadlines for one attempt."""

    first_token: float
    total: float
    idle: float

    def next_due(self, now: float, content_seen: bool, active: bool) -> float:
        due = self.total
        if not content_seen and self.first_token < due:
            due = self.first_token
        if active and now + self.idle < due:
            due = now + self.idle
        return due


@dataclass
class OpenAttempt:
    """An attempt whose upstream produced its first content (or a complete empty answer)."""

    deployment: Deployment
    response: httpx.Response
    chunks: AsyncIterator[bytes]
    decoder: Decoder
    state: StreamState
    deadlines: Deadlines
    # The chunks read up to the first content; the client's codec encodes them.
    head: list[Chunk]
    started: float  # perf_counter() when the attempt began
    ttft: float | None
    ended: bool = False
    answer: dict[str, Any] | None = None  # an operation's whole answer (embeddings)

    async def close(self) -> None:
        await _close_quietly(self.response)

    async def finish(self) -> None:
        """After the client has its answer: drain what is left so the connection is reused."""
        try:
            async with asyncio.timeout(DRAIN_SECONDS):
                async for _ in self.chunks:
                    pass
        except (TimeoutError, httpx.TransportError, StopAsyncIteration, RuntimeError):
            pass
        await _close_quietly(self.response)


async def open_attempt(
    transport: httpx.AsyncBaseTransport,
    deployment: Deployment,
    body: dict[str, Any],
    state: StreamState,
    deadlines: Deadlines,
    operation: Operation | None = None,
) -> OpenAttempt:
    """Send the request and read until the first content; raise AttemptError on any failure."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    clock_started = time.perf_counter()
    adapter: Adapter = ADAPTERS[deployment.provider.kind]
    upstream = _translate(adapter, deployment, body, operation)
    request = upstream_request(upstream.url, upstream.headers, upstream.content, deployment.provider.timeouts.connect)
    response: httpx.Response | None = None
    stage = "headers"
    try:
        async with asyncio.timeout_at(deadlines.next_due(started, False, False)) as timer:
            response = await transport.handle_async_request(request)
            if response.status_code >= 400:
                raise adapter.classify_error(
                    deployment, response.status_code, await _bounded_body(response), response.headers
                )
            stage = "first_token"
            opened = OpenAttempt(
                deployment=deployment,
                response=response,
                chunks=aiter(response.stream),  # type: ignore[arg-type]
                decoder=adapter.decoder(deployment) if operation is None else operation.decoder(deployment),
                state=state,
                deadlines=deadlines,
                head=[],
                started=clock_started,
                ttft=None,
            )
            if operation is not None and operation.whole:
                await _read_whole(opened, operation, body)
                return opened
            if not adapter.is_stream(response.headers.get("content-type", "")):
                await _read_json_answer(opened, adapter)
                return opened
            await _read_until_content(opened, timer)
            return opened
    except TimeoutError:
        await _close_quietly(response)
        reason = "no response headers" if stage == "headers" else "no first token"
        raise AttemptError(
            Outcome.TIMEOUT if stage == "headers" else Outcome.STALL,
            f"{reason} from {deployment.provider.name} before the deadline",
        ) from None
    except httpx.ConnectError as exc:
        raise AttemptError(Outcome.CONNECT, f"cannot connect to {deployment.provider.name}: {_short(exc)}") from None
    except httpx.TransportError as exc:
        await _close_quietly(response)
        raise AttemptError(
            Outcome.STREAM_CUT, f"{deployment.provider.name} dropped the stream: {_short(exc)}"
        ) from None
    except AttemptError:
        await _close_quietly(response)
        raise
    except BaseException:
        await _close_quietly(response)
        raise


def _translate(
    adapter: Adapter, deployment: Deployment, body: dict[str, Any], operation: Operation | None = None
) -> UpstreamRequest:
    """An adapter that cannot express this request makes the deployment unsuitable, not the request."""
    try:
        if operation is None:
            return adapter.build_request(deployment, body)
        return operation.build_request(deployment, body)
    except Inexpressible as refused:
        raise AttemptError(
            Outcome.UNSUPPORTED,
            refused.message,
            status=refused.status,
            code=refused.code,
            param=refused.param,
            error_type=refused.type,
        ) from None


async def _read_until_content(opened: OpenAttempt, timer: asyncio.Timeout) -> None:
    loop = asyncio.get_running_loop()
    state = opened.state
    while True:
        timer.reschedule(opened.deadlines.next_due(loop.time(), False, True))
        try:
            raw = await opened.chunks.__anext__()
        except StopAsyncIteration:
            _take(opened, opened.decoder.flush())
            opened.ended = True
            if state.complete or state.content_seen:
                return
            raise AttemptError(
                Outcome.STREAM_CUT, f"{opened.deployment.provider.name} ended the stream before any content"
            ) from None
        if _take(opened, opened.decoder.feed(raw)):
            return
        if opened.ended:
            if not state.complete:
                raise AttemptError(
                    Outcome.STREAM_CUT, f"{opened.deployment.provider.name} ended the stream before any content"
                )
            return


def _take(opened: OpenAttempt, chunks: list[Chunk]) -> bool:
    """Add chunks to the head buffer; True once content arrived. Raises on an error event."""
    state = opened.state
    state.malformed = opened.decoder.malformed
    if opened.decoder.done:
        opened.ended = True
    got_content = False
    for payload, chunk in chunks:
        if "error" in chunk and not chunk.get("choices"):
            raise _stream_error(opened.deployment, chunk)
        if state.observe(chunk) and opened.ttft is None:
            opened.ttft = time.perf_counter() - opened.started
            got_content = True
        opened.head.append((payload, chunk))
    if state.complete and state.usage is not None:
        opened.ended = True
    return got_content


def _stream_error(deployment: Deployment, chunk: dict[str, Any]) -> AttemptError:
    error = chunk.get("error")
    message = error.get("message") if isinstance(error, dict) else str(error)
    return AttemptError(Outcome.SERVER_ERROR, f"{deployment.provider.name} sent an error event: {message}")


async def _read_json_answer(opened: OpenAttempt, adapter: Adapter) -> None:
    """Some providers ignore ``stream: true``; accept a whole JSON completion as the answer."""
    body = b"".join([piece async for piece in opened.chunks])
    completion = adapter.parse_completion(opened.deployment, body)
    for chunk in completion_to_chunks(completion):
        opened.state.observe(chunk)
        opened.head.append((None, chunk))
    opened.ttft = time.perf_counter() - opened.started
    opened.ended = True


async def _read_whole(opened: OpenAttempt, operation: Operation, request: dict[str, Any]) -> None:
    """An operation answered in one JSON body: read it all inside the attempt (a cut is retryable)."""
    body = b"".join([piece async for piece in opened.chunks])
    answer = operation.parse_whole(opened.deployment, body, opened.response.headers)
    state = opened.state
    if answer["usage"] is None:
        tokens = max(1, estimate_prompt_tokens(request))
        answer["usage"] = {"prompt_tokens": tokens, "completion_tokens": 0, "total_tokens": tokens}
    state.usage = answer["usage"]
    state.content_seen = True
    state.finished.add(0)
    opened.answer = answer
    opened.ttft = time.perf_counter() - opened.started
    opened.ended = True


async def _bounded_body(response: httpx.Response) -> bytes:
    body = b""
    async for piece in response.stream:  # type: ignore[union-attr]
        body += piece
        if len(body) > MAX_ERROR_BODY:
            break
    await _close_quietly(response)
    return body


async def _close_quietly(response: httpx.Response | None) -> None:
    if response is not None:
        # Closing a broken stream may fail too; there is nothing left to do about it.
        with contextlib.suppress(Exception):
            await response.stream.aclose()  # type: ignore[union-attr]


def _short(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else exc.__class__.__name__


class StreamBroken(Exception):
    """The upstream failed after content was committed to the client."""

    def __init__(self, failure: Outcome, message: str, provider: str) -> None:
        super().__init__(message)
        self.failure = failure
        self.provider = provider


async def read_rest(opened: OpenAttempt) -> AsyncIterator[list[Chunk]]:
    """Yield the remaining events, batch per network read, until the answer is complete.

    Raises StreamBroken if the upstream dies or stalls before the answer is complete.
    """
    loop = asyncio.get_running_loop()
    state = opened.state
    name = opened.deployment.provider.name
    try:
        async with asyncio.timeout_at(opened.deadlines.next_due(loop.time(), True, True)) as timer:
            while not opened.ended:
                try:
                    raw = await opened.chunks.__anext__()
                except StopAsyncIteration:
                    chunks = opened.decoder.flush()
                    opened.ended = True
                else:
                    chunks = opened.decoder.feed(raw)
                    timer.reschedule(opened.deadlines.next_due(loop.time(), True, True))
                batch = _batch(opened, chunks)
                if batch:
                    yield batch
    except TimeoutError:
        opened.ended = True
        if not state.complete:
            await opened.close()
            raise StreamBroken(Outcome.STALL, f"{name} stalled mid-answer", name) from None
    except httpx.TransportError as exc:
        opened.ended = True
        if not state.complete:
            await opened.close()
            raise StreamBroken(
                Outcome.STREAM_CUT, f"{name} dropped the stream mid-answer: {_short(exc)}", name
            ) from None
    except BaseException:
        await opened.close()
        raise
    if not state.complete:
        await opened.close()
        raise StreamBroken(Outcome.STREAM_CUT, f"{name} ended the stream before the answer was complete", name)


def _batch(opened: OpenAttempt, chunks: list[Chunk]) -> list[Chunk]:
    state = opened.state
    state.malformed = opened.decoder.malformed
    if opened.decoder.done:
        opened.ended = True
    batch = []
    for payload, chunk in chunks:
        if "error" in chunk and not chunk.get("choices"):
            name = opened.deployment.provider.name
            raise StreamBroken(Outcome.SERVER_ERROR, str(_stream_error(opened.deployment, chunk)), name)
        state.observe(chunk)
        batch.append((payload, chunk))
    if state.complete and state.usage is not None:
        # Everything the client needs has arrived; waiting for [DONE] would only add latency.
        opened.ended = True
    return batch

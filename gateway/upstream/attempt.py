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
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson

from gateway.upstream.adapters import ADAPTERS
from gateway.upstream.adapters.base import Adapter, Chunk, Decoder, UpstreamRequest
from gateway.conf.loader import Deployment
from gateway.errors import AttemptError, Failure, GatewayError
from gateway.upstream.transport import upstream_request

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


@dataclass(slots=True)
class StreamState:
    """What the client-facing stream needs to know about the upstream's chunks so far."""

    target_model: str
    wants_usage: bool
    choices: int
    # A streaming client gets SSE bytes per chunk; a non-streaming one gets the chunks aggregated.
    relay: bool = True
    upstream_model: str | None = None
    finished: set[int] = field(default_factory=set)
    usage: dict[str, Any] | None = None
    content_seen: bool = False
    malformed: int = 0
    content_chunks: int = 0
    first_chunk: dict[str, Any] | None = None

    @property
    def complete(self) -> bool:
        return len(self.finished) >= self.choices

    def observe(self, chunk: dict[str, Any]) -> bool:
        """Record a chunk; return True if it carries answer content."""
        if self.first_chunk is None:
            self.first_chunk = chunk
            self.upstream_model = chunk.get("model")
        usage = chunk.get("usage")
        if usage:
            self.usage = usage
        has_content = False
        for choice in chunk.get("choices") or ():
            delta = choice.get("delta") or {}
            if delta.get("content") or delta.get("tool_calls") or delta.get("refusal") or delta.get("function_call"):
                has_content = True
            if choice.get("finish_reason"):
                self.finished.add(choice.get("index", 0))
        if has_content:
            self.content_seen = True
            self.content_chunks += 1
        return has_content

    def client_bytes(self, payload: bytes | None, chunk: dict[str, Any]) -> bytes | None:
        """The SSE event for the client, or None when the client must not see this chunk."""
        if not chunk.get("choices") and chunk.get("usage") and not self.wants_usage:
            return None
        if payload is None or chunk.get("model") != self.target_model:
            chunk["model"] = self.target_model
            payload = orjson.dumps(chunk)
        return b"data: " + payload + b"\n\n"


@dataclass
class OpenAttempt:
    """An attempt whose upstream produced its first content (or a complete empty answer)."""

    deployment: Deployment
    response: httpx.Response
    chunks: AsyncIterator[bytes]
    decoder: Decoder
    state: StreamState
    deadlines: Deadlines
    head: list[bytes]
    started: float  # perf_counter() when the attempt began
    ttft: float | None
    ended: bool = False
    parsed_head: list[dict[str, Any]] = field(default_factory=list)

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
) -> OpenAttempt:
    """Send the request and read until the first content; raise AttemptError on any failure."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    clock_started = time.perf_counter()
    adapter: Adapter = ADAPTERS[deployment.provider.kind]
    upstream = _translate(adapter, deployment, body)
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
                decoder=adapter.decoder(deployment),
                state=state,
                deadlines=deadlines,
                head=[],
                started=clock_started,
                ttft=None,
            )
            if not adapter.is_stream(response.headers.get("content-type", "")):
                await _read_json_answer(opened, adapter)
                return opened
            await _read_until_content(opened, timer)
            return opened
    except TimeoutError:
        await _close_quietly(response)
        reason = "no response headers" if stage == "headers" else "no first token"
        raise AttemptError(
            Failure.TIMEOUT if stage == "headers" else Failure.STALL,
            f"{reason} from {deployment.provider.name} before the deadline",
        ) from None
    except httpx.ConnectError as exc:
        raise AttemptError(Failure.CONNECT, f"cannot connect to {deployment.provider.name}: {_short(exc)}") from None
    except httpx.TransportError as exc:
        await _close_quietly(response)
        raise AttemptError(
            Failure.STREAM_CUT, f"{deployment.provider.name} dropped the stream: {_short(exc)}"
        ) from None
    except AttemptError:
        await _close_quietly(response)
        raise
    except BaseException:
        await _close_quietly(response)
        raise


def _translate(adapter: Adapter, deployment: Deployment, body: dict[str, Any]) -> UpstreamRequest:
    """An adapter that cannot express this request makes the deployment unsuitable, not the request."""
    try:
        return adapter.build_request(deployment, body)
    except GatewayError as refused:
        raise AttemptError(
            Failure.UNSUPPORTED,
            refused.message,
            status=refused.status,
            code=refused.code,
            param=refused.param,
            error_type=refused.type,
        ) from None
    except AttemptError as refused:
        if refused.failure is Failure.CLIENT_ERROR:
            refused.failure = Failure.UNSUPPORTED
        raise


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
                Failure.STREAM_CUT, f"{opened.deployment.provider.name} ended the stream before any content"
            ) from None
        if _take(opened, opened.decoder.feed(raw)):
            return
        if opened.ended:
            if not state.complete:
                raise AttemptError(
                    Failure.STREAM_CUT, f"{opened.deployment.provider.name} ended the stream before any content"
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
        if state.relay:
            event = state.client_bytes(payload, chunk)
            if event is not None:
                opened.head.append(event)
        else:
            opened.parsed_head.append(chunk)
    if state.complete and state.usage is not None:
        opened.ended = True
    return got_content


def _stream_error(deployment: Deployment, chunk: dict[str, Any]) -> AttemptError:
    error = chunk.get("error")
    message = error.get("message") if isinstance(error, dict) else str(error)
    return AttemptError(Failure.SERVER_ERROR, f"{deployment.provider.name} sent an error event: {message}")


async def _read_json_answer(opened: OpenAttempt, adapter: Adapter) -> None:
    """Some providers ignore ``stream: true``; accept a whole JSON completion as the answer."""
    body = b"".join([piece async for piece in opened.chunks])
    completion = adapter.parse_completion(opened.deployment, body)
    for chunk in completion_to_chunks(completion):
        opened.state.observe(chunk)
        if opened.state.relay:
            event = opened.state.client_bytes(None, chunk)
            if event is not None:
                opened.head.append(event)
        else:
            opened.parsed_head.append(chunk)
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

    def __init__(self, failure: Failure, message: str, provider: str) -> None:
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
            raise StreamBroken(Failure.STALL, f"{name} stalled mid-answer", name) from None
    except httpx.TransportError as exc:
        opened.ended = True
        if not state.complete:
            await opened.close()
            raise StreamBroken(
                Failure.STREAM_CUT, f"{name} dropped the stream mid-answer: {_short(exc)}", name
            ) from None
    except BaseException:
        await opened.close()
        raise
    if not state.complete:
        await opened.close()
        raise StreamBroken(Failure.STREAM_CUT, f"{name} ended the stream before the answer was complete", name)


def _batch(opened: OpenAttempt, chunks: list[Chunk]) -> list[Chunk]:
    state = opened.state
    state.malformed = opened.decoder.malformed
    if opened.decoder.done:
        opened.ended = True
    batch = []
    for payload, chunk in chunks:
        if "error" in chunk and not chunk.get("choices"):
            name = opened.deployment.provider.name
            raise StreamBroken(Failure.SERVER_ERROR, str(_stream_error(opened.deployment, chunk)), name)
        state.observe(chunk)
        batch.append((payload, chunk))
    if state.complete and state.usage is not None:
        # Everything the client needs has arrived; waiting for [DONE] would only add latency.
        opened.ended = True
    return batch


def completion_to_chunks(completion: dict[str, Any]) -> list[dict[str, Any]]:
    base = {
        "id": completion.get("id", ""),
        "object": "chat.completion.chunk",
        "created": completion.get("created", int(time.time())),
        "model": completion.get("model"),
    }
    chunks = []
    for choice in completion.get("choices") or ():
        message = choice.get("message") or {}
        delta = {key: value for key, value in message.items() if value is not None}
        chunks.append({**base, "choices": [{"index": choice.get("index", 0), "delta": delta, "finish_reason": None}]})
        chunks.append(
            {
                **base,
                "choices": [
                    {
                        "index": choice.get("index", 0),
                        "delta": {},
                        "finish_reason": choice.get("finish_reason") or "stop",
                    }
                ],
            }
        )
    if completion.get("usage"):
        chunks.append({**base, "choices": [], "usage": completion["usage"]})
    return chunks


def aggregate(chunks: list[dict[str, Any]], state: StreamState) -> dict[str, Any]:
    """Build a chat.completion object from the chunks of a streamed answer."""
    first = chunks[0] if chunks else {}
    choices: dict[int, dict[str, Any]] = {}
    for chunk in chunks:
        for choice in chunk.get("choices") or ():
            index = choice.get("index", 0)
            target = choices.get(index)
            if target is None:
                target = choices[index] = _empty_choice(index)
            _merge_choice(target, choice)
    result: dict[str, Any] = {
        "id": first.get("id", ""),
        "object": "chat.completion",
        "created": first.get("created", int(time.time())),
        "model": state.target_model,
        "choices": [_finish_choice(choices[index]) for index in sorted(choices)],
        "usage": state.usage,
    }
    if first.get("system_fingerprint"):
        result["system_fingerprint"] = first["system_fingerprint"]
    return result


def _empty_choice(index: int) -> dict[str, Any]:
    return {
        "index": index,
        "content": [],
        "refusal": [],
        "tool_calls": {},
        "finish_reason": None,
        "logprobs": None,
        "role": "assistant",
    }


def _merge_choice(target: dict[str, Any], choice: dict[str, Any]) -> None:
    delta = choice.get("delta") or {}
    if delta.get("content"):
        target["content"].append(delta["content"])
    if delta.get("refusal"):
        target["refusal"].append(delta["refusal"])
    for call in delta.get("tool_calls") or ():
        slot = target["tool_calls"].setdefault(
            call.get("index", 0), {"id": None, "type": "function", "function": {"name": "", "arguments": ""}}
        )
        if call.get("id"):
            slot["id"] = call["id"]
        function = call.get("function") or {}
        slot["function"]["name"] += function.get("name") or ""
        slot["function"]["arguments"] += function.get("arguments") or ""
    if choice.get("finish_reason"):
        target["finish_reason"] = choice["finish_reason"]
    logprobs = choice.get("logprobs")
    if logprobs and logprobs.get("content"):
        if target["logprobs"] is None:
            target["logprobs"] = {"content": []}
        target["logprobs"]["content"].extend(logprobs["content"])


def _finish_choice(choice: dict[str, Any]) -> dict[str, Any]:
    message: dict[str, Any] = {
        "role": "assistant",
        "content": "".join(choice["content"]) if choice["content"] or not choice["tool_calls"] else None,
        "refusal": "".join(choice["refusal"]) or None,
    }
    if choice["tool_calls"]:
        message["tool_calls"] = [choice["tool_calls"][i] for i in sorted(choice["tool_calls"])]
    return {
        "index": choice["index"],
        "message": message,
        "logprobs": choice["logprobs"],
        "finish_reason": choice["finish_reason"] or "stop",
    }

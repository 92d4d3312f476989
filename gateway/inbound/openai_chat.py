"""OpenAI's chat completions API (``POST /v1/chat/completions``).

The job body is the client's own body: the codec only encodes what comes back, passing the
upstream's SSE events through untouched where they already are what the client expects.
"""

from __future__ import annotations

import time
from typing import Any

import orjson

from gateway.errors import GatewayError, error_body
from gateway.pipeline import Headers, RequestHeaders, Scope, handle, stream_interrupted
from gateway.routing.failover import Job
from gateway.runtime import Runtime
from gateway.upstream.adapters.base import Chunk
from gateway.upstream.attempt import OpenAttempt, StreamBroken
from gateway.upstream.chunks import StreamState
from gateway.usage import estimated_usage

DONE_EVENT = b"data: [DONE]\n\n"


class OpenAIChat:
    inbound = "openai.chat"
    stateful = False

    def credential(self, request: RequestHeaders) -> bytes:
        return request.authorization

    def missing_key(self) -> GatewayError:
        return GatewayError(
            401,
            "You didn't provide an API key. Send it in an Authorization header: 'Authorization: Bearer YOUR_KEY'.",
            code="missing_api_key",
        )

    def decode(self, body: dict[str, Any]) -> dict[str, Any]:
        return body

    def headers(self, request_id: str) -> Headers:
        return [(b"x-request-id", request_id.encode())]

    def error_body(self, error: GatewayError, request_id: str) -> bytes:
        return error.body()

    def answer(self, job: Job, completion: dict[str, Any]) -> bytes:
        return orjson.dumps(completion)

    def stream(self, job: Job, state: StreamState) -> ChatEvents:
        return ChatEvents(job, state)


class ChatEvents:
    """OpenAI chunks out as OpenAI SSE events: the upstream's own bytes whenever they fit."""

    def __init__(self, job: Job, state: StreamState) -> None:
        self.job = job
        self.state = state

    def event(self, payload: bytes | None, chunk: dict[str, Any]) -> bytes | None:
        """The SSE event for the client, or None when the client must not see this chunk."""
        if not chunk.get("choices") and chunk.get("usage") and not self.job.wants_usage:
            return None
        if payload is None or chunk.get("model") != self.state.target_model:
            chunk["model"] = self.state.target_model
            payload = orjson.dumps(chunk)
        return b"data: " + payload + b"\n\n"

    def head(self, opened: OpenAttempt) -> bytes:
        return self.batch(opened.head)

    def batch(self, batch: list[Chunk]) -> bytes:
        return b"".join(e for e in (self.event(p, c) for p, c in batch) if e is not None)

    def tail(self) -> bytes:
        if self.job.wants_usage and self.state.usage is None:
            return self._usage_event() + DONE_EVENT
        return DONE_EVENT

    def error(self, broken: StreamBroken) -> bytes:
        return b"data: " + error_body(stream_interrupted(broken), "server_error", "stream_interrupted") + b"\n\n"

    def _usage_event(self) -> bytes:
        first = self.state.first_chunk or {}
        chunk = {
            "id": first.get("id", ""),
            "object": "chat.completion.chunk",
            "created": first.get("created", int(time.time())),
            "model": self.state.target_model,
            "choices": [],
            "usage": estimated_usage(self.job.body, self.state),
        }
        return b"data: " + orjson.dumps(chunk) + b"\n\n"


CODEC = OpenAIChat()


async def chat_completions(runtime: Runtime, scope: Scope, receive: Any, send: Any) -> None:
    await handle(runtime, CODEC, scope, receive, send)

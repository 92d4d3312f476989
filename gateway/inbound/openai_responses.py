"""OpenAI's Responses API (``POST /v1/responses``) in front of the same failover as chat completions.

The request becomes an OpenAI chat request (gateway/inbound/responses_request.py), so every
deployment of the model can serve it whatever its wire format, and the chat answer goes back
as a ``response`` object or as Responses SSE events (gateway/inbound/responses_output.py).
Auth, errors and headers are those of the chat endpoint: the same clients and SDKs call both.
"""

from __future__ import annotations

import time
from typing import Any

import orjson

from gateway.inbound.openai_chat import OpenAIChat
from gateway.inbound.responses_output import Envelope, ResponseEvents, to_response
from gateway.inbound.responses_request import DEFAULTS, to_chat
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

    def __init__(self) -> None:
        self.envelope = Envelope(DEFAULTS, int(time.time()))

    def decode(self, body: dict[str, Any]) -> dict[str, Any]:
        chat, self.envelope.echo = to_chat(body)
        return chat

    def answer(self, job: Job, completion: dict[str, Any]) -> bytes:
        return orjson.dumps(to_response(self.envelope, completion))

    def stream(self, job: Job, state: StreamState) -> ResponsesStream:  # type: ignore[override]
        return ResponsesStream(job, state, ResponseEvents(self.envelope, state.target_model))


class ResponsesStream:
    def __init__(self, job: Job, state: StreamState, events: ResponseEvents) -> None:
        self.job = job
        self.state = state
        self.events = events

    def head(self, opened: OpenAttempt) -> bytes:
        return self.events.start() + self.batch(opened.head)

    def batch(self, batch: list[Chunk]) -> bytes:
        out: list[bytes] = []
        for _, chunk in batch:
            self.events.chunk(chunk, out)
        return b"".join(out)

    def tail(self) -> bytes:
        return self.events.end(self.state.usage or estimated_usage(self.job.body, self.state))

    def error(self, broken: StreamBroken) -> bytes:
        return self.events.failed(stream_interrupted(broken), self.state.usage)


async def responses(runtime: Runtime, scope: Scope, receive: Any, send: Any) -> None:
    await handle(runtime, OpenAIResponses(), scope, receive, send)

"""OpenAI's legacy completions API (``POST /v1/completions``), where a deployment offers it.

The upstream's ``text_completion`` events pass through untouched when they already name the
gateway's model; otherwise (and for whole answers) they are rebuilt from the chat chunks the
operation read them as (gateway.upstream.completions).
"""

from __future__ import annotations

import time
from typing import Any

import orjson

from gateway.inbound.openai_chat import ChatEvents, OpenAIChat
from gateway.pipeline import Scope, handle
from gateway.routing.failover import Job
from gateway.runtime import Runtime
from gateway.upstream.chunks import StreamState
from gateway.upstream.completions import COMPLETIONS, check_request
from gateway.usage import estimated_usage

TEXT_COMPLETION = "text_completion"


class OpenAICompletions(OpenAIChat):
    inbound = "openai.completions"

    def decode(self, body: dict[str, Any]) -> dict[str, Any]:
        check_request(body)
        return body

    def answer(self, job: Job, completion: dict[str, Any]) -> bytes:
        choices = [
            {
                "text": choice["message"].get("content") or "",
                "index": choice["index"],
                "logprobs": None,
                "finish_reason": choice["finish_reason"],
            }
            for choice in completion["choices"]
        ]
        return orjson.dumps({**completion, "object": TEXT_COMPLETION, "choices": choices})

    def stream(self, job: Job, state: StreamState) -> TextEvents:
        return TextEvents(job, state)


class TextEvents(ChatEvents):
    """Chat chunks out as legacy ``text_completion`` SSE events."""

    def event(self, payload: bytes | None, chunk: dict[str, Any]) -> bytes | None:
        if not chunk.get("choices") and chunk.get("usage") and not self.job.wants_usage:
            return None
        if payload is None or chunk.get("model") != self.state.target_model:
            payload = orjson.dumps(text_chunk(chunk, self.state.target_model))
        return b"data: " + payload + b"\n\n"

    def _usage_event(self) -> bytes:
        first = self.state.first_chunk or {}
        chunk = {
            "id": first.get("id", ""),
            "object": TEXT_COMPLETION,
            "created": first.get("created", int(time.time())),
            "model": self.state.target_model,
            "choices": [],
            "usage": estimated_usage(self.job.body, self.state),
        }
        return b"data: " + orjson.dumps(chunk) + b"\n\n"


def text_chunk(chunk: dict[str, Any], model: str) -> dict[str, Any]:
    choices = [
        {
            "text": (choice.get("delta") or {}).get("content") or "",
            "index": choice.get("index", 0),
            "logprobs": choice.get("logprobs"),
            "finish_reason": choice.get("finish_reason"),
        }
        for choice in chunk.get("choices") or ()
    ]
    return {**chunk, "object": TEXT_COMPLETION, "model": model, "choices": choices}


CODEC = OpenAICompletions()


async def completions(runtime: Runtime, scope: Scope, receive: Any, send: Any) -> None:
    await handle(runtime, CODEC, scope, receive, send, COMPLETIONS)

"""OpenAI's legacy completions (`POST /{provider}/v1/completions`) and Azure's
(`POST /{provider}/openai/deployments/{deployment}/completions?api-version=...`): the chat
handler's canned answers, accounting and faults, rendered as `text_completion` objects and events.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from aiohttp import web

from simulator import delivery
from simulator.azure_format import MISSING_VERSION, AzureChat
from simulator.model import ChatRequest, Reply, StreamScript
from simulator.openai_format import DONE_EVENT, OpenAIChat, invalid, positive_int, usage

OBJECT = "text_completion"


def prompt_chars(prompt: Any) -> int:
    if isinstance(prompt, str):
        return len(prompt)
    if isinstance(prompt, list) and prompt:
        return sum(len(p) if isinstance(p, str) else 4 * (len(p) if isinstance(p, list) else 1) for p in prompt)
    raise invalid("'prompt' must be a string, an array of strings or token arrays.", "prompt")


class LegacyCompletions(OpenAIChat):
    def parse(self, body: dict[str, Any] | None, model: str) -> ChatRequest:
        if body is None:
            raise invalid("We could not parse the JSON body of your request.")
        if not model:
            raise invalid("you must provide a model parameter", "model")
        if "messages" in body:
            raise invalid("Unrecognized request argument supplied: messages", "messages")
        options = body.get("stream_options")
        return ChatRequest(
            model=model,
            stream=body.get("stream") is True,
            n=min(positive_int(body, "n") or 1, 128),
            include_usage=isinstance(options, Mapping) and options.get("include_usage") is True,
            prompt_chars=prompt_chars(body.get("prompt")),
            max_tokens=positive_int(body, "max_tokens"),
        )

    def render_completion(self, reply: Reply) -> bytes:
        choices = [
            {"text": reply.text, "index": i, "logprobs": None, "finish_reason": reply.finish_reason}
            for i in range(reply.n)
        ]
        return orjson.dumps({**_head(reply), "choices": choices, "usage": usage(reply)})

    def render_stream(self, reply: Reply) -> StreamScript:
        head = _head(reply)

        def event(index: int, text: str, finish: str | None = None) -> bytes:
            choice = {"text": text, "index": index, "logprobs": None, "finish_reason": finish}
            return b"data: " + orjson.dumps({**head, "choices": [choice]}) + b"\n\n"

        content = tuple(event(i, piece) for piece in reply.text_pieces for i in range(reply.n))
        tail = [event(i, "", reply.finish_reason) for i in range(reply.n)]
        if reply.include_usage:
            tail.append(b"data: " + orjson.dumps({**head, "choices": [], "usage": usage(reply)}) + b"\n\n")
        return StreamScript((), content, tuple(tail), DONE_EVENT)


def _head(reply: Reply) -> dict[str, Any]:
    return {"id": reply.response_id.replace("chatcmpl", "cmpl"), "object": OBJECT, "created": reply.created,
            "model": reply.model}  # fmt: skip


class AzureLegacyCompletions(LegacyCompletions, AzureChat):
    pass


def mount(app: web.Application) -> None:
    from simulator.server import STATE_KEY, ChatHandler

    state = app[STATE_KEY]
    app.router.add_post("/{provider}/v1/completions", ChatHandler(state, LegacyCompletions()).handle)
    azure = ChatHandler(state, AzureLegacyCompletions())

    async def azure_handle(request: web.Request) -> web.StreamResponse:
        if "api-version" not in request.query:
            return delivery.error_response(azure.fmt, MISSING_VERSION)
        return await azure.handle(request)

    app.router.add_post("/{provider}/openai/deployments/{deployment}/completions", azure_handle)

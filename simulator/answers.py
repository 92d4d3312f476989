"""Deterministic canned answers, independent of any wire format."""

from __future__ import annotations

import itertools
import json
import time
import zlib
from functools import lru_cache
from typing import Any

import orjson

from simulator import schema_values
from simulator.model import ChatRequest, Reply, ToolCall

FILLER_WORDS = (
    " The", " quick", " brown", " fox", " jumps", " over", " the", " lazy", " dog",
    " while", " simulated", " tokens", " stream", " steadily", " across", " the", " wire",
)  # fmt: skip
ARGUMENT_PIECE_CHARS = 5  # a streamed tool call's arguments come in pieces of about this size
MAX_ARGUMENT_PIECES = 64


class IdSource:
    """Monotonic counters for response and tool-call ids (per simulator instance)."""

    def __init__(self) -> None:
        self._responses = itertools.count(1)
        self._calls = itertools.count(1)

    def response_id(self) -> str:
        return f"chatcmpl-sim-{next(self._responses)}"

    def call_id(self) -> str:
        return f"call_sim_{next(self._calls)}"


@lru_cache(maxsize=4096)
def greeting_pieces(provider: str, model: str, tokens: int, images: int) -> tuple[str, ...]:
    note = "" if not images else f" ({images} image{'s' if images > 1 else ''})"
    filler = itertools.islice(itertools.cycle(FILLER_WORDS), max(tokens - 1, 0))
    return (f"Hello from {provider}/{model}{note}.", *filler)


@lru_cache(maxsize=4096)
def json_pieces(provider: str, model: str, tokens: int) -> tuple[str, ...]:
    text = orjson.dumps({"provider": provider, "model": model, "answer": "hello"}).decode()
    return split_evenly(text, tokens)


def body_seed(body: Any) -> int:
    """The seed of a request's generated values: the same body gets the same answer."""
    return zlib.crc32(orjson.dumps(body, option=orjson.OPT_SORT_KEYS))


def prompt_schema(system: str) -> Any:
    """The JSON Schema a prompt asks the answer to follow ("...schema: {...}"), or None: gateways
    that emulate structured output on a prompt-only API, and clients' JSON modes, put it there."""
    at = system.lower().find("schema:")
    start = system.find("{", at) if at >= 0 else -1
    if start < 0:
        return None
    try:
        schema, _ = json.JSONDecoder().raw_decode(system, start)
    except ValueError:
        return None
    return schema if isinstance(schema, dict) else None


def schema_text(schema: Any, seed: int, invalid: bool, *, top_object: bool = False) -> str:
    make = schema_values.violation if invalid else schema_values.instance
    return json.dumps(make(schema, seed, top_object=top_object), ensure_ascii=False)


def split_evenly(text: str, parts: int) -> tuple[str, ...]:
    parts = max(1, min(parts, len(text)))
    size, extra = divmod(len(text), parts)
    bounds = itertools.accumulate(size + (i < extra) for i in range(parts))
    starts = [0, *bounds]
    return tuple(text[a:b] for a, b in itertools.pairwise(starts))


def tool_result_pieces(content: str) -> tuple[str, ...]:
    words = f"Tool said: {content}".split(" ")
    return (words[0], *(" " + word for word in words[1:]))


def chosen_tool(request: ChatRequest) -> str | None:
    """A named tool choice is always obeyed; otherwise a tool result is answered in text."""
    if not request.tool_names or request.tool_choice_none:
        return None
    if request.forced_tool is not None:
        return request.forced_tool
    return None if request.tool_result is not None else request.tool_names[0]


def text_pieces(request: ChatRequest, provider: str, tokens: int, invalid: bool) -> tuple[str, ...]:
    if request.tool_result is not None:
        return tool_result_pieces(request.tool_result)
    if request.json_mode and request.output_schema is not None:
        return split_evenly(schema_text(request.output_schema, request.seed, invalid), tokens)
    if request.json_mode:
        pieces = json_pieces(provider, request.model, tokens)
        return (pieces[:-1] or ("{",)) if invalid else pieces  # cut short: not JSON at all
    return greeting_pieces(provider, request.model, tokens, request.image_count)


def tool_call(request: ChatRequest, tool: str, choice: int, ids: IdSource, invalid: bool) -> ToolCall:
    index = request.tool_names.index(tool) if tool in request.tool_names else -1
    schema = request.tool_schemas[index] if 0 <= index < len(request.tool_schemas) else {}
    arguments = schema_text(schema, request.seed + choice, invalid, top_object=True)
    parts = min(max(len(arguments) // ARGUMENT_PIECE_CHARS, 3), MAX_ARGUMENT_PIECES)
    return ToolCall(ids.call_id(), tool, arguments, split_evenly(arguments, parts))


def build_reply(request: ChatRequest, provider: str, tokens: int, ids: IdSource, *, invalid: bool = False) -> Reply:
    """The canned answer; ``invalid`` (the `invalid_output` fault) breaks tool arguments' and
    structured answers' schemas."""
    tool = chosen_tool(request)
    pieces: tuple[str, ...] = ()
    calls: tuple[ToolCall, ...] = ()
    if tool is not None:
        calls = tuple(tool_call(request, tool, i, ids, invalid) for i in range(request.n))
        finish, produced = "tool_calls", max(len(call.argument_pieces) for call in calls)
    else:
        pieces = text_pieces(request, provider, tokens, invalid)
        finish = "stop"
        # max_tokens truncates like a real provider, so gateways can test finish_reason=length.
        if request.max_tokens is not None and request.max_tokens < len(pieces):
            pieces, finish = pieces[: request.max_tokens], "length"
        produced = len(pieces)
    return Reply(
        response_id=ids.response_id(),
        created=int(time.time()),
        model=request.model,
        text_pieces=pieces,
        tool_calls=calls,
        n=request.n,
        finish_reason=finish,
        prompt_tokens=max(1, request.prompt_chars // 4),
        completion_tokens=produced * request.n,
        include_usage=request.include_usage,
    )

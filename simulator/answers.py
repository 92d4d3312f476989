"""Deterministic canned answers, independent of any wire format."""

from __future__ import annotations

import itertools
import time
from functools import lru_cache

import orjson

from simulator.model import ChatRequest, Reply, ToolCall

FILLER_WORDS = (
    " The", " quick", " brown", " fox", " jumps", " over", " the", " lazy", " dog",
    " while", " simulated", " tokens", " stream", " steadily", " across", " the", " wire",
)  # fmt: skip
TOOL_ARGUMENTS = '{"sim": true}'
TOOL_ARGUMENT_PIECES = ('{"sim"', ": true", "}")


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
    if not request.tool_names or request.tool_choice_none or request.tool_result is not None:
        return None
    return request.forced_tool or request.tool_names[0]


def text_pieces(request: ChatRequest, provider: str, tokens: int) -> tuple[str, ...]:
    if request.tool_result is not None:
        return tool_result_pieces(request.tool_result)
    if request.json_mode:
        return json_pieces(provider, request.model, tokens)
    return greeting_pieces(provider, request.model, tokens, request.image_count)


def build_reply(request: ChatRequest, provider: str, tokens: int, ids: IdSource) -> Reply:
    tool = chosen_tool(request)
    pieces: tuple[str, ...] = ()
    calls: tuple[ToolCall, ...] = ()
    if tool is not None:
        calls = tuple(ToolCall(ids.call_id(), tool, TOOL_ARGUMENTS, TOOL_ARGUMENT_PIECES) for _ in range(request.n))
        finish, produced = "tool_calls", len(TOOL_ARGUMENT_PIECES)
    else:
        pieces = text_pieces(request, provider, tokens)
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

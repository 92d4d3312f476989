"""Wire-format-neutral data types shared by the answer logic, the faults and the formats.

A wire format (OpenAI today; Anthropic, Gemini, ... later) translates its request body into a
`ChatRequest`, and renders a `Reply` / `ErrorSpec` back into bytes. Everything in between —
canned answers, fault decisions, delivery timing — only ever sees these types.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import orjson


@dataclass(frozen=True, slots=True)
class ChatRequest:
    model: str
    stream: bool = False
    n: int = 1
    include_usage: bool = False
    json_mode: bool = False
    tool_names: tuple[str, ...] = ()
    tool_choice_none: bool = False
    forced_tool: str | None = None
    tool_result: str | None = None  # content of the last message when it is a tool result
    image_count: int = 0
    prompt_chars: int = 0
    max_tokens: int | None = None
    tool_schemas: tuple[Any, ...] = ()  # each tool's parameter schema, in `tool_names` order
    output_schema: Any = None  # the JSON Schema a structured answer must follow
    seed: int = 0  # from the request body: the same request gets the same generated values


@dataclass(frozen=True, slots=True)
class ToolCall:
    call_id: str
    name: str
    arguments: str
    argument_pieces: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Reply:
    """A complete canned answer; `choices` holds one entry per `n`."""

    response_id: str
    created: int
    model: str
    text_pieces: tuple[str, ...]
    tool_calls: tuple[ToolCall, ...]  # one per choice when answering with a tool call, else ()
    n: int
    finish_reason: str
    prompt_tokens: int
    completion_tokens: int
    include_usage: bool

    @property
    def text(self) -> str:
        return "".join(self.text_pieces)

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True, slots=True)
class ErrorSpec:
    status: int
    message: str
    type: str
    code: str | None = None
    param: str | None = None
    retry_after: str | None = None


@dataclass(frozen=True, slots=True)
class StreamScript:
    """The events of one streamed answer, split where faults need to cut in.

    `head` is sent together with the first content event (so `ttft` delays the first byte of
    the body), `content` events are the ones counted by `after: N`, `tail` holds the finish
    and usage events, and `done` is the terminator (`None` if the format has none).
    """

    head: tuple[bytes, ...]
    content: tuple[bytes, ...]
    tail: tuple[bytes, ...]
    done: bytes | None


class InvalidRequest(Exception):
    def __init__(self, error: ErrorSpec) -> None:
        super().__init__(error.message)
        self.error = error


class WireFormat(Protocol):
    """What the server needs from a provider wire format (see `openai_format.OpenAIChat`)."""

    stream_content_type: str
    malformed_event: bytes

    def decode(self, raw: bytes) -> dict[str, Any] | None: ...

    def model_of(self, body: dict[str, Any] | None, match_info: Mapping[str, str]) -> str: ...

    def parse(self, body: dict[str, Any] | None, model: str) -> ChatRequest: ...

    def render_completion(self, reply: Reply) -> bytes: ...

    def render_stream(self, reply: Reply) -> StreamScript: ...

    def render_error(self, error: ErrorSpec) -> bytes: ...


class JsonBodyFormat:
    """The parts of a `WireFormat` every JSON-bodied provider API shares."""

    def decode(self, raw: bytes) -> dict[str, Any] | None:
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return None
        return body if isinstance(body, dict) else None

    def model_of(self, body: dict[str, Any] | None, match_info: Mapping[str, str]) -> str:
        """The model named in the body; formats that carry it in the URL override this."""
        model = body.get("model") if body is not None else None
        return model if isinstance(model, str) else ""

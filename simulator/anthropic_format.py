"""Anthropic Messages wire format (`POST /{provider}/v1/messages`), from Anthropic's API reference.

Requests are validated the way the real API does for the mistakes a translating client can
make (missing `max_tokens`, a `system` role inside `messages`, empty text blocks, a
`tool_result` without its `tool_use`, a tool name the API rejects); answers and errors use
Anthropic's shapes, and streams carry the `event:` lines Anthropic sends. Answers are JSON for
structured outputs (`output_config.format`) and, as Claude follows a system prompt asking for
JSON, when the system prompt mentions "JSON".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import orjson

from simulator.answers import body_seed, prompt_schema
from simulator.faults import KIND_ERRORS, STATUS_ERRORS
from simulator.model import ChatRequest, ErrorSpec, InvalidRequest, JsonBodyFormat, Reply, StreamScript

MALFORMED_EVENT = b"event: content_block_delta\ndata: {not json\n\n"
ROLES = ("user", "assistant")
TOOL_NAME = re.compile(r"[a-zA-Z0-9_-]{1,64}")
IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})
TOOL_CHOICES = frozenset({"auto", "any", "tool", "none"})
STOP_REASONS = {"stop": "end_turn", "length": "max_tokens", "tool_calls": "tool_use", "content_filter": "refusal"}
ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}
KNOWN_TYPES = frozenset(ERROR_TYPES.values()) | {"timeout_error"}
# Anthropic's wording for the simulator's default (OpenAI-worded) fault messages.
MESSAGES_BY_CODE = {
    "context_length_exceeded": "prompt is too long: 9000 tokens > 8192 maximum",
    "content_filter": "Output blocked by content filtering policy",
}
MESSAGES_BY_TYPE = {
    "invalid_request_error": "Invalid request.",
    "authentication_error": "invalid x-api-key",
    "billing_error": "Your credit balance is too low to access the Anthropic API.",
    "permission_error": "Your API key does not have permission to use the specified resource.",
    "not_found_error": "model: not found",
    "rate_limit_error": "This request would exceed your organization's rate limit. Please try again later.",
    "api_error": "Internal server error",
    "overloaded_error": "Overloaded",
}
DEFAULT_MESSAGES = frozenset(
    [entry[0] for entry in STATUS_ERRORS.values()] + [error.message for error in KIND_ERRORS.values()]
)


# ---------------------------------------------------------------- request parsing


def invalid(message: str) -> InvalidRequest:
    return InvalidRequest(ErrorSpec(400, message, "invalid_request_error"))


def positive_int(body: Mapping[str, Any], key: str) -> int:
    value = body.get(key)
    if value is None:
        raise invalid(f"{key}: Field required")
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise invalid(f"{key}: Input should be a valid integer greater than or equal to 1")
    return value


def system_text(system: Any) -> str:
    if system is None:
        return ""
    if isinstance(system, str):
        return system
    if isinstance(system, list) and all(isinstance(b, Mapping) and b.get("type") == "text" for b in system):
        return "".join(str(b.get("text", "")) for b in system)
    raise invalid("system: Input should be a valid string or a list of text blocks")


class MessageScan:
    """Prompt characters, images and the trailing tool result, validated block by block."""

    def __init__(self) -> None:
        self.chars = 0
        self.images = 0
        self.tool_result: str | None = None
        self.tool_use_ids: set[str] = set()

    def message(self, index: int, message: Any) -> None:
        if not isinstance(message, Mapping):
            raise invalid(f"messages.{index}: Input should be a valid dictionary")
        role = message.get("role")
        if role == "system":
            raise invalid(
                'messages: Unexpected role "system". The Messages API accepts a top-level `system` '
                'parameter, not "system" as an input message role.'
            )
        if role not in ROLES:
            raise invalid(f"messages.{index}.role: Input should be 'user' or 'assistant'")
        content = message.get("content")
        if isinstance(content, str):
            self.chars += len(content)
            blocks: list[Any] = []
        elif isinstance(content, list):
            blocks = content
        else:
            raise invalid(f"messages.{index}.content: Input should be a valid string or list")
        previous_ids, self.tool_use_ids = self.tool_use_ids, set()
        self.tool_result = None
        for position, block in enumerate(blocks):
            self.block(f"messages.{index}.content.{position}", block, previous_ids)

    def block(self, where: str, block: Any, previous_ids: set[str]) -> None:
        kind = block.get("type") if isinstance(block, Mapping) else None
        if kind == "text":
            text = block.get("text")
            if not isinstance(text, str) or not text:
                raise invalid(f"{where}: text content blocks must be non-empty")
            self.chars += len(text)
        elif kind == "image":
            self.image(where, block.get("source"))
        elif kind == "tool_use":
            if not isinstance(block.get("id"), str) or not isinstance(block.get("input"), Mapping):
                raise invalid(f"{where}: tool_use blocks need an `id` and an object `input`")
            self.tool_use_ids.add(block["id"])
        elif kind == "tool_result":
            if block.get("tool_use_id") not in previous_ids:
                raise invalid(
                    f"{where}: unexpected `tool_use_id` found in `tool_result` blocks: "
                    f"{block.get('tool_use_id')}. Each `tool_result` block must have a corresponding "
                    "`tool_use` block in the previous message."
                )
            self.tool_result = result_text(block.get("content"))
        elif kind not in ("document", "thinking", "redacted_thinking"):
            raise invalid(
                f"{where}.type: Input tag {kind!r} found using 'type' does not match any of the expected tags"
            )

    def image(self, where: str, source: Any) -> None:
        if not isinstance(source, Mapping):
            raise invalid(f"{where}.source: Field required")
        if source.get("type") == "base64":
            if source.get("media_type") not in IMAGE_TYPES or not source.get("data"):
                raise invalid(f"{where}.source.media_type: Input should be one of {', '.join(sorted(IMAGE_TYPES))}")
        elif source.get("type") != "url" or not isinstance(source.get("url"), str):
            raise invalid(f"{where}.source: expected a base64 or url image source")
        self.images += 1


def result_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(str(b.get("text", "")) for b in content if isinstance(b, Mapping) and b.get("type") == "text")
    return ""


def tool_names(tools: Any) -> tuple[str, ...]:
    if tools is None:
        return ()
    if not isinstance(tools, list):
        raise invalid("tools: Input should be a valid list")
    names = []
    for index, tool in enumerate(tools):
        name = tool.get("name") if isinstance(tool, Mapping) else None
        if not isinstance(name, str) or not TOOL_NAME.fullmatch(name):
            raise invalid(f"tools.{index}.custom.name: String should match pattern '^[a-zA-Z0-9_-]{{1,64}}$'")
        schema = tool.get("input_schema")
        if not isinstance(schema, Mapping) or schema.get("type") != "object":
            raise invalid(f"tools.{index}.custom.input_schema.type: Input should be 'object'")
        names.append(name)
    return tuple(names)


def tool_choice(choice: Any, names: tuple[str, ...]) -> tuple[bool, str | None]:
    """(tool use disabled, forced tool name)."""
    if choice is None:
        return False, None
    kind = choice.get("type") if isinstance(choice, Mapping) else None
    if kind not in TOOL_CHOICES:
        raise invalid("tool_choice.type: Input should be 'auto', 'any', 'tool' or 'none'")
    if kind == "tool":
        name = choice.get("name")
        if name not in names:
            raise invalid(f"tool_choice.name: Tool '{name}' not found in tools")
        return False, name
    return kind == "none", names[0] if kind == "any" and names else None


def sampling(body: Mapping[str, Any]) -> None:
    for key, low, high in (("temperature", 0.0, 1.0), ("top_p", 0.0, 1.0)):
        value = body.get(key)
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high
        ):
            raise invalid(f"{key}: range: {low:g}..{high:g}")
    stops = body.get("stop_sequences")
    if stops is not None and (not isinstance(stops, list) or not all(isinstance(s, str) for s in stops)):
        raise invalid("stop_sequences: Input should be a valid list of strings")


def output_format(config: Any) -> Any:
    """The JSON Schema `output_config.format` asks structured output to follow, or None."""
    if config is None:
        return None
    fmt = config.get("format") if isinstance(config, Mapping) else None
    if fmt is None:
        return None
    if not isinstance(fmt, Mapping) or fmt.get("type") != "json_schema" or not isinstance(fmt.get("schema"), Mapping):
        raise invalid("output_config.format: expected {type: json_schema, schema: {...}}")
    return fmt["schema"]


def parse_messages(body: dict[str, Any] | None, model: str) -> ChatRequest:
    if body is None:
        raise invalid("There was an error parsing the body of your request: it is not valid JSON.")
    if not model:
        raise invalid("model: Field required")
    max_tokens = positive_int(body, "max_tokens")
    messages = body.get("messages")
    if messages is None:
        raise invalid("messages: Field required")
    if not isinstance(messages, list) or not messages:
        raise invalid("messages: at least one message is required")
    system = system_text(body.get("system"))
    scan = MessageScan()
    for index, message in enumerate(messages):
        scan.message(index, message)
    sampling(body)
    names = tool_names(body.get("tools"))
    disabled, forced = tool_choice(body.get("tool_choice"), names)
    schema = output_format(body.get("output_config"))
    if schema is None and "JSON" in system:
        schema = prompt_schema(system)
    return ChatRequest(
        model=model,
        stream=body.get("stream") is True,
        include_usage=True,
        json_mode="JSON" in system or schema is not None,
        tool_names=names,
        tool_schemas=tuple(tool["input_schema"] for tool in body.get("tools") or ()),
        output_schema=schema,
        seed=body_seed(body) if names or schema is not None else 0,
        tool_choice_none=disabled,
        forced_tool=forced,
        tool_result=scan.tool_result,
        image_count=scan.images,
        prompt_chars=scan.chars + len(system),
        max_tokens=max_tokens,
    )


# ---------------------------------------------------------------- rendering


def message_id(reply: Reply) -> str:
    return "msg_" + reply.response_id.removeprefix("chatcmpl-").replace("-", "_")


def tool_use_id(call_id: str) -> str:
    return "toolu_" + call_id.removeprefix("call_")


def start_usage(reply: Reply) -> dict[str, int]:
    return {
        "input_tokens": reply.prompt_tokens,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
        "output_tokens": 1,
    }


def content_blocks(reply: Reply) -> list[dict[str, Any]]:
    if reply.tool_calls:
        call = reply.tool_calls[0]
        block = {"type": "tool_use", "id": tool_use_id(call.call_id), "name": call.name,
                 "input": orjson.loads(call.arguments)}  # fmt: skip
        return [block]
    return [{"type": "text", "text": reply.text}]


def render_completion(reply: Reply) -> bytes:
    usage = {**start_usage(reply), "output_tokens": reply.completion_tokens}
    return orjson.dumps(
        {
            "id": message_id(reply),
            "type": "message",
            "role": "assistant",
            "model": reply.model,
            "content": content_blocks(reply),
            "stop_reason": STOP_REASONS.get(reply.finish_reason, "end_turn"),
            "stop_sequence": None,
            "usage": usage,
        }
    )


def event(name: str, data: dict[str, Any]) -> bytes:
    return b"event: " + name.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"


def block_start(reply: Reply) -> dict[str, Any]:
    if reply.tool_calls:
        call = reply.tool_calls[0]
        return {"type": "tool_use", "id": tool_use_id(call.call_id), "name": call.name, "input": {}}
    return {"type": "text", "text": ""}


def deltas(reply: Reply) -> tuple[bytes, ...]:
    if reply.tool_calls:
        pieces = [{"type": "input_json_delta", "partial_json": p} for p in reply.tool_calls[0].argument_pieces]
    else:
        pieces = [{"type": "text_delta", "text": p} for p in reply.text_pieces]
    return tuple(event("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": d}) for d in pieces)


def render_stream(reply: Reply) -> StreamScript:
    message: dict[str, Any] = {
        "id": message_id(reply), "type": "message", "role": "assistant", "model": reply.model,
        "content": [], "stop_reason": None, "stop_sequence": None, "usage": start_usage(reply),
    }  # fmt: skip
    head = (
        event("message_start", {"type": "message_start", "message": message}),
        event("content_block_start", {"type": "content_block_start", "index": 0, "content_block": block_start(reply)}),
        event("ping", {"type": "ping"}),
    )
    stop = {"stop_reason": STOP_REASONS.get(reply.finish_reason, "end_turn"), "stop_sequence": None}
    tail = (
        event("content_block_stop", {"type": "content_block_stop", "index": 0}),
        event("message_delta", {"type": "message_delta", "delta": stop,
                                "usage": {"output_tokens": reply.completion_tokens}}),
    )  # fmt: skip
    return StreamScript(head, deltas(reply), tail, event("message_stop", {"type": "message_stop"}))


def anthropic_error(error: ErrorSpec) -> dict[str, Any]:
    # The shared fault table words 401/404 as OpenAI does ("invalid_request_error"): the status decides.
    specific = error.type in KNOWN_TYPES and error.type != "invalid_request_error"
    kind = error.type if specific else ERROR_TYPES.get(error.status)
    if kind is None:
        kind = "api_error" if error.status >= 500 else "invalid_request_error"
    message = error.message
    if message in DEFAULT_MESSAGES:
        message = MESSAGES_BY_CODE.get(error.code or "") or MESSAGES_BY_TYPE.get(kind, message)
    return {"type": "error", "error": {"type": kind, "message": message}, "request_id": "req_sim"}


def render_error(error: ErrorSpec) -> bytes:
    return orjson.dumps(anthropic_error(error))


def render_stream_error(error: ErrorSpec) -> bytes:
    """The `event: error` Anthropic sends when a stream fails after the 200 (e.g. overloaded)."""
    body = anthropic_error(error)
    del body["request_id"]
    return event("error", body)


# ---------------------------------------------------------------- the format object


class AnthropicMessages(JsonBodyFormat):
    """`WireFormat` for `POST /{provider}/v1/messages`."""

    stream_content_type = "text/event-stream; charset=utf-8"
    malformed_event = MALFORMED_EVENT
    rate_limit_headers = ("anthropic-ratelimit-requests-limit", "anthropic-ratelimit-requests-remaining",
                          "anthropic-ratelimit-tokens-limit", "anthropic-ratelimit-tokens-remaining")  # fmt: skip

    def parse(self, body: dict[str, Any] | None, model: str) -> ChatRequest:
        return parse_messages(body, model)

    def render_completion(self, reply: Reply) -> bytes:
        return render_completion(reply)

    def render_stream(self, reply: Reply) -> StreamScript:
        return render_stream(reply)

    def render_error(self, error: ErrorSpec) -> bytes:
        return render_error(error)


ANTHROPIC_MESSAGES = AnthropicMessages()

"""OpenAI chat-completions wire format: request parsing and response/chunk/error rendering."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from simulator.answers import body_seed, prompt_schema
from simulator.model import ChatRequest, ErrorSpec, InvalidRequest, JsonBodyFormat, Reply, StreamScript, ToolCall

DONE_EVENT = b"data: [DONE]\n\n"
MALFORMED_EVENT = b"data: {not json\n\n"
FINGERPRINT = "fp_sim"
MAX_TOOL_CALL_ID = 40


# ---------------------------------------------------------------- request parsing


def invalid(message: str, param: str | None = None) -> InvalidRequest:
    return InvalidRequest(ErrorSpec(400, message, "invalid_request_error", None, param))


def content_stats(content: Any) -> tuple[str, int]:
    """(text, image count) of a message `content` (string or list of parts)."""
    if isinstance(content, str):
        return content, 0
    if not isinstance(content, list):
        return "", 0
    texts, images = [], 0
    for part in content:
        if not isinstance(part, Mapping):
            continue
        if part.get("type") == "image_url":
            images += 1
        elif isinstance(part.get("text"), str):
            texts.append(part["text"])
    return "".join(texts), images


def message_stats(messages: list[Any]) -> tuple[int, int, str | None]:
    """(prompt characters, image count, tool result) over all messages."""
    chars = images = 0
    text = ""
    for index, message in enumerate(messages):
        if not isinstance(message, Mapping) or not isinstance(message.get("role"), str):
            raise invalid("Each message must be an object with a 'role'.", "messages")
        check_tool_call_ids(message, index)
        text, count = content_stats(message.get("content"))
        chars += len(text)
        images += count
    tool_result = text if messages[-1].get("role") == "tool" else None
    return chars, images, tool_result


def check_tool_call_ids(message: Mapping[str, Any], index: int) -> None:
    """OpenAI refuses an assistant tool call id longer than 40 characters."""
    calls = message.get("tool_calls")
    for position, call in enumerate(calls if isinstance(calls, list) else ()):
        call_id = call.get("id") if isinstance(call, Mapping) else None
        if isinstance(call_id, str) and len(call_id) > MAX_TOOL_CALL_ID:
            param = f"messages[{index}].tool_calls[{position}].id"
            raise invalid(
                f"Invalid '{param}': string too long. Expected a string with maximum length "
                f"{MAX_TOOL_CALL_ID}, but got a string with length {len(call_id)} instead.",
                param,
            )


def tool_names(tools: Any) -> tuple[str, ...]:
    if tools is None:
        return ()
    if not isinstance(tools, list):
        raise invalid("'tools' must be an array.", "tools")
    names = []
    for tool in tools:
        function = tool.get("function") if isinstance(tool, Mapping) else None
        name = function.get("name") if isinstance(function, Mapping) else None
        if not isinstance(name, str):
            raise invalid("Each tool needs 'function.name'.", "tools")
        names.append(name)
    return tuple(names)


def tool_schemas(tools: list[Any] | None) -> tuple[Any, ...]:
    """Each tool's `function.parameters` (run after `tool_names` has checked the list)."""
    return tuple(tool["function"].get("parameters") or {} for tool in tools or ())


def output_schema(response_format: Any, messages: list[Any]) -> Any:
    """The schema of a json_schema response format, or for JSON mode the one a message spells out."""
    kind = response_format.get("type") if isinstance(response_format, Mapping) else None
    if kind == "json_object":
        texts = (content_stats(m.get("content"))[0] for m in messages)
        return next((schema for text in texts if (schema := prompt_schema(text)) is not None), None)
    if kind != "json_schema":
        return None
    spec = response_format.get("json_schema")
    schema = spec.get("schema") if isinstance(spec, Mapping) else None
    return schema if schema is not None else {}


def forced_tool(tool_choice: Any) -> str | None:
    if not isinstance(tool_choice, Mapping):
        return None
    function = tool_choice.get("function")
    name = function.get("name") if isinstance(function, Mapping) else tool_choice.get("name")
    return name if isinstance(name, str) else None


def positive_int(body: Mapping[str, Any], key: str) -> int | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise invalid(f"'{key}' must be a positive integer.", key)
    return value


def parse_chat(body: dict[str, Any] | None, model: str) -> ChatRequest:
    if body is None:
        raise invalid("We could not parse the JSON body of your request.")
    if not model:
        raise invalid("you must provide a model parameter", "model")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise invalid("'messages' must be a non-empty array.", "messages")
    chars, images, tool_result = message_stats(messages)
    stream_options = body.get("stream_options")
    response_format = body.get("response_format")
    tool_choice = body.get("tool_choice")
    names = tool_names(body.get("tools"))
    schema = output_schema(response_format, messages)
    return ChatRequest(
        model=model,
        stream=body.get("stream") is True,
        n=min(positive_int(body, "n") or 1, 128),
        include_usage=isinstance(stream_options, Mapping) and stream_options.get("include_usage") is True,
        json_mode=isinstance(response_format, Mapping)
        and response_format.get("type") in ("json_object", "json_schema"),
        tool_names=names,
        tool_schemas=tool_schemas(body.get("tools")),
        output_schema=schema,
        seed=body_seed(body) if names or schema is not None else 0,
        tool_choice_none=tool_choice == "none",
        # "required": a tool call even after a tool result (the first tool, as for "auto").
        forced_tool=forced_tool(tool_choice) or (names[0] if tool_choice == "required" and names else None),
        tool_result=tool_result,
        image_count=images,
        prompt_chars=chars,
        max_tokens=positive_int(body, "max_completion_tokens") or positive_int(body, "max_tokens"),
    )


# ---------------------------------------------------------------- rendering


def usage(reply: Reply) -> dict[str, int]:
    return {
        "prompt_tokens": reply.prompt_tokens,
        "completion_tokens": reply.completion_tokens,
        "total_tokens": reply.total_tokens,
    }


def tool_call_json(call: ToolCall) -> dict[str, Any]:
    function = {"name": call.name, "arguments": call.arguments}
    return {"id": call.call_id, "type": "function", "function": function}


def message(reply: Reply, index: int) -> dict[str, Any]:
    if reply.tool_calls:
        call = tool_call_json(reply.tool_calls[index])
        return {"role": "assistant", "content": None, "tool_calls": [call], "refusal": None}
    return {"role": "assistant", "content": reply.text, "refusal": None}


def render_completion(reply: Reply) -> bytes:
    choices = [
        {"index": i, "message": message(reply, i), "logprobs": None,
         "finish_reason": reply.finish_reason}
        for i in range(reply.n)
    ]  # fmt: skip
    return orjson.dumps(
        {
            "id": reply.response_id,
            "object": "chat.completion",
            "created": reply.created,
            "model": reply.model,
            "choices": choices,
            "usage": usage(reply),
            "system_fingerprint": FINGERPRINT,
        }
    )


class ChunkEncoder:
    """Encodes SSE chunk events of one response around a pre-encoded common prefix."""

    def __init__(self, reply: Reply) -> None:
        head = orjson.dumps(
            {"id": reply.response_id, "object": "chat.completion.chunk",
             "created": reply.created, "model": reply.model,
             "system_fingerprint": FINGERPRINT}
        )  # fmt: skip
        self._prefix = b"data: " + head[:-1] + b',"choices":['
        # OpenAI sends "usage": null on every chunk once include_usage is requested.
        self._suffix = b'],"usage":null}\n\n' if reply.include_usage else b"]}\n\n"

    def choice(self, index: int, delta: dict[str, Any], finish: str | None = None) -> bytes:
        body = orjson.dumps({"index": index, "delta": delta, "logprobs": None, "finish_reason": finish})
        return self._prefix + body + self._suffix

    def usage(self, reply: Reply) -> bytes:
        return self._prefix + b'],"usage":' + orjson.dumps(usage(reply)) + b"}\n\n"


def head_delta(reply: Reply, index: int) -> dict[str, Any]:
    if not reply.tool_calls:
        return {"role": "assistant", "content": "", "refusal": None}
    call = reply.tool_calls[index]
    function = {"name": call.name, "arguments": ""}
    tool_call = {"index": 0, "id": call.call_id, "type": "function", "function": function}
    return {"role": "assistant", "content": None, "tool_calls": [tool_call], "refusal": None}


def content_deltas(reply: Reply, index: int) -> list[dict[str, Any]]:
    if not reply.tool_calls:
        return [{"content": piece} for piece in reply.text_pieces]
    pieces = reply.tool_calls[index].argument_pieces
    return [{"tool_calls": [{"index": 0, "function": {"arguments": p}}]} for p in pieces]


def render_stream(reply: Reply) -> StreamScript:
    enc = ChunkEncoder(reply)
    choices = range(reply.n)
    per_choice = [content_deltas(reply, i) for i in choices]
    # Choices are interleaved token by token, as OpenAI does for n > 1.
    content = tuple(
        enc.choice(i, deltas[step])
        for step in range(max(map(len, per_choice)))
        for i, deltas in enumerate(per_choice)
        if step < len(deltas)
    )
    tail = [enc.choice(i, {}, reply.finish_reason) for i in choices]
    if reply.include_usage:
        tail.append(enc.usage(reply))
    head = tuple(enc.choice(i, head_delta(reply, i)) for i in choices)
    return StreamScript(head, content, tuple(tail), DONE_EVENT)


def render_error(error: ErrorSpec) -> bytes:
    return orjson.dumps(
        {"error": {"message": error.message, "type": error.type, "param": error.param,
                   "code": error.code}}
    )  # fmt: skip


def models_list(provider: str, models: list[str]) -> bytes:
    data = [{"id": m, "object": "model", "created": 0, "owned_by": provider} for m in models]
    return orjson.dumps({"object": "list", "data": data})


# ---------------------------------------------------------------- the format object


class OpenAIChat(JsonBodyFormat):
    """`WireFormat` for `POST /{provider}/v1/chat/completions`."""

    stream_content_type = "text/event-stream"
    malformed_event = MALFORMED_EVENT
    rate_limit_headers = ("x-ratelimit-limit-requests", "x-ratelimit-remaining-requests",
                          "x-ratelimit-limit-tokens", "x-ratelimit-remaining-tokens")  # fmt: skip

    def parse(self, body: dict[str, Any] | None, model: str) -> ChatRequest:
        return parse_chat(body, model)

    def render_completion(self, reply: Reply) -> bytes:
        return render_completion(reply)

    def render_stream(self, reply: Reply) -> StreamScript:
        return render_stream(reply)

    def render_error(self, error: ErrorSpec) -> bytes:
        return render_error(error)


OPENAI_CHAT = OpenAIChat()

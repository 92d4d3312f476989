"""POST /v1/messages: Anthropic's Messages API in front of the same failover as /v1/chat/completions.

The Messages request becomes an OpenAI chat request, `Failover` serves it exactly as it serves
the OpenAI endpoint (any provider of the model, any wire format), and the OpenAI answer is
turned back into a Message, or into Messages SSE events chunk by chunk as they arrive.

``output_config.format`` (structured outputs), or the older beta's top-level ``output_format``, becomes
``response_format`` json_schema.
Not carried over (OpenAI chat has no counterpart): ``top_k``, ``thinking``, ``cache_control``,
``output_config.effort``, ``service_tier``, ``container`` and ``mcp_servers`` are dropped; server tools, documents and
images inside tool results are refused with a 400. OpenAI reports no matched stop sequence, so
``stop_sequence`` is always null; prompt-cache writes are counted in ``input_tokens``.
"""

from __future__ import annotations

from typing import Any

import orjson

from gateway.errors import GatewayError
from gateway.pipeline import Headers, RequestHeaders, Scope, handle, handle_local, stream_interrupted
from gateway.routing.failover import Job
from gateway.runtime import Runtime
from gateway.upstream.adapters.base import Chunk
from gateway.upstream.attempt import OpenAttempt, StreamBroken
from gateway.upstream.chunks import StreamState
from gateway.usage import estimate_prompt_tokens, estimated_usage

STOP_REASONS = {"stop": "end_turn", "length": "max_tokens", "tool_calls": "tool_use",
                "function_call": "tool_use", "content_filter": "refusal"}  # fmt: skip
ERROR_TYPES = {400: "invalid_request_error", 401: "authentication_error", 402: "billing_error",
               403: "permission_error", 404: "not_found_error", 413: "request_too_large",
               429: "rate_limit_error", 529: "overloaded_error"}  # fmt: skip
IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})


# ---------------------------------------------------------------- errors


def error_body(error: GatewayError, request_id: str) -> bytes:
    kind = ERROR_TYPES.get(error.status) or ("api_error" if error.status >= 500 else "invalid_request_error")
    return orjson.dumps({"type": "error", "error": {"type": kind, "message": error.message}, "request_id": request_id})


def _invalid(message: str) -> GatewayError:
    return GatewayError(400, message)


# ---------------------------------------------------------------- request: Messages -> OpenAI


def to_openai(body: dict[str, Any]) -> dict[str, Any]:
    """The OpenAI chat request for a Messages request, checked like Anthropic checks it."""
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise _invalid("model: Field required")
    max_tokens = body.get("max_tokens")
    if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 1:
        raise _invalid("max_tokens: Field required (a positive integer)")
    raw = body.get("messages")
    if not isinstance(raw, list) or not raw:
        raise _invalid("messages: at least one message is required")
    messages = _system(body.get("system"))
    for index, message in enumerate(raw):
        messages.extend(_message(message, index))
    stream = body.get("stream") is True
    out: dict[str, Any] = {"model": model, "messages": messages, "max_tokens": max_tokens, "stream": stream}
    if stream:
        out["stream_options"] = {"include_usage": True}
    for name in ("temperature", "top_p"):
        if body.get(name) is not None:
            out[name] = body[name]
    if body.get("stop_sequences"):
        out["stop"] = body["stop_sequences"]
    _tools(body, out)
    _output_format(body, out)
    metadata = body.get("metadata")
    if isinstance(metadata, dict) and metadata.get("user_id"):
        out["user"] = str(metadata["user_id"])
    return out


def _output_format(body: dict[str, Any], out: dict[str, Any]) -> None:
    config = body.get("output_config")
    fmt, where = (config.get("format") if isinstance(config, dict) else None), "output_config.format"
    if body.get("output_format") is not None:
        if fmt is not None:
            raise _invalid("output_format: give output_config.format or output_format, not both")
        fmt, where = body["output_format"], "output_format"
    if fmt is None:
        return
    if not isinstance(fmt, dict) or fmt.get("type") != "json_schema" or not isinstance(fmt.get("schema"), dict):
        raise _invalid(f'{where}: expected {{"type": "json_schema", "schema": {{...}}}}')
    out["response_format"] = {"type": "json_schema", "json_schema": {"name": "output", "schema": fmt["schema"]}}


def _system(system: Any) -> list[dict[str, Any]]:
    if not system:
        return []
    if isinstance(system, str):
        return [{"role": "system", "content": system}]
    if isinstance(system, list):
        return [{"role": "system", "content": "".join(_texts(system, "system"))}]
    raise _invalid("system: Input should be a valid string or a list of text blocks")


def _texts(blocks: list[Any], where: str) -> list[str]:
    texts = []
    for block in blocks:
        if not isinstance(block, dict) or block.get("type") != "text":
            raise _invalid(f"{where}: only text blocks are supported here")
        texts.append(str(block.get("text", "")))
    return texts


def _message(message: Any, index: int) -> list[dict[str, Any]]:
    where = f"messages.{index}"
    if not isinstance(message, dict) or message.get("role") not in ("user", "assistant"):
        raise _invalid(f"{where}.role: Input should be 'user' or 'assistant'")
    role, content = message["role"], message.get("content")
    if isinstance(content, str):
        return [{"role": role, "content": content}]
    if not isinstance(content, list):
        raise _invalid(f"{where}.content: Input should be a valid string or list")
    if role == "assistant":
        return [_assistant(content, where)]
    return _user(content, where)


def _user(blocks: list[Any], where: str) -> list[dict[str, Any]]:
    """Tool results become ``tool`` messages, before the user's own parts (Anthropic's order)."""
    out: list[dict[str, Any]] = []
    parts: list[dict[str, Any]] = []
    for position, block in enumerate(blocks):
        kind = block.get("type") if isinstance(block, dict) else None
        if kind == "tool_result":
            out.append(_tool_message(block, f"{where}.content.{position}"))
        elif kind == "text":
            parts.append({"type": "text", "text": block.get("text", "")})
        elif kind == "image":
            parts.append(_image(block.get("source"), f"{where}.content.{position}"))
        else:
            raise _invalid(f"{where}.content.{position}: block type {kind!r} is not supported by the gateway")
    if parts:
        only_text = len(parts) == 1 and parts[0]["type"] == "text"
        out.append({"role": "user", "content": parts[0]["text"] if only_text else parts})
    return out


def _tool_message(block: dict[str, Any], where: str) -> dict[str, Any]:
    content = block.get("content")
    if isinstance(content, list):
        content = "".join(_texts(content, f"{where}.content"))
    elif content is None:
        content = ""
    return {"role": "tool", "tool_call_id": block.get("tool_use_id"), "content": content}


def _image(source: Any, where: str) -> dict[str, Any]:
    if isinstance(source, dict):
        if source.get("type") == "url" and isinstance(source.get("url"), str):
            return {"type": "image_url", "image_url": {"url": source["url"]}}
        if source.get("type") == "base64" and source.get("media_type") in IMAGE_TYPES:
            url = f"data:{source['media_type']};base64,{source.get('data', '')}"
            return {"type": "image_url", "image_url": {"url": url}}
    raise _invalid(f"{where}.source: expected a base64 ({', '.join(sorted(IMAGE_TYPES))}) or url image source")


def _assistant(blocks: list[Any], where: str) -> dict[str, Any]:
    texts: list[str] = []
    calls: list[dict[str, Any]] = []
    for position, block in enumerate(blocks):
        kind = block.get("type") if isinstance(block, dict) else None
        if kind == "text":
            texts.append(str(block.get("text", "")))
        elif kind == "tool_use":
            arguments = orjson.dumps(block.get("input") or {}).decode()
            function = {"name": block.get("name"), "arguments": arguments}
            calls.append({"id": block.get("id"), "type": "function", "function": function})
        elif kind not in ("thinking", "redacted_thinking"):
            raise _invalid(f"{where}.content.{position}: block type {kind!r} is not supported by the gateway")
    message: dict[str, Any] = {"role": "assistant", "content": "".join(texts) if texts else None}
    if calls:
        message["tool_calls"] = calls
    return message


def _tools(body: dict[str, Any], out: dict[str, Any]) -> None:
    tools = body.get("tools")
    if not tools:
        return
    if not isinstance(tools, list):
        raise _invalid("tools: Input should be a valid list")
    out["tools"] = [_tool(tool, index) for index, tool in enumerate(tools)]
    choice = body.get("tool_choice")
    if not isinstance(choice, dict):
        return
    kind = choice.get("type")
    if kind == "tool":
        out["tool_choice"] = {"type": "function", "function": {"name": choice.get("name")}}
    else:
        out["tool_choice"] = {"auto": "auto", "any": "required", "none": "none"}.get(str(kind), "auto")
    if choice.get("disable_parallel_tool_use") is True:
        out["parallel_tool_calls"] = False


def _tool(tool: Any, index: int) -> dict[str, Any]:
    if not isinstance(tool, dict) or tool.get("type", "custom") != "custom" or not isinstance(tool.get("name"), str):
        kind = tool.get("type") if isinstance(tool, dict) else None
        raise _invalid(f"tools.{index}: only custom (client) tools are supported by the gateway, not {kind!r}")
    function: dict[str, Any] = {"name": tool["name"]}
    if tool.get("description"):
        function["description"] = tool["description"]
    function["parameters"] = tool.get("input_schema") or {"type": "object", "properties": {}}
    return {"type": "function", "function": function}


# ---------------------------------------------------------------- answer: OpenAI -> Messages


def message_id(completion_id: str, request_id: str) -> str:
    return completion_id if completion_id.startswith("msg_") else f"msg_{request_id}"


def usage_of(usage: dict[str, Any]) -> dict[str, Any]:
    cached = (usage.get("prompt_tokens_details") or {}).get("cached_tokens") or 0
    return {
        "input_tokens": max(0, (usage.get("prompt_tokens") or 0) - cached),
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": cached,
        "output_tokens": usage.get("completion_tokens") or 0,
    }


def _tool_input(arguments: str) -> dict[str, Any]:
    try:
        value = orjson.loads(arguments or "{}")
    except orjson.JSONDecodeError:
        value = None
    # Anthropic clients expect an object; keep a broken one visible rather than drop it.
    return value if isinstance(value, dict) else {"_arguments": arguments}


def to_message(completion: dict[str, Any], request_id: str) -> dict[str, Any]:
    choice = completion["choices"][0] if completion["choices"] else {"message": {}, "finish_reason": "stop"}
    reply = choice["message"]
    content: list[dict[str, Any]] = []
    text = reply.get("content") or reply.get("refusal")
    if text:
        content.append({"type": "text", "text": text})
    for call in reply.get("tool_calls") or ():
        function = call["function"]
        content.append(
            {
                "type": "tool_use",
                "id": call["id"],
                "name": function["name"],
                "input": _tool_input(function["arguments"]),
            }
        )
    return {
        "id": message_id(completion["id"], request_id),
        "type": "message",
        "role": "assistant",
        "model": completion["model"],
        "content": content,
        "stop_reason": STOP_REASONS.get(choice["finish_reason"], "end_turn"),
        "stop_sequence": None,
        "usage": usage_of(completion["usage"] or {}),
    }


def event(name: bytes, data: dict[str, Any]) -> bytes:
    return b"event: " + name + b"\ndata: " + orjson.dumps(data) + b"\n\n"


class MessageEvents:
    """OpenAI chunks in, Messages SSE events out: one open content block at a time."""

    __slots__ = ("_block", "_open", "finish")

    def __init__(self) -> None:
        self._block = -1
        self._open: str | int | None = None  # "text", or the OpenAI index of the open tool call
        self.finish: str | None = None

    def start(self, message_id: str, model: str, usage: dict[str, Any]) -> bytes:
        message: dict[str, Any] = {
            "id": message_id, "type": "message", "role": "assistant", "model": model, "content": [],
            "stop_reason": None, "stop_sequence": None, "usage": usage,
        }  # fmt: skip
        return event(b"message_start", {"type": "message_start", "message": message})

    def chunk(self, chunk: dict[str, Any]) -> list[bytes]:
        out: list[bytes] = []
        for choice in chunk.get("choices") or ():
            if choice.get("index", 0) != 0:
                continue
            delta = choice.get("delta") or {}
            text = delta.get("content") or delta.get("refusal")
            if text:
                self._text(text, out)
            for call in delta.get("tool_calls") or ():
                self._tool_call(call, out)
            if choice.get("finish_reason"):
                self.finish = choice["finish_reason"]
        return out

    def _text(self, text: str, out: list[bytes]) -> None:
        if self._open != "text":
            self._start_block({"type": "text", "text": ""}, "text", out)
        out.append(
            b'event: content_block_delta\ndata: {"type":"content_block_delta","index":%d,'
            b'"delta":{"type":"text_delta","text":%b}}\n\n' % (self._block, orjson.dumps(text))
        )

    def _tool_call(self, call: dict[str, Any], out: list[bytes]) -> None:
        slot = call.get("index", 0)
        function = call.get("function") or {}
        if self._open != slot:
            block: dict[str, Any] = {
                "type": "tool_use",
                "id": call.get("id"),
                "name": function.get("name"),
                "input": {},
            }
            self._start_block(block, slot, out)
        arguments = function.get("arguments")
        if arguments:
            out.append(
                b'event: content_block_delta\ndata: {"type":"content_block_delta","index":%d,'
                b'"delta":{"type":"input_json_delta","partial_json":%b}}\n\n' % (self._block, orjson.dumps(arguments))
            )

    def _start_block(self, block: dict[str, Any], kind: str | int, out: list[bytes]) -> None:
        self._close_block(out)
        self._block += 1
        self._open = kind
        out.append(event(b"content_block_start", {"type": "content_block_start", "index": self._block,
                                                  "content_block": block}))  # fmt: skip

    def _close_block(self, out: list[bytes]) -> None:
        if self._open is not None:
            out.append(event(b"content_block_stop", {"type": "content_block_stop", "index": self._block}))
            self._open = None

    def end(self, usage: dict[str, Any]) -> bytes:
        out: list[bytes] = []
        self._close_block(out)
        stop = {"stop_reason": STOP_REASONS.get(self.finish or "stop", "end_turn"), "stop_sequence": None}
        out.append(event(b"message_delta", {"type": "message_delta", "delta": stop, "usage": usage_of(usage)}))
        out.append(event(b"message_stop", {"type": "message_stop"}))
        return b"".join(out)


def stream_error_event(broken: StreamBroken) -> bytes:
    error = {"type": "api_error", "message": stream_interrupted(broken)}
    return event(b"error", {"type": "error", "error": error})


# ---------------------------------------------------------------- the codec


class AnthropicMessages:
    """Anthropic's Messages API: the key may come as x-api-key or as a Bearer token."""

    inbound = "anthropic.messages"
    stateful = False

    def credential(self, request: RequestHeaders) -> bytes:
        return b"Bearer " + request.api_key if request.api_key else request.authorization

    def missing_key(self) -> GatewayError:
        return GatewayError(401, "x-api-key header is required", code="missing_api_key")

    def decode(self, body: dict[str, Any]) -> dict[str, Any]:
        return to_openai(body)

    def headers(self, request_id: str) -> Headers:
        rid = request_id.encode()
        return [(b"x-request-id", rid), (b"request-id", rid)]

    def error_body(self, error: GatewayError, request_id: str) -> bytes:
        return error_body(error, request_id)

    def answer(self, job: Job, completion: dict[str, Any]) -> bytes:
        return orjson.dumps(to_message(completion, job.request_id))

    def stream(self, job: Job, state: StreamState) -> MessagesStream:
        return MessagesStream(job, state)


class CountTokens(AnthropicMessages):
    """``POST /v1/messages/count_tokens``: checked like a message, answered by the gateway itself."""

    inbound = "anthropic.count_tokens"

    def decode(self, body: dict[str, Any]) -> dict[str, Any]:
        return to_openai({**body, "max_tokens": 1, "stream": False})


class MessagesStream:
    def __init__(self, job: Job, state: StreamState) -> None:
        self.job = job
        self.state = state
        self.events = MessageEvents()

    def head(self, opened: OpenAttempt) -> bytes:
        first = self.state.first_chunk or {}
        mid = message_id(first.get("id") or "", self.job.request_id)
        head = [self.events.start(mid, self.state.target_model, self._start_usage())]
        head.append(self.batch(opened.head))
        return b"".join(head)

    def batch(self, batch: list[Chunk]) -> bytes:
        return b"".join(piece for _, chunk in batch for piece in self.events.chunk(chunk))

    def _start_usage(self) -> dict[str, Any]:
        """The upstream's prompt count when it came first (Anthropic's own does), else the estimate."""
        known = self.state.usage
        if known and known.get("prompt_tokens"):
            return {**usage_of(known), "output_tokens": 0}
        prompt = estimate_prompt_tokens(self.job.body)
        return {"input_tokens": prompt, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0,
                "output_tokens": 0}  # fmt: skip

    def tail(self) -> bytes:
        return self.events.end(self.state.usage or estimated_usage(self.job.body, self.state))

    def error(self, broken: StreamBroken) -> bytes:
        return stream_error_event(broken)


MESSAGES = AnthropicMessages()
COUNT_TOKENS = CountTokens()


async def messages(runtime: Runtime, scope: Scope, receive: Any, send: Any) -> None:
    await handle(runtime, MESSAGES, scope, receive, send)


async def count_tokens(runtime: Runtime, scope: Scope, receive: Any, send: Any) -> None:
    """Anthropic counts with its own tokenizer, which the gateway does not have for every provider
    of a model; the answer is the estimate the gateway's token limits use (about 4 characters a
    token), so a client that budgets by it stays inside those limits."""
    await handle_local(
        runtime, COUNT_TOKENS, scope, receive, send, lambda job: {"input_tokens": estimate_prompt_tokens(job.body)}
    )

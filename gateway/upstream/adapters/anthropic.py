"""Anthropic Messages wire format: OpenAI chat requests out, Messages SSE events back as OpenAI chunks.

Translation choices an operator should know (each one avoids a provider 400 that would fail a
request over for nothing):

- ``n`` > 1: a 400 naming the parameter; Messages returns one answer per request.
- ``response_format`` json_object / json_schema: a system instruction asks for a single JSON
  object (with the schema, when one is given); it works on every Claude model. With the provider
  option ``structured_outputs: true`` a json_schema goes as native ``output_config.format``
  instead (only for models that support structured outputs).
- ``temperature`` is clamped to Anthropic's 0..1; when both ``temperature`` and ``top_p`` are
  set only ``temperature`` is sent (current Claude models reject the pair).
- ``user`` becomes ``metadata.user_id``; ``logprobs``, ``top_logprobs``, ``seed``,
  ``frequency_penalty``, ``presence_penalty``, ``logit_bias``, ``metadata``, ``store``,
  ``service_tier``, ``reasoning_effort`` and other OpenAI-only fields are dropped.
- ``max_tokens`` is required by Anthropic: ``max_completion_tokens`` or ``max_tokens`` from the
  request, else the provider option ``default_max_tokens`` (4096).
- Thinking blocks in the answer are not relayed (their tokens are counted as reasoning tokens).

Usage: Anthropic's ``input_tokens`` excludes cached tokens, so ``prompt_tokens`` is
input + cache reads + cache writes, and ``cached_tokens`` is the cache reads.
"""

from __future__ import annotations

import re
import time
from urllib.parse import quote
from typing import TYPE_CHECKING, Any

import orjson

from gateway.upstream.adapters import schema_limits
from gateway.upstream.adapters.base import BaseAdapter, Chunk, ProbeRequest, UpstreamRequest
from gateway.upstream.adapters.openai import parse_retry_after
from gateway.errors import AttemptError, Inexpressible, redact
from gateway.events.outcomes import Outcome

if TYPE_CHECKING:
    from gateway.conf.domain import Deployment, Provider

DEFAULT_VERSION = "2023-06-01"
DEFAULT_MAX_TOKENS = 4096
OPTIONS = frozenset({"anthropic_version", "default_max_tokens", "structured_outputs"})
JSON_INSTRUCTION = "Respond with a single valid JSON object and nothing else: no prose, no code fences."
TOOL_NAME = re.compile(r"[a-zA-Z0-9_-]{1,64}")
IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})
STOP_REASONS = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "pause_turn": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}
_MISCONFIGURED_TYPES = frozenset({"authentication_error", "permission_error", "not_found_error", "billing_error"})
_CONTEXT_MARKERS = ("prompt is too long", "context limit", "context window", "context length", "too many tokens")
_EMPTY_SCHEMA = {"type": "object", "properties": {}}


# ---------------------------------------------------------------- request


def _bad(message: str, param: str) -> Inexpressible:
    return Inexpressible(message, param=param)


def _auth_headers(provider: Provider) -> dict[str, str]:
    headers = {"anthropic-version": provider.options.get("anthropic_version", DEFAULT_VERSION)}
    if provider.api_key:
        headers["x-api-key"] = provider.api_key
    return headers


def build_request(deployment: Deployment, body: dict[str, Any]) -> UpstreamRequest:
    provider = deployment.provider
    headers = {"content-type": "application/json", "accept": "text/event-stream", **_auth_headers(provider)}
    payload = translate_request(deployment, body)
    return UpstreamRequest(f"{provider.base_url}/messages", headers, orjson.dumps(payload))


def translate_request(deployment: Deployment, body: dict[str, Any]) -> dict[str, Any]:
    """The Messages request body for an OpenAI chat request. Raises a CLIENT_ERROR for what
    Anthropic cannot take (n > 1, unsupported content, a tool it would reject)."""
    name = deployment.provider.name
    n = body.get("n")
    if n is not None and n != 1:
        raise _bad(f"n > 1 is not supported by provider {name!r} (Anthropic returns one choice).", "n")
    schema_limits.check_forwarded(body)
    system, messages = _messages(body["messages"], name)
    payload: dict[str, Any] = {
        "model": deployment.upstream_model,
        "messages": messages,
        "max_tokens": _max_tokens(deployment.provider, body),
        "stream": True,
    }
    _json_mode(deployment.provider, body.get("response_format"), system, payload)
    if system:
        payload["system"] = "\n\n".join(system)
    _sampling(body, payload)
    tools = body.get("tools")
    if tools:
        payload["tools"] = [_tool(tool, index, name) for index, tool in enumerate(tools)]
        choice = _tool_choice(body.get("tool_choice"), body.get("parallel_tool_calls"))
        if choice is not None:
            payload["tool_choice"] = choice
    user = body.get("user")
    if user:
        payload["metadata"] = {"user_id": user}
    return payload


def _max_tokens(provider: Provider, body: dict[str, Any]) -> int:
    requested = body.get("max_completion_tokens") or body.get("max_tokens")
    if requested:
        return int(requested)
    return int(provider.options.get("default_max_tokens", DEFAULT_MAX_TOKENS))


def _sampling(body: dict[str, Any], payload: dict[str, Any]) -> None:
    temperature = body.get("temperature")
    if temperature is not None:
        payload["temperature"] = min(max(temperature, 0), 1)
    elif body.get("top_p") is not None:
        payload["top_p"] = body["top_p"]
    stop = body.get("stop")
    if stop:
        payload["stop_sequences"] = [stop] if isinstance(stop, str) else list(stop)


def _json_mode(provider: Provider, response_format: Any, system: list[str], payload: dict[str, Any]) -> None:
    if not isinstance(response_format, dict):
        return
    kind = response_format.get("type")
    if kind == "json_object":
        system.append(JSON_INSTRUCTION)
    elif kind == "json_schema":
        schema = (response_format.get("json_schema") or {}).get("schema") or {}
        if provider.options.get("structured_outputs", "").lower() == "true":
            payload["output_config"] = {"format": {"type": "json_schema", "schema": schema}}
        else:
            system.append(f"{JSON_INSTRUCTION} It must conform to this JSON Schema: {orjson.dumps(schema).decode()}")


def _messages(raw: list[dict[str, Any]], provider: str) -> tuple[list[str], list[dict[str, Any]]]:
    """System text, and the turns with consecutive same-role turns merged (Anthropic alternates)."""
    system: list[str] = []
    turns: list[dict[str, Any]] = []
    for index, message in enumerate(raw):
        role = message["role"]
        if role == "user":
            blocks = _user_blocks(message.get("content"), index, provider)
        elif role == "assistant":
            blocks = _assistant_blocks(message, index, provider)
        elif role == "tool":
            role, blocks = "user", [_tool_result(message, index, provider)]
        elif role in ("system", "developer"):
            text = _plain_text(message.get("content"), index, provider)
            if text:
                system.append(text)
            continue
        else:
            raise _bad(
                f"messages[{index}]: role {role!r} is not supported by provider {provider!r}; use tools.",
                f"messages[{index}].role",
            )
        if not blocks:
            continue
        if turns and turns[-1]["role"] == role:
            turns[-1]["content"].extend(blocks)
        else:
            turns.append({"role": role, "content": blocks})
    return system, turns


def _plain_text(content: Any, index: int, provider: str) -> str:
    if content is None or isinstance(content, str):
        return content or ""
    return "".join(block["text"] for block in _user_blocks(content, index, provider) if block["type"] == "text")


def _user_blocks(content: Any, index: int, provider: str) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}] if content else []
    if not isinstance(content, list):
        return []
    blocks = []
    for part in content:
        kind = part.get("type") if isinstance(part, dict) else None
        if kind == "text" or kind == "refusal":
            text = part.get(kind)
            if text:
                blocks.append({"type": "text", "text": text})
        elif kind == "image_url":
            blocks.append(_image(part.get("image_url"), index, provider))
        else:
            raise _bad(
                f"messages[{index}]: content part of type {kind!r} is not supported by provider {provider!r}.",
                f"messages[{index}].content",
            )
    return blocks


def _image(image_url: Any, index: int, provider: str) -> dict[str, Any]:
    url = image_url.get("url") if isinstance(image_url, dict) else image_url
    if not isinstance(url, str):
        raise _bad(f"messages[{index}]: image_url needs a url.", f"messages[{index}].content")
    if url.startswith(("http://", "https://")):
        return {"type": "image", "source": {"type": "url", "url": url}}
    head, _, data = url.partition(",")
    media_type = head.removeprefix("data:").removesuffix(";base64")
    if not head.startswith("data:") or not head.endswith(";base64") or media_type not in IMAGE_TYPES:
        raise _bad(
            f"messages[{index}]: provider {provider!r} takes images as http(s) URLs or base64 data URLs "
            f"of type {', '.join(sorted(IMAGE_TYPES))}.",
            f"messages[{index}].content",
        )
    return {"type": "image", "source": {"type": "base64", "media_type": media_type, "data": data}}


def _assistant_blocks(message: dict[str, Any], index: int, provider: str) -> list[dict[str, Any]]:
    blocks = _user_blocks(message.get("content"), index, provider)
    for call in message.get("tool_calls") or ():
        function = call.get("function") or {}
        blocks.append(
            {
                "type": "tool_use",
                "id": call.get("id"),
                "name": function.get("name"),
                "input": _arguments(function.get("arguments"), index),
            }
        )
    return blocks


def _arguments(arguments: Any, index: int) -> dict[str, Any]:
    if not arguments:
        return {}
    try:
        value = orjson.loads(arguments)
    except orjson.JSONDecodeError:
        value = None
    if not isinstance(value, dict):
        raise _bad(f"messages[{index}]: tool call arguments must be a JSON object.", f"messages[{index}].tool_calls")
    return value


def _tool_result(message: dict[str, Any], index: int, provider: str) -> dict[str, Any]:
    content = message.get("content")
    result: dict[str, Any] = {"type": "tool_result", "tool_use_id": message.get("tool_call_id")}
    if isinstance(content, list):
        result["content"] = _user_blocks(content, index, provider)
    elif content:
        result["content"] = content
    return result


def _tool(tool: Any, index: int, provider: str) -> dict[str, Any]:
    function = tool.get("function") if isinstance(tool, dict) and tool.get("type", "function") == "function" else None
    if not isinstance(function, dict):
        raise _bad(f"tools[{index}]: only function tools can be sent to provider {provider!r}.", f"tools[{index}]")
    name = function.get("name")
    if not isinstance(name, str) or not TOOL_NAME.fullmatch(name):
        raise _bad(
            f"Tool {name!r} cannot be sent to provider {provider!r}: "
            "Anthropic requires tool names matching ^[a-zA-Z0-9_-]{1,64}$.",
            f"tools[{index}].function.name",
        )
    schema = function.get("parameters") or _EMPTY_SCHEMA
    if not isinstance(schema, dict) or schema.get("type", "object") != "object":
        raise _bad(
            f"Tool {name!r} cannot be sent to provider {provider!r}: its parameters must be a JSON Schema "
            'of "type": "object".',
            f"tools[{index}].function.parameters",
        )
    if "type" not in schema:
        schema = {"type": "object", **schema}
    entry: dict[str, Any] = {"name": name}
    if function.get("description"):
        entry["description"] = function["description"]
    entry["input_schema"] = schema
    return entry


def _tool_choice(choice: Any, parallel: Any) -> dict[str, Any] | None:
    if choice is None and parallel is not False:
        return None
    if choice == "none":
        return {"type": "none"}
    if choice == "required":
        result: dict[str, Any] = {"type": "any"}
    elif isinstance(choice, dict):
        result = {"type": "tool", "name": (choice.get("function") or {}).get("name") or choice.get("name")}
    else:
        result = {"type": "auto"}
    if parallel is False:
        result["disable_parallel_tool_use"] = True
    return result


# ---------------------------------------------------------------- errors


def classify_error(deployment: Deployment, status: int, body: bytes, headers: Any) -> AttemptError:
    error_type, message = _error_details(body)
    message = redact(message or f"HTTP {status}", deployment.provider.api_key)
    failure = _failure(status, error_type, message)
    error = AttemptError(failure, message, status=status, error_type=error_type)
    if failure is Outcome.RATE_LIMITED:
        error.retry_after = parse_retry_after(headers)
    return error


def _failure(status: int, error_type: str | None, message: str) -> Outcome:
    if status == 429 or error_type == "rate_limit_error":
        return Outcome.RATE_LIMITED
    if status in (401, 402, 403, 404) or error_type in _MISCONFIGURED_TYPES:
        return Outcome.MISCONFIGURED
    if 400 <= status < 500 and status != 408 and error_type != "overloaded_error":
        lowered = message.lower()
        if any(marker in lowered for marker in _CONTEXT_MARKERS):
            return Outcome.CONTEXT_LENGTH
        return Outcome.CLIENT_ERROR
    return Outcome.SERVER_ERROR


def _error_details(body: bytes) -> tuple[str | None, str]:
    """(error type, message) of ``{"type": "error", "error": {"type": ..., "message": ...}}``."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None, body[:300].decode("utf-8", "replace").strip()
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, dict):
        kind = error.get("type")
        return (str(kind) if kind else None), str(error.get("message") or "")
    return None, str(data)[:300]


def is_stream(content_type: str) -> bool:
    return content_type.startswith("text/event-stream")


# ---------------------------------------------------------------- answers


def usage_of(usage: dict[str, Any]) -> dict[str, Any]:
    """OpenAI usage from Anthropic's (cumulative) usage counters."""
    cache_read = usage.get("cache_read_input_tokens") or 0
    prompt = (usage.get("input_tokens") or 0) + cache_read + (usage.get("cache_creation_input_tokens") or 0)
    completion = usage.get("output_tokens") or 0
    details = usage.get("output_tokens_details")
    reasoning = (details.get("thinking_tokens") if isinstance(details, dict) else None) or 0
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": cache_read},
        "completion_tokens_details": {"reasoning_tokens": reasoning},
    }


class EventParser:
    """SSE bytes in, ``data`` payloads out. Unlike gateway.upstream.sse.SSEParser it expects Anthropic's
    ``event:`` line before each ``data:`` line on its fast path, which is most of decoding's cost."""

    __slots__ = ("_pending",)

    def __init__(self) -> None:
        self._pending = b""

    def feed(self, chunk: bytes) -> list[bytes]:
        buffer = self._pending + chunk if self._pending else chunk
        carried_cr = b""
        if b"\r" in buffer:
            if buffer.endswith(b"\r"):
                # A CRLF split across reads: keep the CR until its LF arrives.
                buffer, carried_cr = buffer[:-1], b"\r"
            buffer = buffer.replace(b"\r\n", b"\n")
        blocks = buffer.split(b"\n\n")
        self._pending = blocks.pop() + carried_cr
        return [payload for payload in map(_data_of, blocks) if payload is not None]

    def flush(self) -> list[bytes]:
        rest, self._pending = self._pending.strip(), b""
        payload = _data_of(rest) if rest else None
        return [payload] if payload is not None else []


def _data_of(block: bytes) -> bytes | None:
    _, found, payload = block.partition(b"data:")
    if found and b"\n" not in payload:
        return payload.removeprefix(b" ")
    lines = [line[5:].removeprefix(b" ") for line in block.split(b"\n") if line.startswith(b"data:")]
    return b"\n".join(lines) if lines else None


class MessagesDecoder:
    """Messages SSE events in, OpenAI chunks out, one event at a time."""

    __slots__ = ("_created", "_id", "_model", "_parser", "_tools", "_usage", "done", "malformed")

    def __init__(self, model: str) -> None:
        self._parser = EventParser()
        self._id = ""
        self._model = model
        self._created = int(time.time())
        self._tools: dict[int, int] = {}  # content block index -> OpenAI tool_call index
        self._usage: dict[str, Any] = {}
        self.done = False
        self.malformed = 0

    def feed(self, data: bytes) -> list[Chunk]:
        return self._chunks(self._parser.feed(data))

    def flush(self) -> list[Chunk]:
        return self._chunks(self._parser.flush())

    def _chunks(self, payloads: list[bytes]) -> list[Chunk]:
        chunks: list[Chunk] = []
        for payload in payloads:
            try:
                event = orjson.loads(payload)
            except orjson.JSONDecodeError:
                self.malformed += 1
                continue
            if not isinstance(event, dict):
                self.malformed += 1
                continue
            kind = event.get("type")
            if kind == "content_block_delta":
                delta = self._delta(event)
            elif kind == "content_block_start":
                delta = self._block_start(event)
            elif kind == "message_delta":
                chunks.extend(self._message_delta(event))
                continue
            elif kind == "message_start":
                delta = self._message_start(event)
            elif kind == "message_stop":
                self.done = True
                break
            elif kind == "error":
                error = event.get("error")
                chunks.append((None, {"error": error if isinstance(error, dict) else {"message": str(error)}}))
                continue
            else:  # ping, content_block_stop, and event types added later
                continue
            if delta is not None:
                chunks.append((None, self._chunk(delta, None)))
        return chunks

    def _chunk(self, delta: dict[str, Any], finish: str | None) -> dict[str, Any]:
        return {
            "id": self._id,
            "object": "chat.completion.chunk",
            "created": self._created,
            "model": self._model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }

    def _delta(self, event: dict[str, Any]) -> dict[str, Any] | None:
        delta = event.get("delta") or {}
        kind = delta.get("type")
        if kind == "text_delta":
            text = delta.get("text")
            return {"content": text} if text else None
        if kind == "input_json_delta":
            piece = delta.get("partial_json")
            slot = self._tools.get(event.get("index", 0))
            if not piece or slot is None:
                return None
            return {"tool_calls": [{"index": slot, "function": {"arguments": piece}}]}
        return None  # thinking, signature and citation deltas have no OpenAI counterpart

    def _block_start(self, event: dict[str, Any]) -> dict[str, Any] | None:
        block = event.get("content_block") or {}
        kind = block.get("type")
        if kind == "text":
            text = block.get("text")
            return {"content": text} if text else None
        if kind != "tool_use":
            return None
        slot = self._tools[event.get("index", 0)] = len(self._tools)
        given = block.get("input")
        function = {"name": block.get("name"), "arguments": orjson.dumps(given).decode() if given else ""}
        return {"tool_calls": [{"index": slot, "id": block.get("id"), "type": "function", "function": function}]}

    def _message_start(self, event: dict[str, Any]) -> dict[str, Any]:
        message = event.get("message") or {}
        self._id = message.get("id") or ""
        self._model = message.get("model") or self._model
        self._usage = dict(message.get("usage") or {})
        return {"role": "assistant", "content": ""}

    def _message_delta(self, event: dict[str, Any]) -> list[Chunk]:
        usage = event.get("usage")
        if usage:
            self._usage.update((k, v) for k, v in usage.items() if v is not None)
        reason = (event.get("delta") or {}).get("stop_reason")
        finish = self._chunk({}, STOP_REASONS.get(reason or "", "stop"))
        totals = {**self._chunk({}, None), "choices": [], "usage": usage_of(self._usage)}
        return [(None, finish), (None, totals)]


def decoder(deployment: Deployment) -> MessagesDecoder:
    return MessagesDecoder(deployment.upstream_model)


def parse_completion(deployment: Deployment, body: bytes) -> dict[str, Any]:
    """A whole Messages response (a provider that ignored ``stream``) as a chat.completion."""
    try:
        message = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise AttemptError(Outcome.BAD_RESPONSE, f"{deployment.provider.name} sent an unreadable answer") from None
    if not isinstance(message, dict) or not isinstance(message.get("content"), list):
        raise AttemptError(Outcome.BAD_RESPONSE, f"{deployment.provider.name} sent an answer without content")
    texts: list[str] = []
    calls: list[dict[str, Any]] = []
    for block in message["content"]:
        if block.get("type") == "text":
            texts.append(block.get("text") or "")
        elif block.get("type") == "tool_use":
            arguments = orjson.dumps(block.get("input") or {}).decode()
            function = {"name": block.get("name"), "arguments": arguments}
            calls.append({"id": block.get("id"), "type": "function", "function": function})
    reply: dict[str, Any] = {"role": "assistant", "content": "".join(texts) if texts or not calls else None}
    if calls:
        reply["tool_calls"] = calls
    return {
        "id": message.get("id") or "",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": message.get("model") or deployment.upstream_model,
        "choices": [
            {
                "index": 0,
                "message": reply,
                "logprobs": None,
                "finish_reason": STOP_REASONS.get(message.get("stop_reason") or "", "stop"),
            }
        ],
        "usage": usage_of(message.get("usage") or {}),
    }


def validate(provider: Provider) -> str | None:
    unknown = set(provider.options) - OPTIONS
    if unknown:
        return f"options: unknown option(s) {', '.join(sorted(unknown))} (known: {', '.join(sorted(OPTIONS))})"
    if provider.options.get("structured_outputs", "false").lower() not in ("true", "false"):
        return "options.structured_outputs: must be true or false"
    default = provider.options.get("default_max_tokens")
    if default is not None and (not default.isdigit() or int(default) < 1):
        return "options.default_max_tokens: must be a positive integer"
    return None


def default_base_url(options: dict[str, str], region: str | None) -> str:
    return "https://api.anthropic.com/v1"


def probe_request(deployment: Deployment) -> ProbeRequest:
    """GET the model itself: free, authenticated, and a 404 if this deployment names no model."""
    provider = deployment.provider
    url = f"{provider.base_url}/models/{quote(deployment.upstream_model, safe='')}"
    return ProbeRequest(url, _auth_headers(provider))


class _AnthropicAdapter(BaseAdapter):
    headroom_headers = ("anthropic-ratelimit-requests-remaining", "anthropic-ratelimit-tokens-remaining")
    validate = staticmethod(validate)
    default_base_url = staticmethod(default_base_url)
    build_request = staticmethod(build_request)
    probe_request = staticmethod(probe_request)
    classify_error = staticmethod(classify_error)
    is_stream = staticmethod(is_stream)
    decoder = staticmethod(decoder)
    parse_completion = staticmethod(parse_completion)


ADAPTER = _AnthropicAdapter()

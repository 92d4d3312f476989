"""Checks on a chat-completions request body, with OpenAI's error wording and ``param`` names."""

from __future__ import annotations

from typing import Any

import orjson

from gateway.errors import GatewayError
from gateway.usage import MAX_COMPLETION_TOKENS

# Deeper JSON is refused with a 400 (docs: README "Bad input"). Real requests, tool schemas
# included, stay far below it; orjson itself cannot write more than 255 levels back out.
MAX_JSON_DEPTH = 64
ROLES = frozenset({"system", "developer", "user", "assistant", "tool", "function"})
_NUMBER = (int, float)
# Optional fields checked for type; anything else is passed through for the provider to judge.
_TYPED: dict[str, tuple[tuple[type, ...], str]] = {
    "temperature": (_NUMBER, "a number"),
    "top_p": (_NUMBER, "a number"),
    "presence_penalty": (_NUMBER, "a number"),
    "frequency_penalty": (_NUMBER, "a number"),
    "max_tokens": ((int,), "an integer"),
    "max_completion_tokens": ((int,), "an integer"),
    "seed": ((int,), "an integer"),
    "top_logprobs": ((int,), "an integer"),
    "logprobs": ((bool,), "a boolean"),
    "parallel_tool_calls": ((bool,), "a boolean"),
    "user": ((str,), "a string"),
    "stop": ((str, list), "a string or an array of strings"),
    "tools": ((list,), "an array"),
    "tool_choice": ((str, dict), "a string or an object"),
    "response_format": ((dict,), "an object"),
    "stream_options": ((dict,), "an object"),
    "metadata": ((dict,), "an object"),
}


def invalid(message: str, param: str | None = None, code: str | None = None) -> GatewayError:
    return GatewayError(400, message, param=param, code=code)


def parse_body(raw: bytes) -> dict[str, Any]:
    if not raw:
        raise invalid("The request body is empty: send a JSON object.", code="invalid_json")
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise invalid(
            "We could not parse the JSON body of your request: it is not valid JSON.", code="invalid_json"
        ) from None
    if not isinstance(body, dict):
        raise invalid("The request body must be a JSON object.", code="invalid_json")
    # Fewer brackets than the limit cannot nest deeper than it: most bodies skip the walk.
    if raw.count(b"{") + raw.count(b"[") > MAX_JSON_DEPTH and _depth_exceeds(body, MAX_JSON_DEPTH):
        raise invalid(f"The request body is nested deeper than {MAX_JSON_DEPTH} levels.", code="nesting_too_deep")
    return body


def _depth_exceeds(value: Any, limit: int) -> bool:
    """Whether containers nest deeper than ``limit``: one pass over the containers, no recursion."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        children = node.values() if isinstance(node, dict) else node
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def check_chat_request(body: dict[str, Any]) -> None:
    check_model(body)
    _check_messages(body.get("messages"))
    check_options(body)


def check_model(body: dict[str, Any]) -> None:
    model = body.get("model")
    if model is None:
        raise invalid("Missing required parameter: 'model'.", "model", "missing_required_parameter")
    if not isinstance(model, str) or not model.strip():
        raise invalid("Invalid type for 'model': expected a non-empty string.", "model", "invalid_type")


def check_options(body: dict[str, Any]) -> None:
    """The optional fields of a chat (or legacy completions) request: types, ``n`` and token budgets."""
    stream = body.get("stream")
    if stream is not None and not isinstance(stream, bool):
        raise invalid("Invalid type for 'stream': expected a boolean.", "stream", "invalid_type")
    n = body.get("n")
    if n is not None and (not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= 128):
        raise invalid("Invalid value for 'n': expected an integer from 1 to 128.", "n", "invalid_value")
    for name, (types, described) in _TYPED.items():
        value = body.get(name)
        if value is None:
            continue
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
            raise invalid(f"Invalid type for '{name}': expected {described}.", name, "invalid_type")
    for name in ("max_tokens", "max_completion_tokens"):
        _check_token_budget(body.get(name), name)


def _check_token_budget(value: Any, name: str) -> None:
    if value is None:
        return
    if value < 1:
        raise invalid(
            f"Invalid '{name}': integer below minimum value. Expected a value >= 1, but got {value} instead.",
            name,
            "integer_below_min_value",
        )
    if value > MAX_COMPLETION_TOKENS:
        raise invalid(
            f"Invalid '{name}': integer above maximum value. Expected a value <= {MAX_COMPLETION_TOKENS}, "
            f"but got {value} instead.",
            name,
            "integer_above_max_value",
        )


def _check_messages(messages: Any) -> None:
    if messages is None:
        raise invalid("Missing required parameter: 'messages'.", "messages", "missing_required_parameter")
    if not isinstance(messages, list):
        raise invalid("Invalid type for 'messages': expected an array of message objects.", "messages", "invalid_type")
    if not messages:
        raise invalid(
            "Invalid 'messages': empty array. Expected an array with minimum length 1.", "messages", "empty_array"
        )
    for index, message in enumerate(messages):
        if not isinstance(message, dict):
            raise invalid(
                f"Invalid type for 'messages[{index}]': expected an object.", f"messages[{index}]", "invalid_type"
            )
        role = message.get("role")
        if role not in ROLES:
            raise invalid(
                f"Invalid value for 'messages[{index}].role': expected one of {', '.join(sorted(ROLES))}.",
                f"messages[{index}].role",
                "invalid_value",
            )

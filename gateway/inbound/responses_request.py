"""A Responses API request (``POST /v1/responses``) as the internal job body, an OpenAI chat request.

``previous_response_id`` and ``item_reference`` items are resolved from the gateway's response
store (gateway/inbound/responses_store.py) before this translation runs, so what arrives here is
the whole conversation. ``conversation``, ``background`` and ``prompt`` (stored templates) need
more of OpenAI's server-side state and are refused with a 400 naming the parameter, never dropped.

Dropped as having no chat counterpart that every provider takes: ``include``, ``truncation``,
``text.verbosity``, ``service_tier``, ``prompt_cache_key``, ``safety_identifier``, ``top_logprobs``,
``max_tool_calls``, ``stream_options``, ``reasoning.summary`` and reasoning items in ``input``
(another model's reasoning cannot be replayed to this one). ``truncation: auto`` is not performed
(the response says ``disabled``): a conversation too long for the model goes to a fallback with a
larger context window, or gets the provider's context-length error.
"""

from __future__ import annotations

from typing import Any

from gateway.errors import GatewayError
from gateway.usage import MAX_COMPLETION_TOKENS

# Bounds on hostile input beyond the body size limit; far above what real agent loops send.
MAX_ITEMS = 10_000
MAX_PARTS = 1_000
MAX_TOOLS = 1_000
MAX_METADATA = 16
ROLES = {"user": "user", "system": "system", "developer": "system", "assistant": "assistant"}
STATEFUL = ("conversation", "background", "prompt")
EFFORTS = frozenset({"none", "minimal", "low", "medium", "high", "xhigh"})
IMAGE_DETAILS = frozenset({"low", "high", "auto"})
TOOL_CHOICES = frozenset({"auto", "none", "required"})
# Echoed in the response object when the request leaves them out (the API's own defaults).
DEFAULTS: dict[str, Any] = {
    "instructions": None,
    "max_output_tokens": None,
    "metadata": {},
    "parallel_tool_calls": True,
    "reasoning": {"effort": None, "summary": None},
    "temperature": 1.0,
    "text": {"format": {"type": "text"}},
    "tool_choice": "auto",
    "tools": [],
    "top_p": 1.0,
    "truncation": "disabled",
    "user": None,
}


def invalid(message: str, param: str | None, code: str = "invalid_value") -> GatewayError:
    return GatewayError(400, message, param=param, code=code)


def _type_error(param: str, expected: str) -> GatewayError:
    return invalid(f"Invalid type for '{param}': expected {expected}.", param, "invalid_type")


def to_chat(body: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The chat request for a Responses request, and what the response object echoes back."""
    for name in STATEFUL:
        if body.get(name) not in (None, False):
            raise invalid(
                f"'{name}' is not supported by this gateway: send the whole conversation in 'input', "
                "or chain responses with 'previous_response_id'.",
                name,
                "unsupported_parameter",
            )
    echo = dict(DEFAULTS)
    messages = _instructions(body.get("instructions"), echo)
    messages.extend(_input(body.get("input")))
    if not messages:
        raise invalid("Invalid 'input': it holds no message.", "input", "empty_array")
    out: dict[str, Any] = {"model": body.get("model"), "messages": messages}
    stream = body.get("stream")
    if stream is not None:
        out["stream"] = stream
    if stream is True:
        out["stream_options"] = {"include_usage": True}
    _sampling(body, out, echo)
    _tools(body, out, echo)
    _text_format(body.get("text"), out, echo)
    _reasoning(body.get("reasoning"), out, echo)
    _metadata(body.get("metadata"), echo)
    return out, echo


def _instructions(instructions: Any, echo: dict[str, Any]) -> list[dict[str, Any]]:
    if instructions is None:
        return []
    if not isinstance(instructions, str):
        raise _type_error("instructions", "a string")
    echo["instructions"] = instructions
    return [{"role": "system", "content": instructions}] if instructions else []


def _sampling(body: dict[str, Any], out: dict[str, Any], echo: dict[str, Any]) -> None:
    limit = body.get("max_output_tokens")
    if limit is not None:
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_COMPLETION_TOKENS:
            raise invalid(
                f"Invalid 'max_output_tokens': expected an integer from 1 to {MAX_COMPLETION_TOKENS}.",
                "max_output_tokens",
            )
        out["max_tokens"] = echo["max_output_tokens"] = limit
    for name in ("temperature", "top_p"):
        value = body.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _type_error(name, "a number")
        out[name] = echo[name] = value
    for name, kind, described in (("parallel_tool_calls", bool, "a boolean"), ("user", str, "a string")):
        value = body.get(name)
        if value is None:
            continue
        if not isinstance(value, kind):
            raise _type_error(name, described)
        out[name] = echo[name] = value


def _metadata(metadata: Any, echo: dict[str, Any]) -> None:
    """Echoed back, not sent upstream: most providers reject an unknown ``metadata`` field."""
    if metadata is None:
        return
    if not isinstance(metadata, dict) or len(metadata) > MAX_METADATA:
        raise invalid(f"Invalid 'metadata': expected an object of at most {MAX_METADATA} pairs.", "metadata")
    for key, value in metadata.items():
        if len(key) > 64 or not isinstance(value, str) or len(value) > 512:
            raise invalid(
                "Invalid 'metadata': keys are at most 64 characters, values strings of at most 512.", "metadata"
            )
    echo["metadata"] = metadata


def _reasoning(reasoning: Any, out: dict[str, Any], echo: dict[str, Any]) -> None:
    """``effort`` becomes ``reasoning_effort``, which each adapter maps or drops for its provider;
    an effort the gateway does not know is ignored rather than refused."""
    if reasoning is None:
        return
    if not isinstance(reasoning, dict):
        raise _type_error("reasoning", "an object")
    effort = reasoning.get("effort")
    if isinstance(effort, str) and effort in EFFORTS:
        out["reasoning_effort"] = effort
        echo["reasoning"] = {"effort": effort, "summary": None}


def _text_format(text: Any, out: dict[str, Any], echo: dict[str, Any]) -> None:
    if text is None:
        return
    if not isinstance(text, dict):
        raise _type_error("text", "an object")
    fmt = text.get("format")
    if fmt is None:
        return
    kind = fmt.get("type") if isinstance(fmt, dict) else None
    if kind == "json_schema":
        if not isinstance(fmt.get("name"), str) or not isinstance(fmt.get("schema"), dict):
            raise invalid("'text.format' json_schema needs a 'name' string and a 'schema' object.", "text.format")
        spec = {"name": fmt["name"], "schema": fmt["schema"]}
        for name in ("description", "strict"):
            if fmt.get(name) is not None:
                spec[name] = fmt[name]
        out["response_format"] = {"type": "json_schema", "json_schema": spec}
    elif kind == "json_object":
        out["response_format"] = {"type": "json_object"}
    elif kind != "text":
        raise invalid("Invalid 'text.format.type': expected 'text', 'json_object' or 'json_schema'.", "text.format")
    echo["text"] = {"format": fmt}


# ---------------------------------------------------------------- tools


def _tools(body: dict[str, Any], out: dict[str, Any], echo: dict[str, Any]) -> None:
    tools = body.get("tools")
    if tools:
        if not isinstance(tools, list) or len(tools) > MAX_TOOLS:
            raise invalid(f"Invalid 'tools': expected an array of at most {MAX_TOOLS} tools.", "tools")
        out["tools"] = [_tool(tool, index) for index, tool in enumerate(tools)]
        echo["tools"] = tools
    choice = body.get("tool_choice")
    if choice is not None:
        out["tool_choice"] = _tool_choice(choice)
        echo["tool_choice"] = choice


def _tool(tool: Any, index: int) -> dict[str, Any]:
    param = f"tools[{index}]"
    if not isinstance(tool, dict):
        raise _type_error(param, "an object")
    kind = tool.get("type")
    if kind != "function":
        raise invalid(
            f"Tool type {str(kind)[:64]!r} is not supported by this gateway: only 'function' tools are.",
            f"{param}.type",
            "unsupported_tool",
        )
    if not isinstance(tool.get("name"), str) or not tool["name"]:
        raise invalid(f"Missing required parameter: '{param}.name'.", f"{param}.name", "missing_required_parameter")
    parameters = tool.get("parameters")
    if parameters is not None and not isinstance(parameters, dict):
        raise _type_error(f"{param}.parameters", "an object")
    function: dict[str, Any] = {"name": tool["name"]}
    if isinstance(tool.get("description"), str):
        function["description"] = tool["description"]
    function["parameters"] = parameters if parameters is not None else {"type": "object", "properties": {}}
    if isinstance(tool.get("strict"), bool):
        function["strict"] = tool["strict"]
    return {"type": "function", "function": function}


def _tool_choice(choice: Any) -> str | dict[str, Any]:
    if isinstance(choice, str) and choice in TOOL_CHOICES:
        return choice
    if isinstance(choice, dict) and choice.get("type") == "function" and isinstance(choice.get("name"), str):
        return {"type": "function", "function": {"name": choice["name"]}}
    raise invalid(
        "Invalid 'tool_choice': expected 'auto', 'none', 'required' or {'type': 'function', 'name': ...}.",
        "tool_choice",
    )


# ---------------------------------------------------------------- input items


def _input(items: Any) -> list[dict[str, Any]]:
    if isinstance(items, str):
        return [{"role": "user", "content": items}]
    if items is None:
        raise invalid("Missing required parameter: 'input'.", "input", "missing_required_parameter")
    if not isinstance(items, list):
        raise _type_error("input", "a string or an array of input items")
    if len(items) > MAX_ITEMS:
        raise invalid(f"Invalid 'input': at most {MAX_ITEMS} items are accepted.", "input")
    messages: list[dict[str, Any]] = []
    for index, item in enumerate(items):
        _item(item, f"input[{index}]", messages)
    return messages


def _item(item: Any, param: str, messages: list[dict[str, Any]]) -> None:
    if not isinstance(item, dict):
        raise _type_error(param, "an object")
    kind = item.get("type", "message")
    if kind == "message":
        _message(item, param, messages)
    elif kind == "function_call":
        _function_call(item, param, messages)
    elif kind == "function_call_output":
        messages.append(
            {
                "role": "tool",
                "tool_call_id": _text(item.get("call_id"), f"{param}.call_id"),
                "content": _tool_output(item.get("output"), f"{param}.output"),
            }
        )
    elif kind == "item_reference":
        # The store resolves every reference first (gateway/inbound/openai_responses.py).
        raise invalid("'item_reference' items are only accepted at the top level of 'input'.", param)
    elif kind != "reasoning":
        raise invalid(f"Input item type {str(kind)[:64]!r} is not supported by this gateway.", f"{param}.type")


def _text(value: Any, param: str) -> str:
    if not isinstance(value, str):
        raise _type_error(param, "a string")
    return value


def _message(item: dict[str, Any], param: str, messages: list[dict[str, Any]]) -> None:
    role = item.get("role")
    role = ROLES.get(role) if isinstance(role, str) else None
    if role is None:
        raise invalid(
            f"Invalid value for '{param}.role': expected one of assistant, developer, system, user.", f"{param}.role"
        )
    content = item.get("content")
    if isinstance(content, str):
        messages.append({"role": role, "content": content})
        return
    if not isinstance(content, list) or len(content) > MAX_PARTS:
        raise _type_error(f"{param}.content", f"a string or an array of at most {MAX_PARTS} content parts")
    parts = [_part(part, f"{param}.content[{index}]") for index, part in enumerate(content)]
    if role != "user" or all(part["type"] == "text" for part in parts):
        if role != "user" and any(part["type"] != "text" for part in parts):
            raise invalid(f"Images and files are only accepted in user messages ('{param}').", f"{param}.content")
        messages.append({"role": role, "content": "".join(part["text"] for part in parts)})
        return
    messages.append({"role": role, "content": parts})


def _part(part: Any, param: str) -> dict[str, Any]:
    kind = part.get("type") if isinstance(part, dict) else None
    if kind in ("input_text", "output_text"):
        return {"type": "text", "text": _text(part.get("text"), f"{param}.text")}
    if kind == "refusal":
        return {"type": "text", "text": _text(part.get("refusal"), f"{param}.refusal")}
    if kind == "input_image":
        url = part.get("image_url")
        if not isinstance(url, str) or not url:
            raise invalid(
                f"'{param}' needs an 'image_url' (an https or data: URL); file ids need OpenAI's file store.",
                f"{param}.image_url",
            )
        image: dict[str, Any] = {"url": url}
        if isinstance(part.get("detail"), str) and part["detail"] in IMAGE_DETAILS:
            image["detail"] = part["detail"]
        return {"type": "image_url", "image_url": image}
    if kind == "input_file" and isinstance(part.get("file_data"), str):
        file = {"file_data": part["file_data"]}
        if isinstance(part.get("filename"), str):
            file["filename"] = part["filename"]
        return {"type": "file", "file": file}
    if kind == "input_file":
        raise invalid(
            f"'{param}' needs 'file_data' (a data: URL); file ids and URLs need OpenAI's file store.",
            f"{param}.file_data",
        )
    raise invalid(f"Content part type {str(kind)[:64]!r} is not supported by this gateway.", f"{param}.type")


def _function_call(item: dict[str, Any], param: str, messages: list[dict[str, Any]]) -> None:
    """Calls join the assistant turn just before them: chat puts a turn's text and calls in one message."""
    call = {
        "id": _text(item.get("call_id"), f"{param}.call_id"),
        "type": "function",
        "function": {
            "name": _text(item.get("name"), f"{param}.name"),
            "arguments": _text(item.get("arguments"), f"{param}.arguments"),
        },
    }
    last = messages[-1] if messages else None
    if last is not None and last["role"] == "assistant":
        last.setdefault("tool_calls", []).append(call)
        if not last["content"]:
            last["content"] = None
    else:
        messages.append({"role": "assistant", "content": None, "tool_calls": [call]})


def _tool_output(output: Any, param: str) -> str:
    if isinstance(output, str):
        return output
    if not isinstance(output, list) or len(output) > MAX_PARTS:
        raise _type_error(param, "a string or an array of input_text parts")
    texts = []
    for index, part in enumerate(output):
        if not isinstance(part, dict) or part.get("type") != "input_text":
            raise invalid(f"Only text is supported in function call outputs ('{param}[{index}]').", f"{param}[{index}]")
        texts.append(_text(part.get("text"), f"{param}[{index}].text"))
    return "".join(texts)

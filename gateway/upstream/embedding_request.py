"""An embeddings request: OpenAI's checks and wording, and its inputs as the formats need them."""

from __future__ import annotations

from typing import Any

from gateway.errors import Inexpressible
from gateway.validation import check_model, invalid

# OpenAI's limits: 2048 inputs and 300,000 tokens per request (estimated here at ~4 characters a
# token, as everywhere on the request path).
MAX_INPUTS = 2048
MAX_TOTAL_TOKENS = 300_000
ENCODINGS = ("float", "base64")
# Chat fields the pipeline would read (choices, stream options): refused rather than misread.
_CHAT_ONLY = ("n", "stream_options")
_INPUT_TYPES = "a string, an array of strings, an array of tokens or an array of token arrays"


def check_request(body: dict[str, Any]) -> None:
    """OpenAI's checks of an embeddings request, in its wording; linear in the input's size."""
    check_model(body)
    if body.get("stream"):
        raise invalid("Embeddings are not streamed: leave out 'stream'.", "stream", "unsupported_parameter")
    for name in _CHAT_ONLY:
        if name in body:
            raise invalid(f"Unrecognized request argument supplied: {name}", name, "unsupported_parameter")
    _check_input(body.get("input"))
    encoding = body.get("encoding_format")
    if encoding is not None and encoding not in ENCODINGS:
        raise invalid("Invalid value for 'encoding_format': expected 'float' or 'base64'.", "encoding_format")
    dimensions = body.get("dimensions")
    if dimensions is not None and (not isinstance(dimensions, int) or isinstance(dimensions, bool)):
        raise invalid("Invalid type for 'dimensions': expected an integer.", "dimensions", "invalid_type")
    if dimensions is not None and dimensions < 1:
        raise invalid(
            f"Invalid 'dimensions': integer below minimum value. Expected a value >= 1, but got {dimensions} instead.",
            "dimensions",
            "integer_below_min_value",
        )
    user = body.get("user")
    if user is not None and not isinstance(user, str):
        raise invalid("Invalid type for 'user': expected a string.", "user", "invalid_type")


def _check_input(value: Any) -> None:
    if value is None:
        raise invalid("Missing required parameter: 'input'.", "input", "missing_required_parameter")
    if isinstance(value, str):
        items: list[Any] = [value]
    elif isinstance(value, list) and value and _is_token(value[0]):
        items = [value]
    elif isinstance(value, list):
        items = value
    else:
        raise invalid(f"Invalid type for 'input': expected {_INPUT_TYPES}.", "input", "invalid_type")
    if not items:
        raise invalid("Invalid 'input': empty array. Expected an array with minimum length 1.", "input", "empty_array")
    if len(items) > MAX_INPUTS:
        raise invalid(
            f"Invalid 'input': array too long. Expected an array with maximum length {MAX_INPUTS}, "
            f"but got an array with length {len(items)} instead.",
            "input",
            "array_above_max_length",
        )
    tokens = 0
    for index, item in enumerate(items):
        tokens += _item_tokens(item, index)
    if tokens > MAX_TOTAL_TOKENS:
        raise invalid(
            f"Requested about {tokens} tokens; the maximum for one embeddings request is {MAX_TOTAL_TOKENS} tokens.",
            "input",
            "max_tokens_per_request",
        )


def _item_tokens(item: Any, index: int) -> int:
    if isinstance(item, str):
        if not item:
            raise invalid(f"Invalid 'input[{index}]': empty string.", "input", "empty_string")
        return max(1, len(item) // 4)
    if isinstance(item, list) and item and all(_is_token(token) for token in item):
        return len(item)
    raise invalid(f"Invalid type for 'input[{index}]': expected {_INPUT_TYPES}.", "input", "invalid_type")


def _is_token(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**31


def texts(body: dict[str, Any]) -> list[str]:
    """The inputs as strings, for formats that cannot take token ids."""
    value = body["input"]
    if isinstance(value, str):
        return [value]
    if isinstance(value[0], str):
        return value
    raise Inexpressible("This provider takes text inputs only, not token arrays.", param="input")

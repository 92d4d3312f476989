"""Tool call ids that must survive a failover between wire formats.

Mistral insists on 9-character ids; Gemini 3 wants its thought signature back with every tool call
it made, so the gateway carries the signature inside the id it hands the client, and strips it for
every other provider (OpenAI refuses ids over 40 characters).
"""

from __future__ import annotations

import hashlib
import re
import string
from collections.abc import Callable
from typing import Any

from gateway.ids import random_hex

SIGNATURE_MARK = "__thought__"
_TO_URLSAFE = str.maketrans("+/", "-_")
_FROM_URLSAFE = str.maketrans("-_", "+/")
_SHORT_ID = re.compile(r"[A-Za-z0-9]{9}")
_BASE62 = string.digits + string.ascii_letters


def short_tool_id(value: Any) -> Any:
    """A 9-character letters-and-digits id for ``value``; always the same one for the same value."""
    if not isinstance(value, str) or _SHORT_ID.fullmatch(value):
        return value
    number = int.from_bytes(hashlib.sha256(value.encode()).digest()[:8], "big")
    letters = []
    for _ in range(9):
        number, digit = divmod(number, 62)
        letters.append(_BASE62[digit])
    return "".join(letters)


def with_tool_ids(message: Any, rename: Callable[[Any], Any]) -> Any:
    """``message`` with every tool call id in it (calls and result) passed through ``rename``."""
    if not isinstance(message, dict) or not ("tool_calls" in message or "tool_call_id" in message):
        return message
    message = dict(message)
    if "tool_call_id" in message:
        message["tool_call_id"] = rename(message["tool_call_id"])
    calls = message.get("tool_calls")
    if isinstance(calls, list):
        message["tool_calls"] = [
            {**call, "id": rename(call.get("id"))} if isinstance(call, dict) and "id" in call else call
            for call in calls
        ]
    return message


def signature_of(call_id: Any) -> str | None:
    """The thought signature carried in a tool call id minted by ``tool_call_id``, if any."""
    if not isinstance(call_id, str):
        return None
    _, mark, encoded = call_id.partition(SIGNATURE_MARK)
    if not mark or not encoded:
        return None
    return encoded.translate(_FROM_URLSAFE) + "=" * (-len(encoded) % 4)


def without_signatures(body: dict[str, Any]) -> dict[str, Any]:
    """``body`` for any provider but Gemini: tool call ids without the thought signatures inside.

    A signed id runs to about a thousand characters, and OpenAI refuses ids over 40, so a tool
    conversation begun on Gemini 3 could not fail over. The bare ``call_<hex>`` stays unique. The
    same body comes back, uncopied, when no id carries a signature.
    """
    messages = body.get("messages")
    if not isinstance(messages, list) or not any(_signed(message) for message in messages):
        return body
    return {**body, "messages": [with_tool_ids(message, _unsigned) for message in messages]}


def _signed(message: Any) -> bool:
    if not isinstance(message, dict) or not ("tool_calls" in message or "tool_call_id" in message):
        return False
    calls = message.get("tool_calls")
    ids = [call.get("id") for call in calls if isinstance(call, dict)] if isinstance(calls, list) else []
    return any(isinstance(i, str) and SIGNATURE_MARK in i for i in [*ids, message.get("tool_call_id")])


def _unsigned(call_id: Any) -> Any:
    return call_id.partition(SIGNATURE_MARK)[0] if isinstance(call_id, str) else call_id


def tool_call_id(signature: Any) -> str:
    """A fresh OpenAI tool call id; with Gemini's signature inside, in id-safe base64url."""
    call_id = f"call_{random_hex(24)}"
    if isinstance(signature, str) and signature:
        call_id += SIGNATURE_MARK + signature.translate(_TO_URLSAFE).rstrip("=")
    return call_id

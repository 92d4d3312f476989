"""OpenAI chunks: what a stream has shown so far, and the conversions between chunks and whole answers.

Pure data work with no I/O, shared by the attempt relay and the adapters that receive whole answers.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class StreamState:
    """What the client-facing stream needs to know about the upstream's chunks so far."""

    target_model: str
    choices: int
    upstream_model: str | None = None
    finished: set[int] = field(default_factory=set)
    usage: dict[str, Any] | None = None
    content_seen: bool = False
    malformed: int = 0
    content_chunks: int = 0
    first_chunk: dict[str, Any] | None = None

    @property
    def complete(self) -> bool:
        return len(self.finished) >= self.choices

    def observe(self, chunk: dict[str, Any]) -> bool:
        """Record a chunk; return True if it carries answer content."""
        if self.first_chunk is None:
            self.first_chunk = chunk
            self.upstream_model = chunk.get("model")
        usage = chunk.get("usage")
        if usage:
            self.usage = usage
        has_content = False
        for choice in chunk.get("choices") or ():
            delta = choice.get("delta") or {}
            if delta.get("content") or delta.get("tool_calls") or delta.get("refusal") or delta.get("function_call"):
                has_content = True
            if choice.get("finish_reason"):
                self.finished.add(choice.get("index", 0))
        if has_content:
            self.content_seen = True
            self.content_chunks += 1
        return has_content


def completion_to_chunks(completion: dict[str, Any]) -> list[dict[str, Any]]:
    base = {
        "id": completion.get("id", ""),
        "object": "chat.completion.chunk",
        "created": completion.get("created", int(time.time())),
        "model": completion.get("model"),
    }
    chunks = []
    for choice in completion.get("choices") or ():
        message = choice.get("message") or {}
        delta = {key: value for key, value in message.items() if value is not None}
        chunks.append({**base, "choices": [{"index": choice.get("index", 0), "delta": delta, "finish_reason": None}]})
        chunks.append(
            {
                **base,
                "choices": [
                    {
                        "index": choice.get("index", 0),
                        "delta": {},
                        "finish_reason": choice.get("finish_reason") or "stop",
                    }
                ],
            }
        )
    if completion.get("usage"):
        chunks.append({**base, "choices": [], "usage": completion["usage"]})
    return chunks


def aggregate(chunks: list[dict[str, Any]], state: StreamState) -> dict[str, Any]:
    """Build a chat.completion object from the chunks of a streamed answer."""
    first = chunks[0] if chunks else {}
    choices: dict[int, dict[str, Any]] = {}
    for chunk in chunks:
        for choice in chunk.get("choices") or ():
            index = choice.get("index", 0)
            target = choices.get(index)
            if target is None:
                target = choices[index] = _empty_choice(index)
            _merge_choice(target, choice)
    result: dict[str, Any] = {
        "id": first.get("id", ""),
        "object": "chat.completion",
        "created": first.get("created", int(time.time())),
        "model": state.target_model,
        "choices": [_finish_choice(choices[index]) for index in sorted(choices)],
        "usage": state.usage,
    }
    if first.get("system_fingerprint"):
        result["system_fingerprint"] = first["system_fingerprint"]
    return result


def _empty_choice(index: int) -> dict[str, Any]:
    return {
        "index": index,
        "content": [],
        "refusal": [],
        "tool_calls": {},
        "finish_reason": None,
        "logprobs": None,
        "role": "assistant",
    }


def _merge_choice(target: dict[str, Any], choice: dict[str, Any]) -> None:
    delta = choice.get("delta") or {}
    if delta.get("content"):
        target["content"].append(delta["content"])
    if delta.get("refusal"):
        target["refusal"].append(delta["refusal"])
    for call in delta.get("tool_calls") or ():
        slot = target["tool_calls"].setdefault(
            call.get("index", 0), {"id": None, "type": "function", "function": {"name": "", "arguments": ""}}
        )
        if call.get("id"):
            slot["id"] = call["id"]
        function = call.get("function") or {}
        slot["function"]["name"] += function.get("name") or ""
        slot["function"]["arguments"] += function.get("arguments") or ""
    if choice.get("finish_reason"):
        target["finish_reason"] = choice["finish_reason"]
    logprobs = choice.get("logprobs")
    if logprobs and logprobs.get("content"):
        if target["logprobs"] is None:
            target["logprobs"] = {"content": []}
        target["logprobs"]["content"].extend(logprobs["content"])


def _finish_choice(choice: dict[str, Any]) -> dict[str, Any]:
    message: dict[str, Any] = {
        "role": "assistant",
        "content": "".join(choice["content"]) if choice["content"] or not choice["tool_calls"] else None,
        "refusal": "".join(choice["refusal"]) or None,
    }
    if choice["tool_calls"]:
        message["tool_calls"] = [choice["tool_calls"][i] for i in sorted(choice["tool_calls"])]
    return {
        "index": choice["index"],
        "message": message,
        "logprobs": choice["logprobs"],
        "finish_reason": choice["finish_reason"] or "stop",
    }

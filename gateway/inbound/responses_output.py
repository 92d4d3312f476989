"""Chat answers as Responses API output: a whole ``response`` object, or its SSE events chunk by chunk.

A stream is ``response.created`` and ``response.in_progress``, then for each output item its
``output_item.added``, deltas and ``.done`` events, then one terminal event: ``response.completed``
(``response.incomplete`` when the answer hit ``max_output_tokens`` or a content filter), or
``response.failed`` when the upstream cut the answer after it began; never a fake completion.
Items stay open until the answer ends, so a late chunk of any of them still has its place.
"""

from __future__ import annotations

from typing import Any

import orjson

from gateway.ids import random_hex

ARGUMENTS_DELTA = b"response.function_call_arguments.delta"
INCOMPLETE = {"length": "max_output_tokens", "content_filter": "content_filter"}


def usage_of(usage: dict[str, Any]) -> dict[str, Any]:
    prompt = usage.get("prompt_tokens") or 0
    completion = usage.get("completion_tokens") or 0
    cached = (usage.get("prompt_tokens_details") or {}).get("cached_tokens") or 0
    reasoning = (usage.get("completion_tokens_details") or {}).get("reasoning_tokens") or 0
    return {
        "input_tokens": prompt,
        "input_tokens_details": {"cached_tokens": cached, "cache_write_tokens": 0},
        "output_tokens": completion,
        "output_tokens_details": {"reasoning_tokens": reasoning},
        "total_tokens": usage.get("total_tokens") or prompt + completion,
    }


class Envelope:
    """What every ``response`` object of one request shares: its id, its time and the echoed request."""

    __slots__ = ("created_at", "echo", "id", "previous_response_id", "store")

    def __init__(self, echo: dict[str, Any], created_at: int) -> None:
        self.id = f"resp_{random_hex()}"
        self.echo = echo
        self.created_at = created_at
        self.previous_response_id: str | None = None
        self.store = False  # whether this response is (to be) stored

    def response(
        self, model: str, status: str, output: list[dict[str, Any]], usage: dict[str, Any] | None, **extra: Any
    ) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "response",
            "created_at": self.created_at,
            "status": status,
            "background": False,
            "error": None,
            "incomplete_details": None,
            **self.echo,
            "model": model,
            "output": output,
            "previous_response_id": self.previous_response_id,
            "store": self.store,
            "usage": usage_of(usage) if usage is not None else None,
            **extra,
        }

    def finished(
        self, model: str, finish: str | None, output: list[dict[str, Any]], usage: dict[str, Any]
    ) -> dict[str, Any]:
        reason = INCOMPLETE.get(finish or "")
        if reason is None:
            return self.response(model, "completed", output, usage)
        return self.response(model, "incomplete", output, usage, incomplete_details={"reason": reason})


def output_text(text: str) -> dict[str, Any]:
    return {"type": "output_text", "text": text, "annotations": [], "logprobs": []}


def message_item(item_id: str, status: str, content: list[dict[str, Any]]) -> dict[str, Any]:
    return {"id": item_id, "type": "message", "status": status, "role": "assistant", "content": content}


def call_item(item_id: str, status: str, call_id: str, name: str, arguments: str) -> dict[str, Any]:
    return {
        "id": item_id,
        "type": "function_call",
        "status": status,
        "call_id": call_id,
        "name": name,
        "arguments": arguments,
    }


def to_response(envelope: Envelope, completion: dict[str, Any]) -> dict[str, Any]:
    """The ``response`` object for an aggregated chat.completion."""
    choice = completion["choices"][0] if completion["choices"] else {"message": {}, "finish_reason": "stop"}
    reply, finish = choice["message"], choice["finish_reason"]
    status = "incomplete" if finish in INCOMPLETE else "completed"
    output: list[dict[str, Any]] = []
    content = []
    if reply.get("content"):
        content.append(output_text(reply["content"]))
    if reply.get("refusal"):
        content.append({"type": "refusal", "refusal": reply["refusal"]})
    if content:
        output.append(message_item(f"msg_{random_hex()}", status, content))
    for call in reply.get("tool_calls") or ():
        function = call["function"]
        call_id = call.get("id") or f"call_{random_hex(24)}"
        output.append(call_item(f"fc_{random_hex()}", "completed", call_id, function["name"], function["arguments"]))
    return envelope.finished(completion["model"], finish, output, completion["usage"] or {})


# ---------------------------------------------------------------- streaming


class _Part:
    __slots__ = ("kind", "pieces")

    def __init__(self, kind: str) -> None:
        self.kind = kind  # "output_text" or "refusal"
        self.pieces: list[str] = []

    def done(self) -> dict[str, Any]:
        text = "".join(self.pieces)
        return output_text(text) if self.kind == "output_text" else {"type": "refusal", "refusal": text}


class _Item:
    """One output item being streamed: the assistant message, or one function call."""

    __slots__ = ("arguments", "call_id", "id", "index", "name", "parts")

    def __init__(self, item_id: str, index: int, call_id: str = "", name: str = "") -> None:
        self.id = item_id
        self.index = index
        self.call_id = call_id
        self.name = name
        self.arguments: list[str] = []
        self.parts: list[_Part] = []

    def as_json(self, status: str) -> dict[str, Any]:
        if self.id.startswith("fc_"):
            return call_item(self.id, status, self.call_id, self.name, "".join(self.arguments))
        return message_item(self.id, status, [part.done() for part in self.parts])


class ResponseEvents:
    """Chat chunks in, Responses SSE events out, each with the next ``sequence_number``."""

    __slots__ = ("_calls", "_message", "envelope", "finish", "items", "model", "seq")

    def __init__(self, envelope: Envelope, model: str) -> None:
        self.envelope = envelope
        self.model = model
        self.seq = 0
        self.items: list[_Item] = []
        self._message: _Item | None = None
        self._calls: dict[int, _Item] = {}  # the chat tool-call index -> its item
        self.finish: str | None = None

    def event(self, data: dict[str, Any]) -> bytes:
        data["sequence_number"] = self.seq
        self.seq += 1
        return b"event: " + data["type"].encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"

    def start(self) -> bytes:
        response = self.envelope.response(self.model, "in_progress", [], None)
        created = self.event({"type": "response.created", "response": response})
        return created + self.event({"type": "response.in_progress", "response": response})

    def chunk(self, chunk: dict[str, Any], out: list[bytes]) -> None:
        for choice in chunk.get("choices") or ():
            if choice.get("index", 0) != 0:
                continue
            delta = choice.get("delta") or {}
            if delta.get("content"):
                self._text("output_text", delta["content"], out)
            if delta.get("refusal"):
                self._text("refusal", delta["refusal"], out)
            for call in delta.get("tool_calls") or ():
                self._call(call, out)
            if choice.get("finish_reason"):
                self.finish = choice["finish_reason"]

    def _text(self, kind: str, text: str, out: list[bytes]) -> None:
        item = self._message
        if item is None:
            item = self._message = self._add(_Item(f"msg_{random_hex()}", len(self.items)), out)
        if not item.parts or item.parts[-1].kind != kind:
            if item.parts:
                self._part_done(item, out)
            item.parts.append(_Part(kind))
            out.append(
                self.event(
                    {
                        "type": "response.content_part.added",
                        "item_id": item.id,
                        "output_index": item.index,
                        "content_index": len(item.parts) - 1,
                        "part": _Part(kind).done(),
                    }
                )
            )
        item.parts[-1].pieces.append(text)
        name = b"response.output_text.delta" if kind == "output_text" else b"response.refusal.delta"
        out.append(
            b'event: %b\ndata: {"type":"%b","item_id":"%b","output_index":%d,"content_index":%d,"delta":%b,%b'
            b'"sequence_number":%d}\n\n'
            % (
                name,
                name,
                item.id.encode(),
                item.index,
                len(item.parts) - 1,
                orjson.dumps(text),
                b'"logprobs":[],' if kind == "output_text" else b"",
                self.seq,
            )
        )
        self.seq += 1

    def _call(self, call: dict[str, Any], out: list[bytes]) -> None:
        function = call.get("function") or {}
        slot = call.get("index", 0)
        item = self._calls.get(slot)
        if item is None:
            call_id = call.get("id") or f"call_{random_hex(24)}"
            item = _Item(f"fc_{random_hex()}", len(self.items), call_id, function.get("name") or "")
            self._calls[slot] = self._add(item, out)
        elif function.get("name"):
            item.name += function["name"]
        arguments = function.get("arguments")
        if arguments:
            item.arguments.append(arguments)
            out.append(
                b'event: %b\ndata: {"type":"%b","item_id":"%b","output_index":%d,"delta":%b,"sequence_number":%d}\n\n'
                % (ARGUMENTS_DELTA, ARGUMENTS_DELTA, item.id.encode(), item.index, orjson.dumps(arguments), self.seq)
            )
            self.seq += 1

    def _add(self, item: _Item, out: list[bytes]) -> _Item:
        self.items.append(item)
        added = {"type": "response.output_item.added", "output_index": item.index, "item": item.as_json("in_progress")}
        out.append(self.event(added))
        return item

    def _part_done(self, item: _Item, out: list[bytes]) -> None:
        part = item.parts[-1]
        where = {"item_id": item.id, "output_index": item.index, "content_index": len(item.parts) - 1}
        if part.kind == "output_text":
            text = "".join(part.pieces)
            out.append(self.event({"type": "response.output_text.done", **where, "text": text, "logprobs": []}))
        else:
            out.append(self.event({"type": "response.refusal.done", **where, "refusal": "".join(part.pieces)}))
        out.append(self.event({"type": "response.content_part.done", **where, "part": part.done()}))

    def end(self, usage: dict[str, Any]) -> bytes:
        """Every item's closing events, then ``response.completed`` (or ``.incomplete``) with the usage."""
        return self.terminal(*self.close(usage))

    def close(self, usage: dict[str, Any]) -> tuple[list[bytes], dict[str, Any]]:
        """Every item's closing events, and the final ``response`` object."""
        status = "incomplete" if self.finish in INCOMPLETE else "completed"
        out: list[bytes] = []
        done_items = []
        for item in self.items:
            is_call = item.id.startswith("fc_")
            if is_call:
                done = {
                    "type": "response.function_call_arguments.done",
                    "item_id": item.id,
                    "output_index": item.index,
                    "arguments": "".join(item.arguments),
                }
                out.append(self.event(done))
            else:
                self._part_done(item, out)
            done_items.append(item.as_json("completed" if is_call else status))
            out.append(
                self.event({"type": "response.output_item.done", "output_index": item.index, "item": done_items[-1]})
            )
        return out, self.envelope.finished(self.model, self.finish, done_items, usage)

    def terminal(self, out: list[bytes], response: dict[str, Any]) -> bytes:
        kind = "response.completed" if response["status"] == "completed" else "response.incomplete"
        out.append(self.event({"type": kind, "response": response}))
        return b"".join(out)

    def failed(self, message: str, usage: dict[str, Any] | None) -> bytes:
        """The upstream broke off mid-answer: ``response.failed`` with what arrived, marked incomplete."""
        output = [item.as_json("incomplete") for item in self.items]
        error = {"code": "server_error", "message": message}
        response = self.envelope.response(self.model, "failed", output, usage, error=error)
        return self.event({"type": "response.failed", "response": response})

"""Request builders and SSE parsing shared by the simulator tests."""

from __future__ import annotations

from typing import Any

import orjson

MODEL = "gpt-4o-mini"


def chat_body(model: str = MODEL, **extra: Any) -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": "Hi there!"}], **extra}


def sse_payloads(text: str) -> list[str]:
    """The `data:` payloads of an SSE body, in order."""
    return [block[len("data: ") :] for block in text.split("\n\n") if block.startswith("data: ")]


def sse_chunks(text: str) -> list[dict[str, Any]]:
    return [orjson.loads(p) for p in sse_payloads(text) if p != "[DONE]"]


def streamed_text(text: str) -> str:
    return "".join(
        choice["delta"].get("content") or ""
        for chunk in sse_chunks(text)
        for choice in chunk["choices"]
    )

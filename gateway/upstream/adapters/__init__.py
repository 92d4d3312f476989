"""One adapter per upstream wire format. Each turns an OpenAI chat request into the provider's
request, and the provider's answer back into OpenAI chunks, event by event."""

from __future__ import annotations

from gateway.upstream.adapters import anthropic, bedrock, gemini, openai
from gateway.upstream.adapters.base import Adapter

ADAPTERS: dict[str, Adapter] = {
    "anthropic": anthropic.ADAPTER,
    "bedrock": bedrock.ADAPTER,
    "gemini": gemini.GEMINI,
    "openai": openai.ADAPTER,
    "vertex": gemini.VERTEX,
}
ADAPTERS.update(openai.profiled_adapters())

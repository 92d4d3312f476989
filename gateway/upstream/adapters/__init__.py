"""One adapter per upstream wire format. Each turns an OpenAI chat request into the provider's
request, and the provider's answer back into OpenAI chunks, event by event."""

from __future__ import annotations

from gateway.upstream.adapters import anthropic, azure, bedrock, gemini, openai
from gateway.upstream.adapters.base import Adapter
from gateway.upstream.profiles import PROFILES

ADAPTERS: dict[str, Adapter] = {
    "anthropic": anthropic.ADAPTER,
    "bedrock": bedrock.ADAPTER,
    "gemini": gemini.GEMINI,
    "openai": openai.ADAPTER,
    "vertex": gemini.VERTEX,
}
# Every other OpenAI-compatible kind, shaped by its profile, and Azure, which builds on them.
ADAPTERS.update({kind: openai.ProfiledAdapter(p) for kind, p in PROFILES.items() if kind != "openai"})
ADAPTERS["azure"] = azure.ADAPTER

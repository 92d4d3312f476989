"""A live gateway whose providers are OpenAI-compatible kinds, each pointed at the simulator."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from simulator.harness import SimulatorServer
from tests.providers.profiles.harness import TIMEOUTS, Gateway, live_gateway

# (provider name = kind, upstream model, extra provider fields)
PROVIDERS = [
    ("groq", "llama-3.3-70b-versatile", ""),
    ("mistral", "mistral-large-2411", ""),
    ("perplexity", "sonar", ""),
    ("cloudflare", "@cf/meta/llama-3.1-8b-instruct", ", options: {account_id: acct123}"),
    ("cohere", "command-a-03-2025", ""),
    ("openrouter", "anthropic/claude-sonnet-4.5", ", options: {http_referer: 'https://app.example', app_title: Demo}"),
    ("vllm", "meta-llama/Llama-3.1-8B-Instruct", ""),
    ("openai", "o4-mini", ""),
    ("moonshot", "kimi-k2-0905-preview", ""),
    ("zai", "glm-4.5", ""),
    ("custom", "chat-large", ", options: {auth_header: x-api-key, drop_params: 'seed,user'}"),
]
NO_KEY = {"vllm"}


def key_for(name: str) -> str:
    return f"sk-{name}-test-secret-0001"


def profiles_yaml(sim: SimulatorServer) -> str:
    lines = ["providers:"]
    for name, _, extra in PROVIDERS:
        key = "" if name in NO_KEY else f", api_key: {key_for(name)}"
        lines.append(
            f"  - {{name: {name}, kind: {name}, base_url: '{sim.url_for(name)}'{key}, timeout: {TIMEOUTS}{extra}}}"
        )
    lines.append("models:")
    for name, upstream, _ in PROVIDERS:
        lines.append(f"  - {{name: on-{name}, deployments: [{{provider: {name}, model: '{upstream}'}}]}}")
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="session")
def profiles_gateway(django_db_setup: None, django_db_blocker: Any, simulator: SimulatorServer) -> Iterator[Gateway]:
    with live_gateway(profiles_yaml(simulator), simulator, django_db_blocker, "profiles") as gateway:
        yield gateway


@pytest.fixture
def gw(profiles_gateway: Gateway, db: None) -> Gateway:
    profiles_gateway.reset()
    return profiles_gateway

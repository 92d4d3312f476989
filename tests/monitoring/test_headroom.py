"""Provider rate-limit headroom: the adapters read the remaining requests and tokens the provider reports
(two headers, over real HTTP from the simulator), and the health registry marks a deployment whose
headroom is near zero, ranks it behind the others for a while, and announces only the crossings."""

from __future__ import annotations

import uuid

import httpx

from gateway.routing.health import HEADROOM_HOLD, Health, HealthRegistry
from gateway.upstream.adapters import ADAPTERS
from simulator.harness import SimulatorServer

MESSAGES = [{"role": "user", "content": "hi"}]


def test_openai_and_anthropic_adapters_read_the_remaining_budget_the_provider_reports(
    simulator: SimulatorServer,
) -> None:
    name = f"budget-{uuid.uuid4().hex[:8]}"
    simulator.set_rate_limit(name, requests=100, tokens=5000)
    base = simulator.url_for(name)
    openai = httpx.post(f"{base}/chat/completions", json={"model": "m", "messages": MESSAGES})
    anthropic = httpx.post(f"{base}/messages", json={"model": "m", "max_tokens": 50, "messages": MESSAGES})
    assert ADAPTERS["openai"].headroom(openai.headers) == (99, 5000 - simulator.tokens)
    assert ADAPTERS["anthropic"].headroom(anthropic.headers) == (98, 5000 - 2 * simulator.tokens)
    assert ADAPTERS["groq"].headroom(httpx.Headers()) == (None, None)  # a provider that sends none
    assert ADAPTERS["gemini"].headroom(openai.headers) is None  # the format has no such headers


def _registry() -> tuple[HealthRegistry, list[str]]:
    seen: list[str] = []

    def listener(deployment: str, kind: str, health: Health) -> None:
        seen.append(kind)

    return HealthRegistry(listener=listener), seen


def test_headroom_under_five_percent_of_the_most_seen_ranks_a_deployment_last_until_it_recovers() -> None:
    registry, seen = _registry()
    registry.record_headroom("a", 0.0, (1000, 900_000))
    assert registry.rank("a", 0.0) == (0, 0.0)
    for step, left in enumerate(range(200, 30, -10)):  # 40 (4 % of 1000) is the first under 5 %
        registry.record_headroom("a", 1.0 + step * 0.01, (left, 900_000))
    assert registry.rank("a", 2.0)[0] == 1 and seen == ["low"]
    registry.record_headroom("a", 3.0, (990, 900_000))  # a new window
    assert registry.rank("a", 3.0)[0] == 0 and seen == ["low", "headroom"]


def test_a_low_mark_lapses_after_its_hold_and_is_renewed_at_most_twice_per_hold() -> None:
    registry, seen = _registry()
    registry.record_headroom("a", 0.0, (None, 500))  # under the absolute floor of tokens
    assert registry.rank("a", HEADROOM_HOLD - 0.1)[0] == 1
    assert registry.rank("a", HEADROOM_HOLD + 0.1)[0] == 0  # little traffic reached it: try it again
    for tick in range(100):  # still near zero on every answer for one hold
        registry.record_headroom("a", HEADROOM_HOLD + 0.2 + tick * HEADROOM_HOLD / 100, (1, None))
    assert seen.count("low") <= 4
    assert registry.rank("b", 0.0) == (0, 0.0) and registry.get("b").low_until == 0.0

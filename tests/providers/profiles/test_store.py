"""`store: true` would keep tenants' prompts in the operator's OpenAI account: it is dropped on
every OpenAI-compatible provider unless the operator sets `allow_store: "true"` on it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from gateway.conf.domain import ConfigFileError
from gateway.conf.loader import parse_config
from simulator.harness import SimulatorServer
from tests.providers.profiles.harness import TIMEOUTS, Gateway, hi, live_gateway

PROVIDERS = [
    ("openai", "openai", ""),
    ("openai-store", "openai", ', options: {allow_store: "true"}'),
    ("openrouter", "openrouter", ""),
    ("vllm", "vllm", ""),
    ("custom", "custom", ', options: {allow_store: "false"}'),
]


def store_yaml(sim: SimulatorServer) -> str:
    lines = ["providers:"]
    for name, kind, extra in PROVIDERS:
        lines.append(
            f"  - {{name: {name}, kind: {kind}, base_url: '{sim.url_for(name)}', api_key: sk-{name}-0000000000,"
            f" timeout: {TIMEOUTS}{extra}}}"
        )
    lines.append("models:")
    for name, _, _ in PROVIDERS:
        lines.append(f"  - {{name: on-{name}, deployments: [{{provider: {name}, model: gpt-4o-mini}}]}}")
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def store_gateway(django_db_setup: None, django_db_blocker: Any, simulator: SimulatorServer) -> Iterator[Gateway]:
    with live_gateway(store_yaml(simulator), simulator, django_db_blocker, "store") as gateway:
        yield gateway


@pytest.fixture
def gw(store_gateway: Gateway, db: None) -> Gateway:
    store_gateway.reset()
    return store_gateway


@pytest.mark.parametrize("name", ["openai", "openrouter", "vllm", "custom"])
def test_store_true_never_reaches_a_provider_that_does_not_allow_it(gw: Gateway, name: str) -> None:
    response = gw.post(hi(f"on-{name}", store=True, metadata={"app": "x"}))
    assert response.status_code == 200, response.text
    sent = gw.sent(name)["body"]
    assert "store" not in sent
    assert sent["messages"] == [{"role": "user", "content": "hi"}]


def test_a_provider_that_allows_store_gets_it(gw: Gateway) -> None:
    response = gw.post(hi("on-openai-store", store=True))
    assert response.status_code == 200, response.text
    assert gw.sent("openai-store")["body"]["store"] is True


def test_allow_store_takes_only_true_or_false() -> None:
    config = """providers:
  - {name: o, kind: openai, api_key: sk-o, options: {allow_store: yes please}}
models:
  - {name: m, deployments: [{provider: o, model: m}]}
"""
    with pytest.raises(ConfigFileError, match=r"options\.allow_store: must be true or false"):
        parse_config(config, source="store.yaml")

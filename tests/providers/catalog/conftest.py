"""A live gateway whose models come from the catalog, on simulated providers of catalog kinds."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from simulator.harness import SimulatorServer
from tests.providers.profiles.harness import TIMEOUTS, Gateway, live_gateway


def catalog_yaml(sim: SimulatorServer) -> str:
    def provider(name: str, kind: str) -> str:
        url = sim.url_for(name)
        return f"  - {{name: {name}, kind: {kind}, base_url: '{url}', api_key: sk-{name}-0001, timeout: {TIMEOUTS}}}\n"

    providers = provider("cat-groq", "groq") + provider("cat-together", "together") + provider("cat-openai", "openai")
    return f"""providers:
{providers}models:
  - llama-3.3-70b
  - gpt-4o-mini
  - name: fast
    catalog: llama-3.1-8b
    deployments:
      - {{provider: cat-together, model: my-8b-finetune}}
  - name: plain
    deployments: [{{provider: cat-openai, model: gpt-4.1-nano}}]
  - name: custom-priced
    deployments: [{{provider: cat-openai, model: in-house, price: {{input: 1.5, output: 4}}}}]
  - name: unpriced
    deployments: [{{provider: cat-openai, model: in-house-free}}]
"""


@pytest.fixture(scope="session")
def catalog_gateway(django_db_setup: None, django_db_blocker: Any, simulator: SimulatorServer) -> Iterator[Gateway]:
    with live_gateway(catalog_yaml(simulator), simulator, django_db_blocker, "catalog") as gateway:
        yield gateway


@pytest.fixture
def gw(catalog_gateway: Gateway, db: None) -> Gateway:
    catalog_gateway.reset()
    return catalog_gateway

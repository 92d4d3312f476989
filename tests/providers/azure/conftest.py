"""A live gateway with two Azure OpenAI regions on the simulator's Azure deployment route."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from simulator.harness import SimulatorServer
from tests.providers.profiles.harness import TIMEOUTS, Gateway, live_gateway

EAST_KEY = "azkey-east-secret-0001"
WEST_KEY = "azkey-west-secret-0002"


def azure_yaml(sim: SimulatorServer) -> str:
    # The simulator serves /{provider}/openai/deployments/...: the resource endpoint is /{provider}.
    return f"""providers:
  - {{name: az-east, kind: azure, base_url: '{sim.base_url}/az-east', api_key: {EAST_KEY}, timeout: {TIMEOUTS}}}
  - name: az-west
    kind: azure
    base_url: '{sim.base_url}/az-west'
    api_key: {WEST_KEY}
    options: {{api_version: 2025-04-01-preview}}
    timeout: {TIMEOUTS}
models:
  - name: chat
    deployments:
      - {{provider: az-east, model: prod-4o-mini}}
      - {{provider: az-west, model: prod-4o-mini}}
  - gpt-4o-mini
  - name: thinker
    deployments: [{{provider: az-east, model: o4-mini}}]
"""


@pytest.fixture(scope="session")
def azure_gateway(django_db_setup: None, django_db_blocker: Any, simulator: SimulatorServer) -> Iterator[Gateway]:
    with live_gateway(azure_yaml(simulator), simulator, django_db_blocker, "azure") as gateway:
        yield gateway


@pytest.fixture
def gw(azure_gateway: Gateway, db: None) -> Gateway:
    azure_gateway.reset()
    return azure_gateway


def last_path(gw: Gateway, provider: str) -> str:
    response = gw.sim.control.get(f"/_control/last_path/{provider}")
    response.raise_for_status()
    path: str = response.json()["path"]
    return path

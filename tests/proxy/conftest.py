"""A live gateway (real HTTP, real Postgres) in front of the simulator, for proxy tests."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import openai
import pytest

from accounts.models import ApiKey
from gateway.routing.health import HealthRegistry
from monitoring.models import Attempt
from gateway.runtime import Runtime
from simulator.harness import SimulatorServer
from tests.live import gateway_for_new_org

TIMEOUTS = "{connect: 1, first_token: 1.0, idle: 0.6, total: 20}"


def test_config_yaml(sim: SimulatorServer) -> str:
    providers = "".join(
        f"  - {{name: {name}, kind: openai, base_url: '{sim.url_for(name)}', api_key: sk-test-{name}-secret0001,"
        f" timeout: {TIMEOUTS}}}\n"
        for name in ("sim-a", "sim-b", "sim-c", "sim-d", "sim-e")
    )
    return f"""providers:
{providers}  - {{name: dead, kind: openai, base_url: 'http://127.0.0.1:9/v1', api_key: x, timeout: {TIMEOUTS}}}
models:
  - name: chat
    deployments:
      - {{provider: sim-a, model: chat}}
      - {{provider: sim-b, model: chat}}
    fallbacks: [backup]
    context_window: 8000
  - name: backup
    deployments:
      - {{provider: sim-c, model: backup}}
    context_window: 128000
  - name: solo
    deployments:
      - {{provider: sim-d, model: solo, price: {{input: 1000000, output: 1000000}}}}
  - name: wide
    deployments:
      - {{provider: sim-e, model: wide}}
    fallbacks: [tiny, backup]
    context_window: 100000
  - name: tiny
    deployments:
      - {{provider: sim-d, model: tiny}}
    context_window: 4000
  - name: refused-first
    deployments:
      - {{provider: dead, model: refused-first}}
      - {{provider: sim-b, model: refused-first}}
"""


@dataclass
class LiveGateway:
    url: str
    key: str
    runtime: Runtime
    sim: SimulatorServer
    api_key: ApiKey | None = None

    def client(self, **kwargs: Any) -> openai.OpenAI:
        return openai.OpenAI(base_url=f"{self.url}/v1", api_key=self.key, max_retries=0, **kwargs)

    def reset(self) -> None:
        self.sim.reset()
        self.runtime.health = HealthRegistry()

    def post(self, body: dict[str, Any], **headers: str) -> httpx.Response:
        return httpx.post(
            f"{self.url}/v1/chat/completions",
            json=body,
            timeout=30,
            headers={"authorization": f"Bearer {self.key}", **headers},
        )

    def raw_stream(self, body: dict[str, Any]) -> tuple[httpx.Response, bytes]:
        """The exact SSE bytes the client receives, for checks the SDK would hide."""
        with httpx.stream(
            "POST",
            f"{self.url}/v1/chat/completions",
            json={**body, "stream": True},
            headers={"authorization": f"Bearer {self.key}"},
            timeout=30,
        ) as response:
            return response, response.read()

    def attempts_logged(self, request_id: str, count: int, timeout: float = 5.0) -> list[Attempt]:
        """Attempt events of one request, once the background writer has committed them."""
        deadline = time.monotonic() + timeout
        while True:
            rows = list(Attempt.objects.filter(request_id=request_id).order_by("attempt"))
            if len(rows) >= count or time.monotonic() > deadline:
                return rows
            time.sleep(0.05)


def hi(model: str = "chat", **extra: Any) -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": "hi"}], **extra}


@pytest.fixture(scope="module")
def live_gateway(django_db_setup: None, django_db_blocker: Any, simulator: SimulatorServer) -> Iterator[LiveGateway]:
    with gateway_for_new_org(django_db_blocker, test_config_yaml(simulator), name="proxy-tests") as (url, key, runtime):
        gateway = LiveGateway(url=url, key=key.plaintext, runtime=runtime, sim=simulator)
        gateway.api_key = key.api_key
        yield gateway


@pytest.fixture
def gw(live_gateway: LiveGateway, db: None) -> LiveGateway:
    live_gateway.reset()
    return live_gateway

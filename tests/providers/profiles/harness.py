"""A live gateway (real HTTP, real Postgres) on a given config, in front of the simulator.

Shared by the profile, Azure and catalog tests; each builds its own config and session fixture.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import openai

from accounts.services import create_api_key, create_organization
from gateway.asgi import GatewayApp
from gateway.routing.health import HealthRegistry
from gateway.conf.loader import parse_config
from monitoring.models import Attempt
from gateway.runtime import Runtime, build_runtime
from simulator.harness import SimulatorServer
from tests.live import LiveServer, keep_key

TIMEOUTS = "{connect: 1, first_token: 2.0, idle: 1.0, total: 20}"


@dataclass
class Gateway:
    url: str
    key: str
    runtime: Runtime
    sim: SimulatorServer

    def client(self) -> openai.OpenAI:
        return openai.OpenAI(base_url=f"{self.url}/v1", api_key=self.key, max_retries=0)

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

    def sent(self, provider: str) -> dict[str, Any]:
        """What the simulator received last from this provider: lower-cased headers and the body."""
        return self.sim.last_request(provider)

    def models(self) -> dict[str, dict[str, Any]]:
        response = httpx.get(f"{self.url}/v1/models", headers={"authorization": f"Bearer {self.key}"}, timeout=10)
        response.raise_for_status()
        return {entry["id"]: entry for entry in response.json()["data"]}

    def attempts_logged(self, request_id: str, count: int, timeout: float = 5.0) -> list[Attempt]:
        deadline = time.monotonic() + timeout
        while True:
            rows = list(Attempt.objects.filter(request_id=request_id).order_by("attempt"))
            if len(rows) >= count or time.monotonic() > deadline:
                return rows
            time.sleep(0.05)


def hi(model: str, **extra: Any) -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": "hi"}], **extra}


@contextmanager
def live_gateway(config_yaml: str, sim: SimulatorServer, django_db_blocker: Any, name: str) -> Iterator[Gateway]:
    with django_db_blocker.unblock():
        org = create_organization(name=f"{name} tests")
        created = create_api_key(organization=org, name=f"{name}-tests")
        keep_key(created.api_key)
        key = created.plaintext
    runtime = build_runtime(parse_config(config_yaml, source=f"{name}.yaml"))
    server = LiveServer(GatewayApp(runtime)).start()
    try:
        yield Gateway(url=server.url, key=key, runtime=runtime, sim=sim)
    finally:
        server.stop()

"""A live gateway with organisations and keys of the test's choosing, for the API-surface tests:
model lookups, CORS, the order of errors."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import anthropic
import httpx
import openai
from django.test import override_settings

from accounts.models import Organization
from accounts.services import create_api_key, create_organization
from gateway.asgi import GatewayApp
from gateway.conf.loader import parse_config
from gateway.runtime import Runtime, build_runtime
from simulator.harness import SimulatorServer
from tests.live import LiveServer
from tests.proxy.conftest import test_config_yaml

# Ids as routers name them: a provider prefix and a tag, to be routed by prefix, "/" and ":" included.
SLASHED = "anthropic/claude-x:2025"
EXTRA_MODELS = f"""  - name: '{SLASHED}'
    deployments:
      - {{provider: sim-a, model: chat}}
"""


@dataclass
class Surface:
    url: str
    runtime: Runtime
    keys: dict[str, str] = field(default_factory=dict)  # name -> plaintext
    orgs: dict[str, Organization] = field(default_factory=dict)

    def openai(self, key: str = "all") -> openai.OpenAI:
        return openai.OpenAI(base_url=f"{self.url}/v1", api_key=self.keys.get(key, key), max_retries=0)

    def anthropic(self, key: str = "all") -> anthropic.Anthropic:
        return anthropic.Anthropic(base_url=self.url, api_key=self.keys.get(key, key), max_retries=0)

    def get(self, path: str, **headers: str) -> httpx.Response:
        return httpx.get(f"{self.url}{path}", headers=headers, timeout=10)

    def request(self, method: str, path: str, **headers: str) -> httpx.Response:
        return httpx.request(method, f"{self.url}{path}", headers=headers, timeout=10)


def committed(work: Callable[[], Any]) -> Any:
    """Run ORM ``work`` on a connection of its own, committed whatever transaction the test is in."""
    result: list[Any] = []

    def run() -> None:
        from django.db import connection

        try:
            result.append(work())
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    return result[0] if result else None


def wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> bool:
    """True once ``condition`` holds (the gateway's caches poll the database), False at the timeout."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


@contextmanager
def live_surface(
    sim: SimulatorServer,
    blocker: Any,
    *,
    keys: dict[str, tuple[str, list[str]]],
    origins: dict[str, list[str]] | None = None,
    static_origins: tuple[str, ...] = (),
) -> Iterator[Surface]:
    """Organisations (label -> CORS origins) and keys (name -> (organisation label, allowed models)),
    committed before the gateway starts, deleted after it stops."""
    origins = origins or {}
    labels = {org for org, _ in keys.values()} | set(origins)
    tag = uuid.uuid4().hex[:8]
    with blocker.unblock():
        orgs = {label: create_organization(name=f"Surface {label} {tag}") for label in labels}
        for label, listed in origins.items():
            orgs[label].cors_allowed_origins = listed
            orgs[label].save()
        plaintexts = {
            name: create_api_key(organization=orgs[org], name=name, allowed_models=allowed or None).plaintext
            for name, (org, allowed) in keys.items()
        }
    with override_settings(CORS_ALLOWED_ORIGINS=list(static_origins)):
        runtime = build_runtime(parse_config(test_config_yaml(sim) + EXTRA_MODELS, source="surface.yaml"))
    server = LiveServer(GatewayApp(runtime)).start()
    try:
        yield Surface(url=server.url, runtime=runtime, keys=plaintexts, orgs=orgs)
    finally:
        server.stop()
        with blocker.unblock():
            Organization.objects.filter(pk__in=[org.pk for org in orgs.values()]).delete()

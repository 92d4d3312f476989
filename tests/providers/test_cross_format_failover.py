"""One model served by Anthropic, Bedrock and Vertex. Anthropic is overloaded (529), Bedrock
throttles (429), Vertex answers: both the OpenAI-SDK and the Anthropic-SDK client see one
clean answer."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anthropic
import openai
import pytest

from accounts.models import Organization
from accounts.services import create_api_key, create_organization
from gateway.asgi import GatewayApp
from gateway.routing.health import HealthRegistry
from gateway.conf.loader import parse_config
from gateway.runtime import build_runtime
from simulator.harness import SimulatorServer
from tests.live import LiveServer, keep_key
from tests.providers.bedrock.conftest import CREDENTIALS, ENV
from tests.providers.gemini.conftest import LOCATION, PROJECT, service_account_file

TIMEOUTS = "{connect: 1, first_token: 1.0, idle: 0.6, total: 20}"
BEDROCK_MODEL = "us.anthropic.claude-sonnet-4-20250514-v1:0"


def _yaml(sim: SimulatorServer, credentials: Path) -> str:
    vertex = f"{{project: {PROJECT}, location: {LOCATION}, credentials_file: '{credentials}'}}"
    return f"""providers:
  - {{name: x-anthropic, kind: anthropic, base_url: '{sim.base_url}/x-anthropic/v1', api_key: sk-ant-x,
      timeout: {TIMEOUTS}}}
  - {{name: x-bedrock, kind: bedrock, base_url: '{sim.base_url}/x-bedrock', region: us-east-1,
      options: {CREDENTIALS}, timeout: {TIMEOUTS}}}
  - {{name: x-vertex, kind: vertex, base_url: '{sim.base_url}/x-vertex/v1', options: {vertex}, timeout: {TIMEOUTS}}}
models:
  - name: claude-sonnet
    deployments:
      - {{provider: x-anthropic, model: claude-sonnet-4-20250514}}
      - {{provider: x-bedrock, model: '{BEDROCK_MODEL}'}}
      - {{provider: x-vertex, model: claude-sonnet-4@20250514}}
"""


@pytest.fixture(scope="module")
def mixed(
    django_db_setup: None, django_db_blocker: Any, simulator: SimulatorServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, str, Any]]:
    saved = {name: os.environ.get(name) for name in ENV}
    os.environ.update(ENV)
    credentials = service_account_file(tmp_path_factory.mktemp("sa"), f"{simulator.base_url}/x-vertex/token")
    with django_db_blocker.unblock():
        org = create_organization(name="Cross-format failover")
        created = create_api_key(organization=org, name="mixed")
        keep_key(created.api_key)
        key = created.plaintext
    runtime = build_runtime(parse_config(_yaml(simulator, credentials), source="mixed.yaml"))
    server = LiveServer(GatewayApp(runtime)).start()
    try:
        yield server.url, key, runtime
    finally:
        server.stop()
        with django_db_blocker.unblock():
            Organization.objects.filter(pk=org.pk).delete()
        for name, value in saved.items():
            os.environ.pop(name, None) if value is None else os.environ.__setitem__(name, value)


@pytest.fixture
def failing(mixed: tuple[str, str, Any], simulator: SimulatorServer, db: None) -> tuple[str, str]:
    url, key, runtime = mixed
    simulator.reset()
    runtime.health = HealthRegistry()
    simulator.set_fault("x-anthropic", status=529)
    simulator.set_fault("x-bedrock", status=429)
    return url, key


@pytest.mark.parametrize("stream", [False, True])
def test_openai_sdk_client_gets_one_clean_answer_from_vertex(
    failing: tuple[str, str], simulator: SimulatorServer, stream: bool
) -> None:
    url, key = failing
    client = openai.OpenAI(base_url=f"{url}/v1", api_key=key, max_retries=0)
    raw = client.chat.completions.with_raw_response.create(
        model="claude-sonnet", messages=[{"role": "user", "content": "hi"}], stream=stream
    )
    if stream:
        text = "".join(c.choices[0].delta.content or "" for c in raw.parse() if c.choices)
    else:
        text = raw.parse().choices[0].message.content or ""
    assert text.startswith("Hello from x-vertex/")
    assert raw.headers["x-gateway-provider"] == "x-vertex"
    assert raw.headers["x-gateway-attempts"] == "3"
    assert simulator.attempts("x-anthropic") == 1
    assert simulator.attempts("x-bedrock") == 1


@pytest.mark.parametrize("stream", [False, True])
def test_anthropic_sdk_client_gets_one_clean_answer_from_vertex(
    failing: tuple[str, str], simulator: SimulatorServer, stream: bool
) -> None:
    url, key = failing
    client = anthropic.Anthropic(base_url=url, api_key=key, max_retries=0)
    request: dict[str, Any] = {
        "model": "claude-sonnet",
        "max_tokens": 64,
        "messages": [{"role": "user", "content": "hi"}],
    }
    if stream:
        with client.messages.stream(**request) as events:
            text = events.get_final_text()
    else:
        message = client.messages.create(**request)
        text = "".join(block.text for block in message.content if block.type == "text")
    assert text.startswith("Hello from x-vertex/")
    assert simulator.attempts("x-anthropic") == 1
    assert simulator.attempts("x-bedrock") == 1

"""A live gateway with embedding models on every embedding wire format (OpenAI, Azure, AI Studio,
Vertex AI, Bedrock Titan and Cohere) and chat models with and without legacy completions, all on
the simulator. Test modules import the ``emb`` fixture."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from gateway.routing.health import HealthRegistry
from monitoring.models import Request
from simulator.harness import SimulatorServer
from tests.live import gateway_for_new_org
from tests.providers.bedrock.conftest import CREDENTIALS, ENV
from tests.proxy.conftest import TIMEOUTS, LiveGateway

TITAN = "amazon.titan-embed-text-v2:0"
COHERE = "cohere.embed-english-v3"


def embedding_yaml(sim: SimulatorServer) -> str:
    def openai(name: str) -> str:
        url = sim.url_for(name)
        return f"  - {{name: {name}, kind: openai, base_url: '{url}', api_key: sk-{name}, timeout: {TIMEOUTS}}}\n"

    base = sim.base_url
    providers = (
        openai("emb-a")
        + openai("emb-b")
        + openai("emb-c")
        + openai("cmp-a")
        + f"  - {{name: emb-az, kind: azure, base_url: '{base}/emb-az', api_key: az-key, timeout: {TIMEOUTS}}}\n"
        + f"  - {{name: emb-gem, kind: gemini, base_url: '{base}/emb-gem/v1beta', api_key: AIza-emb,"
        f" timeout: {TIMEOUTS}}}\n"
        + f"  - {{name: emb-vtx, kind: vertex, base_url: '{base}/emb-vtx/v1', api_key: AQ-emb, timeout: {TIMEOUTS}}}\n"
        + f"  - {{name: emb-br, kind: bedrock, base_url: '{base}/emb-br', region: us-east-1, options: {CREDENTIALS},"
        f" timeout: {TIMEOUTS}}}\n"
        + f"  - {{name: ant, kind: anthropic, base_url: '{base}/ant/v1', api_key: sk-ant, timeout: {TIMEOUTS}}}\n"
    )
    return f"""providers:
{providers}models:
  - name: small
    deployments:
      - {{provider: emb-a, model: text-embedding-3-small}}
      - {{provider: emb-b, model: text-embedding-3-small}}
      - {{provider: emb-c, model: text-embedding-3-small}}
  - name: ada
    deployments:
      - {{provider: emb-a, model: text-embedding-ada-002}}
  - name: azure-small
    catalog: text-embedding-3-small
    deployments:
      - {{provider: emb-az, model: small-deployment}}
  - name: gemini-embed
    deployments:
      - {{provider: emb-gem, model: gemini-embedding-001}}
  - name: vertex-embed
    deployments:
      - {{provider: emb-vtx, model: text-embedding-004}}
  - name: titan
    deployments:
      - {{provider: emb-br, model: '{TITAN}'}}
  - name: cohere
    deployments:
      - {{provider: emb-br, model: {COHERE}}}
  - name: mixed-embed
    mode: embedding
    deployments:
      - {{provider: emb-a, model: mixed}}
      - {{provider: emb-gem, model: mixed}}
  - name: instruct
    deployments:
      - {{provider: cmp-a, model: gpt-3.5-turbo-instruct}}
      - {{provider: emb-az, model: instruct-deployment}}
  - name: claude
    deployments:
      - {{provider: ant, model: claude-sonnet-4-20250514}}
"""


@pytest.fixture(scope="module")
def emb_gateway(django_db_setup: None, django_db_blocker: Any, simulator: SimulatorServer) -> Iterator[LiveGateway]:
    saved = {name: os.environ.get(name) for name in ENV}
    os.environ.update(ENV)
    try:
        with gateway_for_new_org(django_db_blocker, embedding_yaml(simulator), name="embeddings") as (url, key, rt):
            gateway = LiveGateway(url=url, key=key.plaintext, runtime=rt, sim=simulator)
            gateway.api_key = key.api_key
            yield gateway
    finally:
        for name, value in saved.items():
            os.environ.pop(name, None) if value is None else os.environ.__setitem__(name, value)


@pytest.fixture
def emb(emb_gateway: LiveGateway, db: None) -> LiveGateway:
    emb_gateway.sim.reset()
    emb_gateway.runtime.health = HealthRegistry()
    return emb_gateway


def post(gw: LiveGateway, path: str, body: Any, **headers: str) -> httpx.Response:
    return httpx.post(
        f"{gw.url}/v1/{path}", json=body, timeout=30, headers={"authorization": f"Bearer {gw.key}", **headers}
    )


def the_row(request_id: str) -> Request:
    deadline = time.monotonic() + 5
    while not Request.objects.filter(request_id=request_id).exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)  # a second row, if one were written, would land in the same flush
    rows = list(Request.objects.filter(request_id=request_id))
    assert len(rows) == 1, rows
    return rows[0]

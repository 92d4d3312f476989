"""A live gateway with Gemini (AI Studio) and Vertex AI providers on the simulator."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import openai
import orjson
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from accounts.services import create_api_key, create_organization
from gateway.asgi import GatewayApp
from gateway.routing.health import HealthRegistry
from gateway.conf.loader import parse_config
from gateway.runtime import Runtime, build_runtime
from simulator.harness import SimulatorServer
from tests.live import LiveServer, keep_key

TIMEOUTS = "{connect: 1, first_token: 1.0, idle: 0.6, total: 20}"
PROJECT = "sim-project"
LOCATION = "us-central1"


def service_account_file(directory: Path, token_uri: str) -> Path:
    """A service-account JSON with a throwaway RSA key, whose token_uri is the simulator."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    account = {
        "type": "service_account",
        "project_id": PROJECT,
        "private_key_id": "sim-key-1",
        "private_key": pem,
        "client_email": f"gateway@{PROJECT}.iam.gserviceaccount.com",
        "client_id": "1",
        "token_uri": token_uri,
    }
    path = directory / f"service-account-{abs(hash(token_uri))}.json"
    path.write_bytes(orjson.dumps(account))
    return path


def studio(sim: SimulatorServer, name: str) -> str:
    return (
        f"  - {{name: {name}, kind: gemini, base_url: '{sim.base_url}/{name}/v1beta',"
        f" api_key: AIzaSy-test-{name}-secret01, timeout: {TIMEOUTS}}}\n"
    )


def vertex(sim: SimulatorServer, name: str, credentials: Path) -> str:
    options = f"{{project: {PROJECT}, location: {LOCATION}, credentials_file: '{credentials}'}}"
    return (
        f"  - {{name: {name}, kind: vertex, base_url: '{sim.base_url}/{name}/v1', options: {options},"
        f" timeout: {TIMEOUTS}}}\n"
    )


def express(sim: SimulatorServer, name: str) -> str:
    return (
        f"  - {{name: {name}, kind: vertex, base_url: '{sim.base_url}/{name}/v1',"
        f" api_key: AQ-test-{name}-secret01, timeout: {TIMEOUTS}}}\n"
    )


def gateway_yaml(sim: SimulatorServer, credentials: Path) -> str:
    providers = (
        studio(sim, "gem-a")
        + studio(sim, "gem-b")
        + vertex(sim, "vtx-a", credentials)
        + express(sim, "vtx-x")
        + f"  - {{name: oai, kind: openai, base_url: '{sim.url_for('oai')}', api_key: sk-oai, timeout: {TIMEOUTS}}}\n"
    )
    return f"""providers:
{providers}models:
  - name: gemini
    deployments:
      - {{provider: gem-a, model: gemini-2.0-flash}}
      - {{provider: vtx-a, model: gemini-2.0-flash}}
    fallbacks: [gemini-long]
    context_window: 1048576
  - name: gemini-long
    deployments:
      - {{provider: vtx-x, model: gemini-2.5-pro}}
    context_window: 2097152
  - name: gemini-solo
    deployments:
      - {{provider: gem-b, model: gemini-solo}}
  - name: vertex-solo
    deployments:
      - {{provider: vtx-a, model: gemini-2.0-flash}}
  - name: express
    deployments:
      - {{provider: vtx-x, model: gemini-2.0-flash}}
  - name: mixed
    deployments:
      - {{provider: gem-a, model: gemini-mixed}}
      - {{provider: oai, model: gpt-mixed}}
  - name: gemini3
    deployments:
      - {{provider: gem-b, model: gemini-3-pro-preview}}
  - name: gemini3-or-openai
    deployments:
      - {{provider: gem-b, model: gemini-3-pro-preview}}
      - {{provider: oai, model: gpt-4o}}
"""


@dataclass
class GeminiGateway:
    url: str
    key: str
    runtime: Runtime
    sim: SimulatorServer
    server: LiveServer

    def openai(self) -> openai.OpenAI:
        return openai.OpenAI(base_url=f"{self.url}/v1", api_key=self.key, max_retries=0)

    def reset(self) -> None:
        self.sim.reset()
        self.runtime.health = HealthRegistry()

    def chat(self, body: dict[str, Any]) -> httpx.Response:
        headers = {"authorization": f"Bearer {self.key}"}
        return httpx.post(f"{self.url}/v1/chat/completions", json=body, headers=headers, timeout=30)

    def sent(self, provider: str) -> dict[str, Any]:
        """The exact JSON body the gateway sent to a simulated provider."""
        body: dict[str, Any] = self.sim.last_request(provider)["body"]
        return body

    def stop(self) -> None:
        self.server.stop()


def ask(model: str = "gemini", **extra: Any) -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": "hi"}], **extra}


def start_gateway(django_db_blocker: Any, sim: SimulatorServer, yaml: str, name: str) -> GeminiGateway:
    with django_db_blocker.unblock():
        org = create_organization(name=f"{name} tests")
        created = create_api_key(organization=org, name=name)
        keep_key(created.api_key)
        key = created.plaintext
    runtime = build_runtime(parse_config(yaml, source=f"{name}.yaml"))
    server = LiveServer(GatewayApp(runtime)).start()
    return GeminiGateway(url=server.url, key=key, runtime=runtime, sim=sim, server=server)


@pytest.fixture(scope="session")
def gemini_gateway(
    django_db_setup: None, django_db_blocker: Any, simulator: SimulatorServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[GeminiGateway]:
    credentials = service_account_file(tmp_path_factory.mktemp("gemini"), f"{simulator.base_url}/vtx-auth/token")
    gateway = start_gateway(django_db_blocker, simulator, gateway_yaml(simulator, credentials), "gemini")
    try:
        yield gateway
    finally:
        gateway.stop()


@pytest.fixture
def gw(gemini_gateway: GeminiGateway, db: None) -> GeminiGateway:
    gemini_gateway.reset()
    return gemini_gateway

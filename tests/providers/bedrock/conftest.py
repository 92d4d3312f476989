"""A live gateway with Bedrock-kind providers on the simulator, and helpers to sign requests."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import openai
import pytest

from accounts.services import create_api_key, create_organization
from gateway.upstream.adapters import bedrock
from gateway.asgi import GatewayApp
from gateway.routing.health import HealthRegistry
from gateway.conf.domain import Deployment
from gateway.conf.loader import parse_config
from gateway.runtime import Runtime, build_runtime
from simulator.bedrock_format import SIM_ACCESS_KEY_ID, SIM_SECRET_ACCESS_KEY
from simulator.harness import SimulatorServer
from tests.live import LiveServer, keep_key

TIMEOUTS = "{connect: 1, first_token: 1.0, idle: 0.6, total: 20}"
PROFILE_ID = "us.anthropic.claude-3-5-sonnet-20241022-v2:0"
PROFILE_ARN = "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.amazon.nova-lite-v1:0"
# The simulator checks signatures for real when requests are signed with its own test key.
ENV = {
    "GW_TEST_BEDROCK_KEY_ID": SIM_ACCESS_KEY_ID,
    "GW_TEST_BEDROCK_SECRET": SIM_SECRET_ACCESS_KEY,
    "GW_TEST_BEDROCK_TOKEN": "session-token-for-tests",
    "GW_TEST_BEDROCK_WRONG_SECRET": "not/the/secret/the/simulator/knows/000000",
}
CREDENTIALS = "{access_key_id_env: GW_TEST_BEDROCK_KEY_ID, secret_access_key_env: GW_TEST_BEDROCK_SECRET}"


def gateway_yaml(sim: SimulatorServer) -> str:
    def provider(name: str, region: str = "us-east-1", credentials: str = CREDENTIALS) -> str:
        return (
            f"  - {{name: {name}, kind: bedrock, base_url: '{sim.base_url}/{name}', region: {region},"
            f" options: {credentials}, timeout: {TIMEOUTS}}}\n"
        )

    wrong = "{access_key_id_env: GW_TEST_BEDROCK_KEY_ID, secret_access_key_env: GW_TEST_BEDROCK_WRONG_SECRET}"
    token = CREDENTIALS.replace("}", ", session_token_env: GW_TEST_BEDROCK_TOKEN}")
    providers = (
        provider("br-a")
        + provider("br-b", "us-west-2")
        + provider("br-c", credentials=token)
        + provider("br-bad", credentials=wrong)
    )
    return f"""providers:
{providers}models:
  - name: claude
    deployments:
      - {{provider: br-a, model: '{PROFILE_ID}'}}
      - {{provider: br-b, model: '{PROFILE_ID}'}}
    fallbacks: [claude-big]
    context_window: 200000
  - name: claude-big
    deployments:
      - {{provider: br-c, model: 'anthropic.claude-big-v1:0'}}
    context_window: 1000000
  - name: nova
    deployments:
      - {{provider: br-a, model: 'amazon.nova-lite-v1:0'}}
  - name: nova-profile
    deployments:
      - {{provider: br-a, model: '{PROFILE_ARN}'}}
  - name: badsig
    deployments:
      - {{provider: br-bad, model: 'amazon.nova-lite-v1:0'}}
      - {{provider: br-b, model: 'amazon.nova-lite-v1:0'}}
"""


@dataclass
class BedrockGateway:
    url: str
    key: str
    runtime: Runtime
    sim: SimulatorServer

    def openai(self) -> openai.OpenAI:
        return openai.OpenAI(base_url=f"{self.url}/v1", api_key=self.key, max_retries=0)

    def reset(self) -> None:
        self.sim.reset()
        self.runtime.health = HealthRegistry()

    def chat(self, body: dict[str, Any]) -> httpx.Response:
        return httpx.post(
            f"{self.url}/v1/chat/completions", json=body, headers={"authorization": f"Bearer {self.key}"}, timeout=30
        )

    def deployment(self, model: str, index: int = 0) -> Deployment:
        return self.runtime.config.models[model].deployments[index]


@pytest.fixture(scope="session")
def bedrock_env() -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in ENV}
    os.environ.update(ENV)
    yield
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture(scope="session")
def bedrock_live(
    django_db_setup: None, django_db_blocker: Any, simulator: SimulatorServer, bedrock_env: None
) -> Iterator[BedrockGateway]:
    with django_db_blocker.unblock():
        org = create_organization(name="Bedrock tests")
        created = create_api_key(organization=org, name="bedrock-tests")
        keep_key(created.api_key)
        key = created.plaintext
    runtime = build_runtime(parse_config(gateway_yaml(simulator), source="bedrock-test.yaml"))
    server = LiveServer(GatewayApp(runtime)).start()
    try:
        yield BedrockGateway(url=server.url, key=key, runtime=runtime, sim=simulator)
    finally:
        server.stop()


@pytest.fixture
def gw(bedrock_live: BedrockGateway, db: None) -> BedrockGateway:
    bedrock_live.reset()
    return bedrock_live


@pytest.fixture
def sim(simulator: SimulatorServer) -> SimulatorServer:
    simulator.reset()
    return simulator


def signed_post(
    sim: SimulatorServer, provider: str, model_id: str, body: bytes, *, stream: bool = True, sign: bool = True
) -> httpx.Response:
    """POST a Converse body straight to the simulator, signed with its test key like the gateway does."""
    config = parse_config(
        f"""providers:
  - {{name: {provider}, kind: bedrock, base_url: '{sim.base_url}/{provider}', region: us-east-1,
     options: {CREDENTIALS}}}
models:
  - {{name: m, deployments: [{{provider: {provider}, model: '{model_id}'}}]}}
""",
        source="signed-post.yaml",
    )
    deployment = config.models["m"].deployments[0]
    target = bedrock.target_for(deployment)
    url = target.url if stream else target.url.removesuffix("-stream")
    headers = {"host": target.host, "content-type": "application/json"}
    if sign:
        headers = bedrock.sign(bedrock.Target(url, target.host, target.region, target.credentials), body, headers)
    return httpx.post(url, content=body, headers=headers, timeout=10)

"""One live gateway per module in front of the simulator, for third-party clients.

Model ``chat`` has two OpenAI-kind deployments (cl-a, then cl-b), model ``claude`` two Anthropic-kind
ones (an-a, then an-b), and the embedding model on cl-a and cl-b has OpenAI's name (llm's built-in
entry sends it). ``gw.fail_primary()`` puts a 503 on both first providers, so the next call is served
by the second: the failover a client sees in the middle of its run.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from pydantic import BaseModel, Field

from gateway.routing.health import HealthRegistry
from gateway.runtime import Runtime
from simulator.harness import SimulatorServer
from tests.live import gateway_for_new_org

TIMEOUTS = "{connect: 1, first_token: 2.0, idle: 1.0, total: 20}"
PRIMARY = ("cl-a", "an-a")
BAD_KEY = "gw-wrong-key-0000000000000000"
EMBEDDING_MODEL = "text-embedding-3-small"
EMBEDDING_SIZE = 1536


def gateway_yaml(sim: SimulatorServer) -> str:
    kinds = {"cl-a": "openai", "cl-b": "openai", "an-a": "anthropic", "an-b": "anthropic"}
    providers = "".join(
        f"  - {{name: {name}, kind: {kind}, base_url: '{sim.url_for(name)}', api_key: sk-test-{name}-secret0001,"
        f" timeout: {TIMEOUTS}}}\n"
        for name, kind in kinds.items()
    )
    return f"""providers:
{providers}models:
  - name: chat
    deployments:
      - {{provider: cl-a, model: chat-a}}
      - {{provider: cl-b, model: chat-b}}
  - name: claude
    deployments:
      - {{provider: an-a, model: claude-a}}
      - {{provider: an-b, model: claude-b}}
  - name: {EMBEDDING_MODEL}
    deployments:
      - {{provider: cl-a, model: {EMBEDDING_MODEL}}}
      - {{provider: cl-b, model: {EMBEDDING_MODEL}}}
"""


@dataclass
class ClientGateway:
    url: str
    key: str
    runtime: Runtime
    sim: SimulatorServer

    @property
    def openai_base(self) -> str:
        """The base URL OpenAI-style clients take (they append /chat/completions)."""
        return f"{self.url}/v1"

    def reset(self) -> None:
        self.sim.reset()
        self.runtime.health = HealthRegistry()

    def fail_primary(self) -> None:
        for provider in PRIMARY:
            self.sim.set_fault(provider, status=503)

    def attempts(self, provider: str) -> int:
        return self.sim.attempts(provider)


@pytest.fixture(scope="module")
def live_gateway(django_db_setup: None, django_db_blocker: Any, simulator: SimulatorServer) -> Iterator[ClientGateway]:
    with gateway_for_new_org(django_db_blocker, gateway_yaml(simulator), name="client-tests") as (url, key, runtime):
        yield ClientGateway(url=url, key=key.plaintext, runtime=runtime, sim=simulator)


@pytest.fixture
def gw(live_gateway: ClientGateway, db: None) -> ClientGateway:
    live_gateway.reset()
    return live_gateway


# ---------------------------------------------------------------- what every client is asked


class Weather(BaseModel):
    """The tool every client calls: the simulator fills its required fields."""

    city: str
    unit: str = Field(json_schema_extra={"enum": ["c", "f"]})
    days: int = Field(ge=1, le=7)


class Invoice(BaseModel):
    """The structured answer every client asks for (nested, a list, formats, an optional)."""

    number: str
    email: str = Field(json_schema_extra={"format": "email"})
    total: float = Field(ge=0)
    lines: list[Line] = Field(min_length=1, max_length=3)
    note: str | None = None


class Line(BaseModel):
    item: str
    quantity: int = Field(ge=1, le=9)


Invoice.model_rebuild()

WEATHER_SCHEMA = Weather.model_json_schema()
INVOICE_SCHEMA = Invoice.model_json_schema()
HELLO_CHAT = "Hello from cl-a/chat-a."
HELLO_CHAT_FAILOVER = "Hello from cl-b/chat-b."
HELLO_CLAUDE = "Hello from an-a/claude-a."
HELLO_CLAUDE_FAILOVER = "Hello from an-b/claude-b."
COMPLETION_TOKENS = 20  # the simulator's default answer length

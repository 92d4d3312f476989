"""A live gateway with Anthropic-kind providers on the simulator, for the OpenAI and Anthropic SDKs."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import anthropic
import httpx
import openai
import orjson
import pytest

from accounts.services import create_api_key, create_organization
from gateway.asgi import GatewayApp
from gateway.routing.health import HealthRegistry
from gateway.conf.loader import parse_config
from gateway.runtime import Runtime, build_runtime
from simulator import anthropic_format
from simulator.answers import IdSource, build_reply
from simulator.harness import SimulatorServer
from simulator.model import ChatRequest, ErrorSpec
from tests.live import LiveServer, keep_key

TIMEOUTS = "{connect: 1, first_token: 1.0, idle: 0.6, total: 20}"
OVERLOADED = ErrorSpec(529, "Overloaded", "overloaded_error")


def gateway_yaml(sim: SimulatorServer, scripted_url: str) -> str:
    def provider(name: str, kind: str = "anthropic", url: str = "", extra: str = "") -> str:
        base = url or sim.url_for(name)
        return (
            f"  - {{name: {name}, kind: {kind}, base_url: '{base}', api_key: sk-ant-test-{name}-secret01,"
            f" timeout: {TIMEOUTS}{extra}}}\n"
        )

    providers = (
        provider("anth-a")
        + provider("anth-b")
        + provider(
            "anth-c",
            extra=", options: {anthropic_version: '2024-10-22', default_max_tokens: 512, structured_outputs: true}",
        )
        + provider("oai-a", kind="openai")
        + provider("scripted", url=scripted_url)
    )
    return f"""providers:
{providers}models:
  - name: claude
    deployments:
      - {{provider: anth-a, model: claude-sonnet}}
      - {{provider: anth-b, model: claude-sonnet}}
    fallbacks: [claude-big]
    context_window: 200000
  - name: claude-big
    deployments:
      - {{provider: anth-c, model: claude-big}}
    context_window: 1000000
  - name: claude-solo
    deployments:
      - {{provider: anth-a, model: claude-solo}}
  - name: mixed
    deployments:
      - {{provider: anth-a, model: claude-mixed}}
      - {{provider: oai-a, model: gpt-mixed}}
  - name: error-first
    deployments:
      - {{provider: scripted, model: error-first}}
      - {{provider: anth-b, model: claude-sonnet}}
  - name: error-later
    deployments:
      - {{provider: scripted, model: error-later}}
      - {{provider: anth-b, model: claude-sonnet}}
"""


def scripted_stream(model: str) -> tuple[bytes, bytes]:
    """The simulator's Anthropic stream, cut by an `event: error` before or after the first text:
    (what is sent at once, what follows a pause)."""
    reply = build_reply(ChatRequest(model=model, stream=True), "scripted", 20, IdSource())
    script = anthropic_format.render_stream(reply)
    error = anthropic_format.render_stream_error(OVERLOADED)
    if model == "error-first":
        return script.head[0] + error, b""
    return b"".join((*script.head, *script.content[:3])), error


async def scripted_upstream(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """An Anthropic endpoint whose streams fail mid-way, as Anthropic's do when overloaded."""
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    raw = b""
    while True:
        message = await receive()
        raw += message.get("body", b"")
        if not message.get("more_body"):
            break
    first, later = scripted_stream(orjson.loads(raw)["model"])
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/event-stream")]})
    await send({"type": "http.response.body", "body": first, "more_body": True})
    await asyncio.sleep(0.1)  # the gateway has committed the first text to its client by now
    await send({"type": "http.response.body", "body": later})


@dataclass
class AnthropicGateway:
    url: str
    key: str
    runtime: Runtime
    sim: SimulatorServer

    def openai(self) -> openai.OpenAI:
        return openai.OpenAI(base_url=f"{self.url}/v1", api_key=self.key, max_retries=0)

    def anthropic(self) -> anthropic.Anthropic:
        return anthropic.Anthropic(base_url=self.url, api_key=self.key, max_retries=0)

    def reset(self) -> None:
        self.sim.reset()
        self.runtime.health = HealthRegistry()

    def chat(self, body: dict[str, Any]) -> httpx.Response:
        headers = {"authorization": f"Bearer {self.key}"}
        return httpx.post(f"{self.url}/v1/chat/completions", json=body, headers=headers, timeout=30)

    def messages(self, body: dict[str, Any], **headers: str) -> httpx.Response:
        headers = {"x-api-key": self.key, **headers}
        return httpx.post(f"{self.url}/v1/messages", json=body, headers=headers, timeout=30)

    def sent(self, provider: str) -> dict[str, Any]:
        """The exact JSON body the gateway sent to a simulated provider."""
        body: dict[str, Any] = self.sim.last_request(provider)["body"]
        return body


def ask(model: str = "claude", **extra: Any) -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": "hi"}], **extra}


def sse_events(raw: bytes) -> list[tuple[str, dict[str, Any]]]:
    """(event name, data) of each event of an Anthropic stream."""
    events = []
    for block in raw.decode().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if "event" in lines:
            events.append((lines["event"], orjson.loads(lines["data"])))
    return events


@pytest.fixture(scope="session")
def anthropic_gateway(
    django_db_setup: None, django_db_blocker: Any, simulator: SimulatorServer
) -> Iterator[AnthropicGateway]:
    with django_db_blocker.unblock():
        org = create_organization(name="Anthropic provider tests")
        created = create_api_key(organization=org, name="anthropic-tests")
        keep_key(created.api_key)
        key = created.plaintext
    scripted = LiveServer(scripted_upstream).start()
    runtime = build_runtime(parse_config(gateway_yaml(simulator, f"{scripted.url}/v1"), source="anthropic.yaml"))
    server = LiveServer(GatewayApp(runtime)).start()
    try:
        yield AnthropicGateway(url=server.url, key=key, runtime=runtime, sim=simulator)
    finally:
        server.stop()
        scripted.stop()


@pytest.fixture
def gw(anthropic_gateway: AnthropicGateway, db: None) -> AnthropicGateway:
    anthropic_gateway.reset()
    return anthropic_gateway

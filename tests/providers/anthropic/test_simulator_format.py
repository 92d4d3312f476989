"""The simulator's Anthropic Messages format, checked with the official anthropic SDK and raw HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anthropic
import httpx
import pytest

from simulator.harness import SimulatorServer
from tests.providers.anthropic.conftest import sse_events

HI = [{"role": "user", "content": "hi"}]
OBJECT = {"type": "object"}


@pytest.fixture
def sim(simulator: SimulatorServer) -> Iterator[SimulatorServer]:
    simulator.reset()
    yield simulator
    simulator.reset()


def client(sim: SimulatorServer, provider: str = "claude-sim") -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=f"{sim.base_url}/{provider}", api_key="sk-ant-sim", max_retries=0)


def post(sim: SimulatorServer, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(f"{sim.url_for('claude-sim')}/messages", json=body, timeout=10)


def test_non_streamed_message_parses_in_the_sdk(sim: SimulatorServer) -> None:
    message = client(sim).messages.create(model="claude-x", max_tokens=100, messages=HI)
    assert message.content[0].text.startswith("Hello from claude-sim/claude-x.")
    assert (message.stop_reason, message.usage.output_tokens) == ("end_turn", 20)


def test_stream_carries_anthropics_event_lines_in_order(sim: SimulatorServer) -> None:
    response = post(sim, {"model": "claude-x", "max_tokens": 3, "messages": HI, "stream": True})
    assert response.headers["content-type"].startswith("text/event-stream")
    names = [name for name, _ in sse_events(response.content)]
    assert names == ["message_start", "content_block_start", "ping", "content_block_delta", "content_block_delta",
                     "content_block_delta", "content_block_stop", "message_delta", "message_stop"]  # fmt: skip
    assert sse_events(response.content)[-2][1]["delta"]["stop_reason"] == "max_tokens"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"model": "m", "messages": HI}, "max_tokens: Field required"),
        ({"model": "m", "max_tokens": 5}, "messages: Field required"),
        ({"model": "m", "max_tokens": 5, "messages": [{"role": "system", "content": "x"}]}, 'Unexpected role "system"'),
        ({"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": [{"type": "text", "text": ""}]}]},
         "text content blocks must be non-empty"),
        ({"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "toolu_x", "content": "4"}]}]}, "unexpected `tool_use_id`"),
        ({"model": "m", "max_tokens": 5, "messages": HI, "tools": [{"name": "a b", "input_schema": OBJECT}]},
         "String should match pattern"),
        ({"model": "m", "max_tokens": 5, "messages": HI, "temperature": 1.5}, "temperature: range: 0..1"),
    ],
)  # fmt: skip
def test_requests_the_real_api_rejects_get_an_invalid_request_error(
    sim: SimulatorServer, body: dict[str, Any], message: str
) -> None:
    response = post(sim, body)
    assert response.status_code == 400
    error = response.json()
    assert (error["type"], error["error"]["type"]) == ("error", "invalid_request_error")
    assert message in error["error"]["message"]


@pytest.mark.parametrize(
    ("fault", "status", "error_type", "exception"),
    [
        ({"status": 529}, 529, "overloaded_error", anthropic.OverloadedError),
        ({"status": 429, "retry_after": "7"}, 429, "rate_limit_error", anthropic.RateLimitError),
        ({"kind": "auth"}, 401, "authentication_error", anthropic.AuthenticationError),
        ({"kind": "not_found"}, 404, "not_found_error", anthropic.NotFoundError),
        ({"kind": "context_length"}, 400, "invalid_request_error", anthropic.BadRequestError),
        ({"status": 500}, 500, "api_error", anthropic.InternalServerError),
    ],
)
def test_faults_use_anthropics_error_shape(
    sim: SimulatorServer, fault: dict[str, Any], status: int, error_type: str, exception: type[Exception]
) -> None:
    sim.set_fault("claude-sim", **fault)
    with pytest.raises(exception) as caught:
        client(sim).messages.create(model="claude-x", max_tokens=10, messages=HI)
    response = caught.value.response  # type: ignore[attr-defined]
    assert response.status_code == status
    assert response.json()["error"]["type"] == error_type
    if status == 429:
        assert response.headers["retry-after"] == "7"
    if fault.get("kind") == "context_length":
        assert response.json()["error"]["message"].startswith("prompt is too long")

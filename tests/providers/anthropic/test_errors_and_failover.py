"""Anthropic errors, each with the failover row it triggers, seen through the OpenAI endpoint."""

from __future__ import annotations

import openai
import pytest

from tests.providers.anthropic.conftest import AnthropicGateway, ask

STREAM = [False, True]


@pytest.mark.parametrize("stream", STREAM)
@pytest.mark.parametrize("status", [529, 500])
def test_overloaded_or_api_error_moves_to_the_next_deployment(gw: AnthropicGateway, status: int, stream: bool) -> None:
    gw.sim.set_fault("anth-a", status=status)
    response = gw.chat(ask(stream=stream))
    assert response.status_code == 200
    assert response.headers["x-gateway-provider"] == "anth-b"
    assert (gw.sim.attempts("anth-a"), gw.sim.attempts("anth-b")) == (1, 1)


def test_overloaded_error_event_before_content_moves_to_the_next_deployment(gw: AnthropicGateway) -> None:
    response = gw.chat(ask("error-first"))
    assert response.status_code == 200
    assert response.headers["x-gateway-provider"] == "anth-b"
    assert response.json()["choices"][0]["message"]["content"].startswith("Hello from anth-b")


def test_error_event_after_content_ends_the_openai_stream_with_an_error(gw: AnthropicGateway) -> None:
    stream = gw.openai().chat.completions.create(**ask("error-later"), stream=True)
    received = []
    with pytest.raises(openai.APIError, match="interrupted"):
        for chunk in stream:
            received.extend(c.delta.content for c in chunk.choices if c.delta.content)
    assert received[0].startswith("Hello from scripted/error-later")
    assert gw.sim.attempts("anth-b") == 0


def test_non_streaming_request_survives_an_error_event_after_content(gw: AnthropicGateway) -> None:
    response = gw.chat(ask("error-later"))
    assert response.status_code == 200
    assert response.headers["x-gateway-provider"] == "anth-b"


@pytest.mark.parametrize("stream", STREAM)
def test_rate_limit_cools_the_deployment_down_for_its_retry_after(gw: AnthropicGateway, stream: bool) -> None:
    gw.sim.set_fault("anth-a", status=429, retry_after="30")
    for _ in range(3):
        response = gw.chat(ask(stream=stream))
        assert response.headers["x-gateway-provider"] == "anth-b"
    assert gw.sim.attempts("anth-a") == 1
    assert gw.runtime.health.get("anth-a/claude-sonnet").cooldown_until > 0


def test_rate_limit_on_the_only_deployment_returns_429_with_retry_after(gw: AnthropicGateway) -> None:
    gw.sim.set_fault("anth-a", status=429, retry_after="30")
    response = gw.chat(ask("claude-solo"))
    assert response.status_code == 429
    assert 25 <= int(response.headers["retry-after"]) <= 30


@pytest.mark.parametrize("fault", [{"kind": "auth"}, {"kind": "not_found"}, {"status": 403}, {"status": 402}])
def test_auth_permission_billing_or_missing_model_marks_the_deployment_misconfigured(
    gw: AnthropicGateway, fault: dict[str, object]
) -> None:
    gw.sim.set_fault("anth-a", **fault)
    response = gw.chat(ask())
    assert response.status_code == 200
    assert response.headers["x-gateway-provider"] == "anth-b"
    assert gw.runtime.health.get("anth-a/claude-sonnet").misconfigured


@pytest.mark.parametrize("stream", STREAM)
def test_prompt_too_long_falls_back_to_the_larger_model(gw: AnthropicGateway, stream: bool) -> None:
    gw.sim.set_fault("anth-a", kind="context_length")
    response = gw.chat(ask(stream=stream))
    assert response.status_code == 200
    assert response.headers["x-gateway-provider"] == "anth-c"
    assert gw.sim.attempts("anth-b") == 0


def test_prompt_too_long_without_a_fallback_returns_anthropics_message(gw: AnthropicGateway) -> None:
    gw.sim.set_fault("anth-a", kind="context_length")
    response = gw.chat(ask("claude-solo"))
    assert response.status_code == 400
    assert response.json()["error"]["message"].startswith("prompt is too long")


@pytest.mark.parametrize(
    "fault", [{"status": 400, "error_message": "messages.0: bad block"}, {"kind": "content_filter"}]
)
def test_invalid_request_is_returned_to_the_client_without_failover(
    gw: AnthropicGateway, fault: dict[str, object]
) -> None:
    gw.sim.set_fault("anth-a", **fault)
    response = gw.chat(ask())
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_request_error"
    assert (gw.sim.attempts("anth-a"), gw.sim.attempts("anth-b")) == (1, 0)


def test_tool_name_anthropic_rejects_is_a_400_naming_the_tool(gw: AnthropicGateway) -> None:
    tool = {"type": "function", "function": {"name": "get weather!", "parameters": {"type": "object"}}}
    response = gw.chat(ask(tools=[tool]))
    assert response.status_code == 400
    error = response.json()["error"]
    assert "'get weather!'" in error["message"] and "anth-a" in error["message"]
    assert error["param"] == "tools[0].function.name"
    assert gw.sim.attempts("anth-a") == 0


def test_tool_schema_that_is_not_an_object_is_a_400_naming_the_tool(gw: AnthropicGateway) -> None:
    tool = {"type": "function", "function": {"name": "lookup", "parameters": {"type": "array"}}}
    response = gw.chat(ask(tools=[tool]))
    assert response.status_code == 400
    assert "'lookup'" in response.json()["error"]["message"]


def test_several_choices_are_a_400_naming_the_parameter(gw: AnthropicGateway) -> None:
    response = gw.chat(ask(n=2))
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["param"] == "n" and "n > 1" in error["message"]
    assert gw.sim.attempts("anth-a") == 0


def test_the_provider_key_never_reaches_the_client(gw: AnthropicGateway) -> None:
    gw.sim.set_fault("anth-a", status=400, error_message="bad key sk-ant-test-anth-a-secret01 in request")
    response = gw.chat(ask())
    assert "secret01" not in response.text

"""Gemini's errors, in Google's shape, and the failover row each one triggers."""

from __future__ import annotations

import time

import pytest

from tests.providers.gemini.conftest import GeminiGateway, ask

STREAM = [False, True]


@pytest.mark.parametrize("stream", STREAM)
def test_resource_exhausted_cools_the_deployment_down_for_its_retry_delay(gw: GeminiGateway, stream: bool) -> None:
    gw.sim.set_fault("gem-a", status=429, retry_after="30")
    for _ in range(3):
        response = gw.chat(ask(stream=stream))
        assert response.status_code == 200
        assert response.headers["x-gateway-provider"] == "vtx-a"
    assert (gw.sim.attempts("gem-a"), gw.sim.attempts("vtx-a")) == (1, 3)
    cooldown = gw.runtime.health.get("gem-a/gemini-2.0-flash").cooldown_until - time.monotonic()
    assert 20 < cooldown <= 30  # from google.rpc.RetryInfo: Gemini sends no Retry-After header


def test_resource_exhausted_with_a_short_delay_retries_the_lone_deployment(gw: GeminiGateway) -> None:
    gw.sim.set_fault("gem-b", status=429, retry_after="1", times=1)
    started = time.monotonic()
    response = gw.chat(ask("gemini-solo"))
    assert response.status_code == 200
    assert time.monotonic() - started >= 1.0
    assert gw.sim.attempts("gem-b") == 2


def test_resource_exhausted_everywhere_is_a_429_with_retry_after(gw: GeminiGateway) -> None:
    gw.sim.set_fault("gem-b", status=429, retry_after="40")
    response = gw.chat(ask("gemini-solo"))
    assert response.status_code == 429
    assert 30 <= int(response.headers["retry-after"]) <= 40


@pytest.mark.parametrize("status", [500, 503, 504])
@pytest.mark.parametrize("stream", STREAM)
def test_unavailable_or_internal_moves_to_the_next_deployment(gw: GeminiGateway, status: int, stream: bool) -> None:
    gw.sim.set_fault("gem-a", status=status)
    response = gw.chat(ask(stream=stream))
    assert response.status_code == 200
    assert response.headers["x-gateway-provider"] == "vtx-a"
    assert (gw.sim.attempts("gem-a"), gw.sim.attempts("vtx-a")) == (1, 1)


def test_a_gemini_outage_fails_over_to_an_openai_deployment(gw: GeminiGateway) -> None:
    gw.sim.set_fault("gem-a", status=503)
    completion = gw.openai().chat.completions.create(model="mixed", messages=[{"role": "user", "content": "hi"}])
    assert (completion.choices[0].message.content or "").startswith("Hello from oai/gpt-mixed")


@pytest.mark.parametrize(("fault", "status"), [({"status": 403}, 403), ({"kind": "not_found"}, 404)])
def test_permission_denied_or_unknown_model_marks_the_deployment_misconfigured(
    gw: GeminiGateway, fault: dict, status: int
) -> None:
    gw.sim.set_fault("gem-a", **fault)
    response = gw.chat(ask())
    assert response.status_code == 200
    assert response.headers["x-gateway-provider"] == "vtx-a"
    assert gw.runtime.health.get("gem-a/gemini-2.0-flash").misconfigured


def test_invalid_ai_studio_key_is_misconfiguration_not_a_client_error(gw: GeminiGateway) -> None:
    # AI Studio answers a bad key with 400 INVALID_ARGUMENT and ErrorInfo reason API_KEY_INVALID.
    gw.sim.set_fault("gem-a", kind="auth")
    response = gw.chat(ask())
    assert response.status_code == 200
    assert response.headers["x-gateway-provider"] == "vtx-a"
    assert "API key not valid" in (gw.runtime.health.get("gem-a/gemini-2.0-flash").misconfigured or "")


def test_vertex_unauthenticated_marks_it_misconfigured(gw: GeminiGateway) -> None:
    gw.sim.set_fault("vtx-a", kind="auth")
    gw.sim.set_fault("gem-a", status=503)
    response = gw.chat(ask())
    assert response.status_code == 200
    assert response.headers["x-gateway-provider"] == "vtx-x"  # the fallback model
    assert "invalid authentication credentials" in (gw.runtime.health.get("vtx-a/gemini-2.0-flash").misconfigured or "")


@pytest.mark.parametrize("stream", STREAM)
def test_token_limit_falls_back_to_the_longer_context_model(gw: GeminiGateway, stream: bool) -> None:
    gw.sim.set_fault("gem-a", kind="context_length")
    response = gw.chat(ask(stream=stream))
    assert response.status_code == 200
    assert response.headers["x-gateway-provider"] == "vtx-x"
    assert gw.sim.attempts("vtx-a") == 0  # same model, same window: not worth trying


def test_token_limit_without_a_fallback_is_a_context_length_400(gw: GeminiGateway) -> None:
    gw.sim.set_fault("gem-b", kind="context_length")
    response = gw.chat(ask("gemini-solo"))
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "context_length_exceeded"
    assert "input token count" in error["message"]


@pytest.mark.parametrize("stream", STREAM)
def test_invalid_argument_is_the_clients_400_without_failover(gw: GeminiGateway, stream: bool) -> None:
    gw.sim.set_fault("gem-a", status=400, error_message="Invalid value at 'generation_config.temperature'")
    response = gw.chat(ask(stream=stream))
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["message"] == "Invalid value at 'generation_config.temperature'"
    assert (error["type"], error["code"]) == ("invalid_request_error", "invalid_argument")
    assert (gw.sim.attempts("gem-a"), gw.sim.attempts("vtx-a")) == (1, 0)


@pytest.mark.parametrize("stream", STREAM)
def test_safety_block_is_finish_reason_content_filter_without_failover(gw: GeminiGateway, stream: bool) -> None:
    gw.sim.set_fault("gem-a", kind="content_filter")
    if stream:
        chunks = list(
            gw.openai().chat.completions.create(
                model="gemini", messages=[{"role": "user", "content": "x"}], stream=True
            )
        )
        assert [c.choices[0].finish_reason for c in chunks if c.choices] == ["content_filter"]
        assert all(not c.choices[0].delta.content for c in chunks if c.choices)
    else:
        completion = gw.openai().chat.completions.create(model="gemini", messages=[{"role": "user", "content": "x"}])
        assert completion.choices[0].finish_reason == "content_filter"
        assert completion.choices[0].message.content == ""
    assert (gw.sim.attempts("gem-a"), gw.sim.attempts("vtx-a")) == (1, 0)


def test_stream_cut_before_content_moves_to_the_next_deployment(gw: GeminiGateway) -> None:
    gw.sim.set_fault("gem-a", kind="cut_after", after=0)
    response = gw.chat(ask(stream=True))
    assert response.status_code == 200
    assert response.headers["x-gateway-provider"] == "vtx-a"


def test_stream_ending_before_the_finish_event_is_not_a_complete_answer(gw: GeminiGateway) -> None:
    gw.sim.set_fault("gem-a", kind="cut_after", after=5)
    response = gw.chat(ask())  # non-streaming: the cut is invisible, the next deployment answers
    assert response.status_code == 200
    assert response.headers["x-gateway-provider"] == "vtx-a"


def test_malformed_events_are_skipped(gw: GeminiGateway) -> None:
    gw.sim.set_fault("gem-a", kind="malformed", after=2)
    completion = gw.openai().chat.completions.create(model="gemini", messages=[{"role": "user", "content": "hi"}])
    assert completion.choices[0].finish_reason == "stop"
    assert (completion.choices[0].message.content or "").startswith("Hello from gem-a")


@pytest.mark.parametrize("stream", STREAM)
def test_tool_schema_gemini_rejects_is_a_400_naming_the_tool(gw: GeminiGateway, stream: bool) -> None:
    tool = {
        "type": "function",
        "function": {
            "name": "save_notes",
            "parameters": {
                "type": "object",
                "properties": {"notes": {"type": "object", "additionalProperties": {"type": "string"}}},
            },
        },
    }
    response = gw.chat(ask(tools=[tool], stream=stream))
    assert response.status_code == 400
    error = response.json()["error"]
    assert "'save_notes'" in error["message"]
    assert "parameters.notes is an object without properties" in error["message"]
    assert (error["param"], error["code"]) == ("tools[0].function.parameters", "invalid_tool_schema")
    assert gw.sim.attempts("gem-a") == 0 and gw.sim.attempts("vtx-a") == 0

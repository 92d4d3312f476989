"""Headers, tool calls, /v1/models, and what the upstream receives."""

from __future__ import annotations

import json

import pytest

from tests.proxy.conftest import LiveGateway, hi

TOOLS = [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {}}}}]


def test_request_id_is_echoed_or_generated(gw: LiveGateway) -> None:
    assert gw.post(hi(), **{"x-request-id": "client-abc-123"}).headers["x-request-id"] == "client-abc-123"
    assert len(gw.post(hi()).headers["x-request-id"]) == 32


@pytest.mark.parametrize("stream", [False, True])
def test_tool_call_round_trip_through_the_sdk(gw: LiveGateway, stream: bool) -> None:
    client = gw.client()
    messages: list[dict[str, object]] = [{"role": "user", "content": "weather?"}]
    if stream:
        chunks = list(client.chat.completions.create(model="chat", messages=messages, tools=TOOLS, stream=True))
        calls = [tc for c in chunks if c.choices for tc in (c.choices[0].delta.tool_calls or [])]
        name = "".join(tc.function.name or "" for tc in calls if tc.function)
        call_id = next(tc.id for tc in calls if tc.id)
        arguments = "".join(tc.function.arguments or "" for tc in calls if tc.function)
    else:
        message = client.chat.completions.create(model="chat", messages=messages, tools=TOOLS).choices[0].message
        assert message.tool_calls
        call = message.tool_calls[0]
        name, call_id, arguments = call.function.name, call.id, call.function.arguments
    assert name == "get_weather"
    json.loads(arguments)
    messages += [
        {
            "role": "assistant",
            "tool_calls": [{"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}],
        },
        {"role": "tool", "tool_call_id": call_id, "content": "sunny"},
    ]
    answer = client.chat.completions.create(model="chat", messages=messages, tools=TOOLS)
    assert answer.choices[0].message.content == "Tool said: sunny"


def test_upstream_gets_the_provider_key_and_model_not_the_gateway_key(gw: LiveGateway) -> None:
    gw.post(hi())
    seen = gw.sim.last_request("sim-a")
    assert seen["headers"]["authorization"] == "Bearer sk-test-sim-a-secret0001"
    assert gw.key not in json.dumps(seen)
    assert seen["body"]["stream"] is True


def test_fallback_answer_names_the_model_that_answered(gw: LiveGateway) -> None:
    gw.sim.set_fault("sim-a", status=500)
    gw.sim.set_fault("sim-b", status=500)
    completion = gw.client().chat.completions.create(**hi())
    assert completion.model == "backup"


def test_models_endpoint_lists_configured_models(gw: LiveGateway) -> None:
    models = {m.id: m for m in gw.client().models.list()}
    assert {"chat", "backup", "solo", "wide", "tiny"} <= set(models)


def test_provider_key_never_appears_in_a_client_error(gw: LiveGateway) -> None:
    gw.sim.set_fault("sim-d", status=500, error_message="bad key sk-test-sim-d-secret0001 rejected")
    response = gw.post(hi("solo"))
    assert response.status_code == 502
    assert "sk-test-sim-d-secret0001" not in response.text

"""A Responses request fails over like a chat request: the client sees one good answer from the next
deployment, whatever wire format that deployment speaks."""

from __future__ import annotations

from typing import Any

import pytest
from openai import OpenAI

from tests.providers.anthropic.conftest import AnthropicGateway, anthropic_gateway  # noqa: F401 (the fixture)
from tests.proxy.conftest import LiveGateway

FAULTS = {
    "server_error": {"status": 503},
    "rate_limited": {"status": 429, "retry_after": "30"},
    "timeout": {"kind": "hang"},
    "cut_before_content": {"kind": "cut_after", "after": 0},
}
WEATHER = {"type": "function", "name": "weather", "parameters": {"type": "object", "properties": {}}}


def ask(client: OpenAI, stream: bool, **body: Any) -> tuple[str, str, Any]:
    """(provider header, output text, the final response) of one request."""
    raw = client.responses.with_raw_response.create(stream=stream, **body)
    if stream:
        events = list(raw.parse())
        assert [e.sequence_number for e in events] == list(range(len(events)))
        assert events[-1].type == "response.completed"
        response = events[-1].response
    else:
        response = raw.parse()
    return raw.headers["x-gateway-provider"], response.output_text, response


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_a_failing_first_deployment_is_invisible_to_a_responses_client(
    gw: LiveGateway, fault: str, stream: bool
) -> None:
    gw.sim.set_fault("sim-a", **FAULTS[fault])
    provider, text, response = ask(gw.client(), stream, model="chat", input="hi")
    assert (provider, response.status) == ("sim-b", "completed")
    assert text.startswith("Hello from sim-b/chat")
    assert gw.sim.attempts("sim-a") == 1


@pytest.fixture
def anth(anthropic_gateway: AnthropicGateway, db: None) -> AnthropicGateway:  # noqa: F811
    anthropic_gateway.reset()
    return anthropic_gateway


@pytest.mark.parametrize("stream", [False, True])
def test_an_anthropic_deployment_serves_a_responses_request_with_a_tool_round_trip(
    anth: AnthropicGateway, stream: bool
) -> None:
    client = anth.openai()
    provider, text, first = ask(
        client, stream, model="claude", input="Weather?", instructions="Be brief.", tools=[WEATHER]
    )
    assert provider == "anth-a"
    [call] = [item for item in first.output if item.type == "function_call"]
    assert anth.sent("anth-a")["system"] in ("Be brief.", [{"type": "text", "text": "Be brief."}])
    conversation = [
        {"role": "user", "content": "Weather?"},
        *[i.model_dump(exclude_none=True) for i in first.output],
        {"type": "function_call_output", "call_id": call.call_id, "output": "rain"},
    ]
    provider, text, second = ask(client, stream, model="claude", input=conversation, tools=[WEATHER])
    assert (provider, text) == ("anth-a", "Tool said: rain")
    assert second.usage.input_tokens > 0 and second.usage.output_tokens > 0
    tool_use = anth.sent("anth-a")["messages"][1]["content"][-1]
    assert (tool_use["type"], tool_use["id"]) == ("tool_use", call.call_id)


@pytest.mark.parametrize("stream", [False, True])
def test_an_overloaded_anthropic_deployment_fails_over_to_an_openai_one(anth: AnthropicGateway, stream: bool) -> None:
    anth.sim.set_fault("anth-a", status=529)
    provider, text, _ = ask(anth.openai(), stream, model="mixed", input="hi")
    assert provider == "oai-a"
    assert text.startswith("Hello from oai-a/gpt-mixed")

"""POST /v1/messages with the official anthropic SDK: the same failover, Anthropic's wire shapes."""

from __future__ import annotations

import json
from typing import Any

import anthropic
import httpx
import pytest

from tests.providers.anthropic.conftest import AnthropicGateway, sse_events
from tests.providers.anthropic.test_request_translation import PNG

HI = [{"role": "user", "content": "hi"}]
WEATHER = {
    "name": "get_weather",
    "description": "Weather for a city.",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}},
}


def test_text_answer_is_an_anthropic_message(gw: AnthropicGateway) -> None:
    raw = gw.anthropic().messages.with_raw_response.create(model="claude", max_tokens=100, messages=HI)
    message = raw.parse()
    assert message.content[0].type == "text"
    assert message.content[0].text.startswith("Hello from anth-a/claude-sonnet.")
    assert (message.model, message.role, message.stop_reason) == ("claude", "assistant", "end_turn")
    assert message.id.startswith("msg_")
    assert message.usage.output_tokens == 20 and message.usage.input_tokens >= 1
    assert raw.headers["x-gateway-provider"] == "anth-a"
    assert raw.headers["x-gateway-attempts"] == "1"
    assert raw.headers["request-id"] == raw.headers["x-request-id"]


def test_system_prompt_and_sampling_reach_the_upstream(gw: AnthropicGateway) -> None:
    gw.anthropic().messages.create(
        model="claude",
        max_tokens=77,
        system=[{"type": "text", "text": "Be brief."}],
        messages=HI,
        stop_sequences=["END"],
        extra_body={"temperature": 0.2},
        metadata={"user_id": "u-1"},
    )
    sent = gw.sent("anth-a")
    assert (sent["system"], sent["max_tokens"], sent["temperature"]) == ("Be brief.", 77, 0.2)
    assert (sent["stop_sequences"], sent["metadata"]) == (["END"], {"user_id": "u-1"})


def test_streamed_answer_with_the_sdk_stream_helper(gw: AnthropicGateway) -> None:
    with gw.anthropic().messages.stream(model="claude", max_tokens=100, messages=HI) as stream:
        texts = list(stream.text_stream)
        final = stream.get_final_message()
    assert len(texts) == 20
    assert "".join(texts).startswith("Hello from anth-a/claude-sonnet.")
    assert final.stop_reason == "end_turn"
    assert final.usage.output_tokens == 20 and final.usage.input_tokens >= 1


def test_stream_events_come_in_anthropics_order(gw: AnthropicGateway) -> None:
    with httpx.stream(
        "POST",
        f"{gw.url}/v1/messages",
        json={"model": "claude", "max_tokens": 50, "messages": HI, "stream": True},
        headers={"x-api-key": gw.key},
        timeout=30,
    ) as response:
        events = sse_events(response.read())
    names = [name for name, _ in events]
    assert names == ["message_start", "content_block_start", *["content_block_delta"] * 20,
                     "content_block_stop", "message_delta", "message_stop"]  # fmt: skip
    assert all(data["type"] == name for name, data in events)
    assert events[-2][1]["delta"]["stop_reason"] == "end_turn"
    assert events[-2][1]["usage"]["output_tokens"] == 20


def test_tool_use_round_trip(gw: AnthropicGateway) -> None:
    client = gw.anthropic()
    message = client.messages.create(model="claude", max_tokens=100, messages=HI, tools=[WEATHER])
    assert message.stop_reason == "tool_use"
    [block] = message.content
    assert (block.type, block.name, block.input) == ("tool_use", "get_weather", {"sim": True})
    answer = client.messages.create(
        model="claude",
        max_tokens=100,
        tools=[WEATHER],
        messages=[
            *HI,
            {"role": "assistant", "content": [block.model_dump(include={"type", "id", "name", "input"})]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": block.id, "content": "sunny"}]},
        ],
    )
    assert answer.content[0].text == "Tool said: sunny"


def test_streamed_tool_use_arrives_as_input_json_deltas(gw: AnthropicGateway) -> None:
    chosen = {"type": "tool", "name": "get_weather"}
    with gw.anthropic().messages.stream(
        model="claude", max_tokens=100, messages=HI, tools=[WEATHER], tool_choice=chosen
    ) as stream:
        deltas = [e.delta.partial_json for e in stream if e.type == "content_block_delta"]
        final = stream.get_final_message()
    assert "".join(deltas) == '{"sim": true}'
    assert final.stop_reason == "tool_use"
    assert (final.content[0].name, final.content[0].input) == ("get_weather", {"sim": True})
    assert gw.sent("anth-a")["tool_choice"] == {"type": "tool", "name": "get_weather"}


def test_image_blocks_reach_the_provider(gw: AnthropicGateway) -> None:
    image = {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}}
    content: list[Any] = [{"type": "text", "text": "What is this?"}, image]
    message = gw.anthropic().messages.create(
        model="claude", max_tokens=100, messages=[{"role": "user", "content": content}]
    )
    assert message.content[0].text.startswith("Hello from anth-a/claude-sonnet (1 image).")


@pytest.mark.parametrize("stream", [False, True])
def test_failover_from_overloaded_anthropic_to_an_openai_deployment(gw: AnthropicGateway, stream: bool) -> None:
    gw.sim.set_fault("anth-a", status=529)
    client = gw.anthropic()
    if stream:
        with client.messages.stream(model="mixed", max_tokens=100, messages=HI) as events:
            text = "".join(events.text_stream)
            message = events.get_final_message()
    else:
        message = client.messages.create(model="mixed", max_tokens=100, messages=HI)
        text = message.content[0].text
    assert text.startswith("Hello from oai-a/gpt-mixed.")
    assert message.stop_reason == "end_turn" and message.model == "mixed"
    assert message.usage.output_tokens == 20
    assert (gw.sim.attempts("anth-a"), gw.sim.attempts("oai-a")) == (1, 1)


def test_a_stream_cut_after_content_ends_with_an_error_event(gw: AnthropicGateway) -> None:
    gw.sim.set_fault("anth-a", kind="cut_after", after=5)
    with httpx.stream(
        "POST",
        f"{gw.url}/v1/messages",
        json={"model": "claude-solo", "max_tokens": 50, "messages": HI, "stream": True},
        headers={"x-api-key": gw.key},
        timeout=30,
    ) as response:
        events = sse_events(response.read())
    assert response.status_code == 200
    names = [name for name, _ in events]
    assert "message_stop" not in names and names[-1] == "error"
    assert events[-1][1]["error"]["type"] == "api_error"
    assert "".join(e["delta"]["text"] for n, e in events if n == "content_block_delta").startswith("Hello from")


def test_the_sdk_raises_on_a_stream_cut_after_content(gw: AnthropicGateway) -> None:
    gw.sim.set_fault("anth-a", kind="cut_after", after=5)
    stream = gw.anthropic().messages.stream(model="claude-solo", max_tokens=50, messages=HI)
    with pytest.raises(anthropic.APIStatusError, match="interrupted"), stream as events:
        list(events.text_stream)


def test_bearer_and_x_api_key_both_authenticate(gw: AnthropicGateway) -> None:
    body = {"model": "claude", "max_tokens": 10, "messages": HI}
    assert gw.messages(body).status_code == 200
    bearer = httpx.post(f"{gw.url}/v1/messages", json=body, headers={"authorization": f"Bearer {gw.key}"}, timeout=30)
    assert bearer.status_code == 200


def test_errors_use_anthropics_shape_and_statuses(gw: AnthropicGateway) -> None:
    bad_key = anthropic.Anthropic(base_url=gw.url, api_key="sk-wrong", max_retries=0)
    with pytest.raises(anthropic.AuthenticationError):
        bad_key.messages.create(model="claude", max_tokens=10, messages=HI)
    with pytest.raises(anthropic.NotFoundError):
        gw.anthropic().messages.create(model="no-such-model", max_tokens=10, messages=HI)
    response = gw.messages({"model": "claude", "messages": HI})
    assert response.status_code == 400
    assert response.json() == {
        "type": "error",
        "error": {"type": "invalid_request_error", "message": "max_tokens: Field required (a positive integer)"},
        "request_id": response.headers["request-id"],
    }
    assert gw.messages({"model": "claude", "max_tokens": 5, "messages": HI}, **{"x-api-key": ""}).status_code == 401


def test_rate_limited_everywhere_is_a_429_the_sdk_recognises(gw: AnthropicGateway) -> None:
    gw.sim.set_fault("anth-a", status=429, retry_after="30")
    with pytest.raises(anthropic.RateLimitError) as caught:
        gw.anthropic().messages.create(model="claude-solo", max_tokens=10, messages=HI)
    assert caught.value.response.json()["error"]["type"] == "rate_limit_error"
    assert int(caught.value.response.headers["retry-after"]) >= 25


def test_upstream_invalid_request_comes_back_as_an_anthropic_400(gw: AnthropicGateway) -> None:
    gw.sim.set_fault("anth-a", status=400, error_message="messages.0: something is wrong")
    with pytest.raises(anthropic.BadRequestError, match="something is wrong"):
        gw.anthropic().messages.create(model="claude", max_tokens=10, messages=HI)


def test_structured_output_request_is_served_as_json_by_any_deployment(gw: AnthropicGateway) -> None:
    schema = {"type": "object", "properties": {"answer": {"type": "string"}}}
    message = gw.anthropic().messages.create(
        model="claude", max_tokens=100, messages=HI, output_config={"format": {"type": "json_schema", "schema": schema}}
    )
    assert json.loads(message.content[0].text) == {"sim": True}  # the schema requires nothing
    assert gw.sent("anth-a")["system"].endswith(
        'JSON Schema: {"type":"object","properties":{"answer":{"type":"string"}}}'
    )

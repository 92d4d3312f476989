"""/v1/messages: the older structured-outputs beta's top-level ``output_format`` is served like
``output_config.format``; streams report input tokens in ``message_start``."""

from __future__ import annotations

import json

import anthropic
import httpx
import pytest

from tests.providers.anthropic.conftest import AnthropicGateway, sse_events

HI = [{"role": "user", "content": "hi"}]
SCHEMA = {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]}


def test_output_format_is_answered_as_json_like_output_config(gw: AnthropicGateway) -> None:
    message = gw.anthropic().messages.create(
        model="claude",
        max_tokens=100,
        messages=HI,
        extra_body={"output_format": {"type": "json_schema", "schema": SCHEMA}},
    )
    assert isinstance(json.loads(message.content[0].text)["answer"], str)  # the simulator honours the schema
    assert gw.sent("anth-a")["system"].endswith(
        'JSON Schema: {"type":"object","properties":{"answer":{"type":"string"}},"required":["answer"]}'
    )


def test_output_format_reaches_a_native_structured_outputs_deployment(gw: AnthropicGateway) -> None:
    gw.anthropic().messages.create(
        model="claude-big",
        max_tokens=100,
        messages=HI,
        extra_body={"output_format": {"type": "json_schema", "schema": SCHEMA}},
    )
    sent = gw.sent("anth-c")
    assert sent["output_config"]["format"] == {"type": "json_schema", "schema": SCHEMA}


@pytest.mark.parametrize(
    ("extra", "names"),
    [
        ({"output_format": {"type": "text"}}, "output_format"),
        ({"output_format": "json"}, "output_format"),
        ({"output_format": {"type": "json_schema"}}, "output_format"),
        ({"output_format": {"type": "json_schema", "schema": SCHEMA},
          "output_config": {"format": {"type": "json_schema", "schema": SCHEMA}}}, "not both"),
        ({"output_config": {"format": {"type": "json_schema", "schema": []}}}, "output_config.format"),
    ],
)  # fmt: skip
def test_a_malformed_output_format_is_a_400_naming_it(
    gw: AnthropicGateway, extra: dict[str, object], names: str
) -> None:
    response = gw.messages({"model": "claude", "max_tokens": 10, "messages": HI, **extra})
    assert response.status_code == 400
    body = response.json()
    assert body["error"]["type"] == "invalid_request_error" and names in body["error"]["message"]
    with pytest.raises(anthropic.BadRequestError):
        gw.anthropic().messages.create(model="claude", max_tokens=10, messages=HI, extra_body=extra)  # type: ignore[arg-type]


@pytest.mark.parametrize("model", ["claude", "mixed"])
def test_message_start_reports_the_input_tokens(gw: AnthropicGateway, model: str) -> None:
    long_prompt = [{"role": "user", "content": "tell me about the weather " * 40}]
    body = {"model": model, "max_tokens": 50, "messages": long_prompt, "stream": True}
    with httpx.stream("POST", f"{gw.url}/v1/messages", json=body, headers={"x-api-key": gw.key}, timeout=30) as r:
        events = sse_events(r.read())
    start = events[0][1]["message"]["usage"]
    assert events[0][0] == "message_start"
    assert start["input_tokens"] > 100 and start["output_tokens"] == 0
    assert {"cache_creation_input_tokens", "cache_read_input_tokens"} <= start.keys()


def test_the_sdk_stream_sees_input_tokens_from_the_start(gw: AnthropicGateway) -> None:
    with gw.anthropic().messages.stream(model="claude", max_tokens=20, messages=HI) as stream:
        first = next(iter(stream))
        assert first.type == "message_start" and first.message.usage.input_tokens > 0
        stream.until_done()

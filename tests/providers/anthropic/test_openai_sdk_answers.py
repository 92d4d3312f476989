"""The OpenAI SDK against an Anthropic-kind deployment: text, streams, tools, images, JSON mode."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.providers.anthropic.conftest import AnthropicGateway
from tests.providers.anthropic.test_request_translation import PNG, WEATHER_TOOL

HI = [{"role": "user", "content": "hi"}]


def test_text_answer_with_usage_and_gateway_headers(gw: AnthropicGateway) -> None:
    raw = gw.openai().chat.completions.with_raw_response.create(model="claude", messages=HI)
    completion = raw.parse()
    choice = completion.choices[0]
    assert choice.message.content.startswith("Hello from anth-a/claude-sonnet.")
    assert choice.finish_reason == "stop"
    assert completion.model == "claude"
    assert completion.id.startswith("msg_")
    assert completion.usage is not None
    assert (completion.usage.completion_tokens, completion.usage.prompt_tokens_details.cached_tokens) == (20, 0)
    assert raw.headers["x-gateway-provider"] == "anth-a"
    assert raw.headers["x-gateway-attempts"] == "1"


def test_streamed_text_arrives_in_chunks_and_ends_with_usage(gw: AnthropicGateway) -> None:
    stream = gw.openai().chat.completions.create(
        model="claude", messages=HI, stream=True, stream_options={"include_usage": True}
    )
    chunks = list(stream)
    texts = [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content]
    assert len(texts) == 20
    assert "".join(texts).startswith("Hello from anth-a/claude-sonnet.")
    assert chunks[0].choices[0].delta.role == "assistant"
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == ["stop"]
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert chunks[-1].usage.total_tokens == chunks[-1].usage.prompt_tokens + 20
    assert all(c.model == "claude" for c in chunks)


def test_max_tokens_truncation_finishes_with_length(gw: AnthropicGateway) -> None:
    completion = gw.openai().chat.completions.create(model="claude", messages=HI, max_tokens=3)
    assert completion.choices[0].finish_reason == "length"


def _tool_round_trip(gw: AnthropicGateway, call: Any) -> str:
    messages = [
        {"role": "user", "content": "Weather in Paris?"},
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": call["id"], "content": "sunny and 24C"},
    ]
    answer = gw.openai().chat.completions.create(model="claude", messages=messages, tools=[WEATHER_TOOL])
    return answer.choices[0].message.content or ""


def test_tool_call_round_trip(gw: AnthropicGateway) -> None:
    completion = gw.openai().chat.completions.create(model="claude", messages=HI, tools=[WEATHER_TOOL])
    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls"
    [call] = choice.message.tool_calls
    assert (call.function.name, list(json.loads(call.function.arguments))) == ("get_weather", ["city"])
    assert call.id.startswith("toolu_")
    assert _tool_round_trip(gw, call.model_dump()) == "Tool said: sunny and 24C"


def test_streamed_tool_call_round_trip(gw: AnthropicGateway) -> None:
    stream = gw.openai().chat.completions.create(model="claude", messages=HI, tools=[WEATHER_TOOL], stream=True)
    calls: dict[int, dict[str, Any]] = {}
    finish = None
    pieces = 0
    for chunk in stream:
        for choice in chunk.choices:
            finish = choice.finish_reason or finish
            for delta in choice.delta.tool_calls or ():
                slot = calls.setdefault(delta.index, {"id": None, "type": "function", "name": "", "arguments": ""})
                slot["id"] = delta.id or slot["id"]
                slot["name"] += delta.function.name or ""
                slot["arguments"] += delta.function.arguments or ""
                pieces += bool(delta.function.arguments)
    assert finish == "tool_calls"
    assert list(calls) == [0] and pieces > 1
    call = calls[0]
    assert (call["name"], list(json.loads(call["arguments"]))) == ("get_weather", ["city"])
    function = {"name": call["name"], "arguments": call["arguments"]}
    assert _tool_round_trip(gw, {"id": call["id"], "type": "function", "function": function}).startswith("Tool said")


@pytest.mark.parametrize("stream", [False, True])
def test_image_input_reaches_the_provider(gw: AnthropicGateway, stream: bool) -> None:
    content = [
        {"type": "text", "text": "What is this?"},
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}},
    ]
    response = gw.openai().chat.completions.create(
        model="claude", messages=[{"role": "user", "content": content}], stream=stream
    )
    text = (
        "".join(c.choices[0].delta.content or "" for c in response if c.choices)
        if stream
        else response.choices[0].message.content
    )
    assert text.startswith("Hello from anth-a/claude-sonnet (1 image).")


@pytest.mark.parametrize("stream", [False, True])
def test_json_mode_answers_with_a_json_object(gw: AnthropicGateway, stream: bool) -> None:
    response = gw.openai().chat.completions.create(
        model="claude", messages=HI, response_format={"type": "json_object"}, stream=stream
    )
    text = (
        "".join(c.choices[0].delta.content or "" for c in response if c.choices)
        if stream
        else response.choices[0].message.content
    )
    assert json.loads(text) == {"provider": "anth-a", "model": "claude-sonnet", "answer": "hello"}

"""The OpenAI SDK against Azure OpenAI deployments: tool-call round trips, images and JSON mode."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.providers.anthropic.test_request_translation import PNG, WEATHER_TOOL
from tests.providers.profiles.harness import Gateway

STREAM = [False, True]
ASK = [{"role": "user", "content": "Weather in Paris?"}]


def _text(response: Any, stream: bool) -> str:
    if stream:
        return "".join(c.choices[0].delta.content or "" for c in response if c.choices)
    return str(response.choices[0].message.content)


def _streamed_call(gw: Gateway) -> tuple[str | None, dict[str, Any]]:
    stream = gw.client().chat.completions.create(model="chat", messages=ASK, tools=[WEATHER_TOOL], stream=True)
    finish, call = None, {"id": None, "name": "", "arguments": ""}
    for chunk in stream:
        for choice in chunk.choices:
            finish = choice.finish_reason or finish
            for delta in choice.delta.tool_calls or ():
                assert delta.index == 0
                call["id"] = delta.id or call["id"]
                call["name"] += delta.function.name or ""
                call["arguments"] += delta.function.arguments or ""
    return finish, call


def _answer_to(gw: Gateway, call_id: str, name: str, arguments: str, stream: bool) -> str:
    call = {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}
    messages = [
        *ASK,
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": call_id, "content": "sunny and 24C"},
    ]
    response = gw.client().chat.completions.create(model="chat", messages=messages, tools=[WEATHER_TOOL], stream=stream)
    return _text(response, stream)


def test_tool_call_round_trip(gw: Gateway) -> None:
    completion = gw.client().chat.completions.create(model="chat", messages=ASK, tools=[WEATHER_TOOL])
    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls"
    [call] = choice.message.tool_calls or []
    assert (call.function.name, list(json.loads(call.function.arguments))) == ("get_weather", ["city"])
    assert _answer_to(gw, call.id, call.function.name, call.function.arguments, False) == "Tool said: sunny and 24C"
    sent = gw.sent("az-east")["body"]
    assert sent["messages"][-1] == {"role": "tool", "tool_call_id": call.id, "content": "sunny and 24C"}
    assert sent["tools"] == [WEATHER_TOOL]


def test_streamed_tool_call_round_trip(gw: Gateway) -> None:
    finish, call = _streamed_call(gw)
    assert finish == "tool_calls"
    assert (call["name"], list(json.loads(call["arguments"]))) == ("get_weather", ["city"])
    assert _answer_to(gw, call["id"], call["name"], call["arguments"], True) == "Tool said: sunny and 24C"


@pytest.mark.parametrize("stream", STREAM)
def test_image_input_reaches_the_deployment(gw: Gateway, stream: bool) -> None:
    content = [
        {"type": "text", "text": "What is this?"},
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}},
    ]
    response = gw.client().chat.completions.create(
        model="chat", messages=[{"role": "user", "content": content}], stream=stream
    )
    assert "(1 image)" in _text(response, stream)
    assert gw.sent("az-east")["body"]["messages"][0]["content"][1]["type"] == "image_url"


@pytest.mark.parametrize("stream", STREAM)
def test_json_mode_answers_with_a_json_object(gw: Gateway, stream: bool) -> None:
    response = gw.client().chat.completions.create(
        model="chat", messages=ASK, response_format={"type": "json_object"}, stream=stream
    )
    assert json.loads(_text(response, stream))["answer"] == "hello"
    assert gw.sent("az-east")["body"]["response_format"] == {"type": "json_object"}

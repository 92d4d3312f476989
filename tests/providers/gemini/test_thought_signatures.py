"""Gemini 3's thought signatures survive an OpenAI-shaped tool round trip through the gateway."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from gateway.upstream import tool_ids
from gateway.upstream.adapters import gemini
from simulator.gemini_format import thought_signature
from tests.providers.gemini.conftest import GeminiGateway
from tests.providers.gemini.test_openai_sdk_answers import WEATHER_TOOL

# Standard base64 with '+', '/' and padding: what Google sends, and what an id must not hold.
SIGNATURE = base64.b64encode(b"\xfb\xef\xbe\xff signature bytes!").decode()


def answer_after_tool(gw: GeminiGateway, messages: list[dict[str, Any]], stream: bool) -> str:
    client = gw.openai()
    if not stream:
        answer = client.chat.completions.create(model="gemini3", messages=messages, tools=[WEATHER_TOOL])
        return answer.choices[0].message.content or ""
    chunks = client.chat.completions.create(model="gemini3", messages=messages, tools=[WEATHER_TOOL], stream=True)
    return "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)


@pytest.mark.parametrize("stream", [False, True])
def test_signature_rides_in_the_tool_call_id_and_goes_back_to_gemini_3(gw: GeminiGateway, stream: bool) -> None:
    messages: list[dict[str, Any]] = [{"role": "user", "content": "Weather in Paris?"}]
    first = gw.openai().chat.completions.create(model="gemini3", messages=messages, tools=[WEATHER_TOOL])
    call = first.choices[0].message.tool_calls[0]  # type: ignore[index]
    assert tool_ids.SIGNATURE_MARK in call.id
    messages += [
        {"role": "assistant", "content": None, "tool_calls": [call.model_dump()]},
        {"role": "tool", "tool_call_id": call.id, "content": "sunny"},
    ]
    assert answer_after_tool(gw, messages, stream) == "Tool said: sunny"
    model_turn = gw.sent("gem-b")["contents"][1]
    assert model_turn["parts"][0]["thoughtSignature"] == thought_signature("get_weather")


def test_a_tool_call_from_another_provider_gets_the_placeholder_on_gemini_3(gw: GeminiGateway) -> None:
    messages: list[dict[str, Any]] = [
        {"role": "user", "content": "Weather in Paris?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "call_from_openai", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}
            ],
        },
        {"role": "tool", "tool_call_id": "call_from_openai", "content": "sunny"},
    ]
    assert answer_after_tool(gw, messages, stream=False) == "Tool said: sunny"
    model_turn = gw.sent("gem-b")["contents"][1]
    assert model_turn["parts"][0]["thoughtSignature"] == gemini.SIGNATURE_PLACEHOLDER


def test_a_tampered_signature_is_gemini_3s_400_not_a_failover(gw: GeminiGateway) -> None:
    call_id = tool_ids.tool_call_id(base64.b64encode(b"forged").decode())
    messages: list[dict[str, Any]] = [
        {"role": "user", "content": "Weather in Paris?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [{"id": call_id, "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}],
        },
        {"role": "tool", "tool_call_id": call_id, "content": "sunny"},
    ]
    response = gw.chat({"model": "gemini3", "messages": messages, "tools": [WEATHER_TOOL]})
    assert response.status_code == 400
    assert "thought signature" in response.json()["error"]["message"]


def test_signature_survives_the_id_round_trip_byte_for_byte() -> None:
    call_id = tool_ids.tool_call_id(SIGNATURE)
    assert call_id.startswith("call_")
    assert all(c.isalnum() or c in "_-" for c in call_id)
    assert tool_ids.signature_of(call_id) == SIGNATURE
    assert tool_ids.signature_of("call_0123456789abcdef") is None
    assert tool_ids.tool_call_id(None).count("_") == 1


def test_parallel_calls_keep_the_signature_on_the_first_part_only() -> None:
    parts = [
        {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}, "thoughtSignature": SIGNATURE},
        {"functionCall": {"name": "get_weather", "args": {"city": "Rome"}}},
    ]
    decoder = gemini.GeminiDecoder("gemini-3-pro-preview")
    out: list[Any] = []
    decoder.event({"candidates": [{"content": {"role": "model", "parts": parts}, "finishReason": "STOP"}]}, out)
    calls = next(chunk["choices"][0]["delta"]["tool_calls"] for _, chunk in out if chunk.get("choices"))
    body = {
        "messages": [
            {"role": "user", "content": "Paris and Rome?"},
            {"role": "assistant", "content": None, "tool_calls": calls},
            *({"role": "tool", "tool_call_id": c["id"], "content": "sunny"} for c in calls),
        ]
    }
    sent = gemini.translate(body, "gemini-3-pro-preview")["contents"][1]["parts"]
    assert [part.get("thoughtSignature") for part in sent] == [SIGNATURE, None]


@pytest.mark.parametrize(
    ("model", "strict"),
    [
        ("gemini-3-pro-preview", True),
        ("gemini-3.1-flash", True),
        ("publishers/google/models/gemini-4-pro", True),
        ("gemini-2.5-pro", False),
        ("gemini-2.0-flash", False),
        ("gemini-exp-1206", False),
    ],
)
def test_placeholder_only_for_models_that_enforce_signatures(model: str, strict: bool) -> None:
    body = {
        "messages": [
            {"role": "user", "content": "hi"},
            {
                "role": "assistant",
                "tool_calls": [{"id": "call_x", "type": "function", "function": {"name": "f", "arguments": "{}"}}],
            },
            {"role": "tool", "tool_call_id": "call_x", "content": "ok"},
        ]
    }
    part = gemini.translate(body, model)["contents"][1]["parts"][0]
    assert ("thoughtSignature" in part) is strict


@pytest.mark.parametrize("stream", [False, True])
def test_a_tool_conversation_begun_on_gemini_3_fails_over_to_openai_without_the_signatures(
    gw: GeminiGateway, stream: bool
) -> None:
    messages: list[dict[str, Any]] = [{"role": "user", "content": "Weather in Paris?"}]
    client = gw.openai()
    first = client.chat.completions.create(model="gem-b/gemini3-or-openai", messages=messages, tools=[WEATHER_TOOL])
    call = first.choices[0].message.tool_calls[0]  # type: ignore[index]
    assert len(call.id) > 40  # past OpenAI's limit for a tool call id
    messages += [
        {"role": "assistant", "content": None, "tool_calls": [call.model_dump()]},
        {"role": "tool", "tool_call_id": call.id, "content": "sunny"},
    ]
    gw.sim.set_fault("gem-b", status=503)
    if stream:
        chunks = client.chat.completions.create(
            model="gemini3-or-openai", messages=messages, tools=[WEATHER_TOOL], stream=True
        )
        text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    else:
        answer = client.chat.completions.create(model="gemini3-or-openai", messages=messages, tools=[WEATHER_TOOL])
        text = answer.choices[0].message.content or ""
    assert text == "Tool said: sunny"
    sent = gw.sent("oai")["messages"]
    bare = call.id.partition(tool_ids.SIGNATURE_MARK)[0]
    assert (sent[1]["tool_calls"][0]["id"], sent[2]["tool_call_id"]) == (bare, bare)


def test_a_body_without_signed_ids_is_passed_on_uncopied() -> None:
    body = {"messages": [{"role": "user", "content": "hi"}, {"role": "tool", "tool_call_id": "call_1", "content": "x"}]}
    assert tool_ids.without_signatures(body) is body

"""The official OpenAI SDK, through the gateway, against Bedrock-kind deployments on the simulator."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.providers.bedrock.conftest import PROFILE_ARN, PROFILE_ID, BedrockGateway

PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}
ASK = [{"role": "user", "content": "What is the weather in Paris?"}]


def test_text_answer(gw: BedrockGateway) -> None:
    completion = gw.openai().chat.completions.create(
        model="claude", messages=[{"role": "system", "content": "Be brief."}, *ASK]
    )
    choice = completion.choices[0]
    assert choice.message.content is not None
    assert choice.message.content.startswith(f"Hello from br-a/{PROFILE_ID}.")
    assert choice.finish_reason == "stop"
    assert completion.model == "claude"
    assert completion.usage is not None and completion.usage.completion_tokens == 20
    sent = gw.sim.last_request("br-a")["body"]
    assert sent["system"] == [{"text": "Be brief."}]
    assert "model" not in sent and "stream" not in sent


def test_streaming_answer_with_usage(gw: BedrockGateway) -> None:
    stream = gw.openai().chat.completions.create(
        model="claude", messages=ASK, stream=True, stream_options={"include_usage": True}
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text.startswith(f"Hello from br-a/{PROFILE_ID}.")
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == ["stop"]
    usage = chunks[-1].usage
    assert chunks[-1].choices == []
    assert usage is not None and usage.completion_tokens == 20
    assert usage.total_tokens == usage.prompt_tokens + 20
    assert {c.model for c in chunks} == {"claude"}


def test_max_tokens_truncates_with_finish_reason_length(gw: BedrockGateway) -> None:
    completion = gw.openai().chat.completions.create(model="nova", messages=ASK, max_tokens=3)
    assert completion.choices[0].finish_reason == "length"
    assert gw.sim.last_request("br-a")["body"]["inferenceConfig"] == {"maxTokens": 3}


@pytest.mark.parametrize("stream", [False, True])
def test_tool_round_trip(gw: BedrockGateway, stream: bool) -> None:
    client = gw.openai()
    first = complete(client, stream, model="claude", messages=ASK, tools=[WEATHER], tool_choice="required")
    assert first["finish_reason"] == "tool_calls"
    [call] = first["tool_calls"]
    assert call["function"]["name"] == "get_weather"
    assert json.loads(call["function"]["arguments"]) == {"sim": True}
    assert gw.sim.last_request("br-a")["body"]["toolConfig"]["toolChoice"] == {"any": {}}
    history = [
        *ASK,
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": call["id"], "content": "18C and sunny"},
    ]
    second = complete(client, stream, model="claude", messages=history, tools=[WEATHER])
    assert second["finish_reason"] == "stop"
    assert second["content"] == "Tool said: 18C and sunny"
    turns = gw.sim.last_request("br-a")["body"]["messages"]
    assert [turn["role"] for turn in turns] == ["user", "assistant", "user"]
    assert turns[2]["content"] == [{"toolResult": {"toolUseId": call["id"], "content": [{"text": "18C and sunny"}]}}]


def complete(client: Any, stream: bool, **kwargs: Any) -> dict[str, Any]:
    """The assistant message and finish reason, from a streamed or a whole answer."""
    if not stream:
        choice = client.chat.completions.create(**kwargs).choices[0]
        calls = [call.model_dump() for call in choice.message.tool_calls or ()]
        return {"content": choice.message.content, "tool_calls": calls, "finish_reason": choice.finish_reason}
    content, calls, finish = "", {}, None
    for chunk in client.chat.completions.create(stream=True, **kwargs):
        if not chunk.choices:
            continue
        delta = chunk.choices[0].delta
        content += delta.content or ""
        for piece in delta.tool_calls or ():
            slot = calls.setdefault(piece.index, {"id": None, "type": "function",
                                                  "function": {"name": "", "arguments": ""}})  # fmt: skip
            slot["id"] = piece.id or slot["id"]
            slot["function"]["name"] += piece.function.name or ""
            slot["function"]["arguments"] += piece.function.arguments or ""
        finish = chunk.choices[0].finish_reason or finish
    return {"content": content, "tool_calls": [calls[i] for i in sorted(calls)], "finish_reason": finish}


@pytest.mark.parametrize("stream", [False, True])
def test_image_input(gw: BedrockGateway, stream: bool) -> None:
    content = [
        {"type": "text", "text": "What is in this picture?"},
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}},
    ]
    answer = complete(gw.openai(), stream, model="nova", messages=[{"role": "user", "content": content}])
    assert "(1 image)" in answer["content"]
    sent = gw.sim.last_request("br-a")["body"]["messages"][0]["content"]
    assert sent[1] == {"image": {"format": "png", "source": {"bytes": PNG}}}


def test_http_image_url_is_a_400_before_any_upstream_call(gw: BedrockGateway) -> None:
    part = {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}
    response = gw.chat({"model": "nova", "messages": [{"role": "user", "content": [part]}]})
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "messages[0].content[0].image_url"
    assert gw.sim.attempts("br-a") == 0


@pytest.mark.parametrize("stream", [False, True])
def test_json_mode(gw: BedrockGateway, stream: bool) -> None:
    answer = complete(gw.openai(), stream, model="nova", messages=ASK, response_format={"type": "json_object"})
    assert json.loads(answer["content"]) == {"provider": "br-a", "model": "amazon.nova-lite-v1:0", "answer": "hello"}
    assert "JSON" in gw.sim.last_request("br-a")["body"]["system"][-1]["text"]


def test_n_above_one_is_a_400_naming_n(gw: BedrockGateway) -> None:
    response = gw.chat({"model": "nova", "messages": ASK, "n": 2})
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "n"
    assert gw.sim.attempts("br-a") == 0


def test_cross_region_inference_profile_id_travels_percent_encoded_in_the_path(gw: BedrockGateway) -> None:
    gw.openai().chat.completions.create(model="claude", messages=ASK)
    assert gw.sim.attempts("br-a", PROFILE_ID) == 1


def test_inference_profile_arn_travels_as_one_path_segment(gw: BedrockGateway) -> None:
    completion = gw.openai().chat.completions.create(model="nova-profile", messages=ASK)
    assert completion.choices[0].message.content is not None
    assert gw.sim.attempts("br-a", PROFILE_ARN) == 1


def test_requests_are_signed_for_the_deployment_region(gw: BedrockGateway) -> None:
    gw.sim.set_fault("br-a", status=503)
    gw.openai().chat.completions.create(model="claude", messages=ASK)
    authorization = gw.sim.last_request("br-b")["headers"]["authorization"]
    assert "/us-west-2/bedrock/aws4_request, " in authorization


def test_session_token_is_sent_and_covered_by_the_signature(gw: BedrockGateway) -> None:
    completion = gw.openai().chat.completions.create(model="claude-big", messages=ASK)
    assert completion.choices[0].message.content is not None  # the simulator verified the signature
    headers = gw.sim.last_request("br-c")["headers"]
    assert headers["x-amz-security-token"] == "session-token-for-tests"
    assert "SignedHeaders=content-type;host;x-amz-date;x-amz-security-token, " in headers["authorization"]

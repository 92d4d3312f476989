"""Golden tests: the exact Messages request the gateway sends for representative OpenAI requests."""

from __future__ import annotations

import json
from typing import Any

from tests.providers.anthropic.conftest import AnthropicGateway, ask

PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}
WEATHER_SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}


def weather_call(call_id: str, city: str) -> dict[str, Any]:
    arguments = f'{{"city":"{city}"}}'
    return {"id": call_id, "type": "function", "function": {"name": "get_weather", "arguments": arguments}}


def sent_for(gw: AnthropicGateway, body: dict[str, Any], provider: str = "anth-a") -> dict[str, Any]:
    response = gw.chat(body)
    assert response.status_code == 200, response.text
    return gw.sent(provider)


def test_system_and_developer_messages_move_to_the_top_level_system(gw: AnthropicGateway) -> None:
    body = {
        "model": "claude",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "developer", "content": [{"type": "text", "text": "Answer in English."}]},
            {"role": "user", "content": "hi"},
        ],
    }
    assert sent_for(gw, body) == {
        "model": "claude-sonnet",
        "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}],
        "max_tokens": 4096,
        "stream": True,
        "system": "Be brief.\n\nAnswer in English.",
    }


def test_request_goes_to_messages_with_the_key_and_version_headers(gw: AnthropicGateway) -> None:
    gw.chat(ask())
    headers = gw.sim.last_request("anth-a")["headers"]
    assert headers["x-api-key"] == "sk-ant-test-anth-a-secret01"
    assert headers["anthropic-version"] == "2023-06-01"
    assert headers["content-type"] == "application/json"
    assert "authorization" not in headers


def test_provider_options_set_the_version_and_the_default_max_tokens(gw: AnthropicGateway) -> None:
    gw.chat(ask("claude-big"))
    assert gw.sim.last_request("anth-c")["headers"]["anthropic-version"] == "2024-10-22"
    assert gw.sent("anth-c")["max_tokens"] == 512


def test_images_become_base64_and_url_image_blocks(gw: AnthropicGateway) -> None:
    content = [
        {"type": "text", "text": "What are these?"},
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}", "detail": "low"}},
        {"type": "image_url", "image_url": {"url": "https://example.com/cat.jpg"}},
    ]
    sent = sent_for(gw, {"model": "claude", "messages": [{"role": "user", "content": content}]})
    assert sent["messages"] == [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "What are these?"},
                {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}},
                {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.jpg"}},
            ],
        }
    ]


def test_tool_definitions_and_a_required_choice_without_parallel_calls(gw: AnthropicGateway) -> None:
    body = ask(tools=[WEATHER_TOOL], tool_choice="required", parallel_tool_calls=False)
    sent = sent_for(gw, body)
    assert sent["tools"] == [
        {"name": "get_weather", "description": "Weather for a city.", "input_schema": WEATHER_SCHEMA}
    ]
    assert sent["tool_choice"] == {"type": "any", "disable_parallel_tool_use": True}


def test_named_and_none_tool_choices(gw: AnthropicGateway) -> None:
    named = {"type": "function", "function": {"name": "get_weather"}}
    assert sent_for(gw, ask(tools=[WEATHER_TOOL], tool_choice=named))["tool_choice"] == {
        "type": "tool",
        "name": "get_weather",
    }
    assert sent_for(gw, ask(tools=[WEATHER_TOOL], tool_choice="none"))["tool_choice"] == {"type": "none"}
    assert "tool_choice" not in sent_for(gw, ask(tools=[WEATHER_TOOL]))


def test_tool_calls_and_results_become_tool_use_and_merged_tool_result_turns(gw: AnthropicGateway) -> None:
    messages = [
        {"role": "user", "content": "Weather in Paris and Rome?"},
        {
            "role": "assistant",
            "content": "Checking both.",
            "tool_calls": [
                weather_call("toolu_1", "Paris"),
                weather_call("toolu_2", "Rome"),
            ],
        },
        {"role": "tool", "tool_call_id": "toolu_1", "content": "sunny"},
        {"role": "tool", "tool_call_id": "toolu_2", "content": [{"type": "text", "text": "rainy"}]},
        {"role": "user", "content": "Thanks!"},
    ]
    sent = sent_for(gw, {"model": "claude", "messages": messages, "tools": [WEATHER_TOOL]})
    assert sent["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "Weather in Paris and Rome?"}]},
        {
            "role": "assistant",
            "content": [
                {"type": "text", "text": "Checking both."},
                {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}},
                {"type": "tool_use", "id": "toolu_2", "name": "get_weather", "input": {"city": "Rome"}},
            ],
        },
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "toolu_1", "content": "sunny"},
                {"type": "tool_result", "tool_use_id": "toolu_2", "content": [{"type": "text", "text": "rainy"}]},
                {"type": "text", "text": "Thanks!"},
            ],
        },
    ]


def test_consecutive_user_messages_merge_into_one_turn(gw: AnthropicGateway) -> None:
    messages = [{"role": "user", "content": "one"}, {"role": "user", "content": "two"}]
    assert sent_for(gw, {"model": "claude", "messages": messages})["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "one"}, {"type": "text", "text": "two"}]}
    ]


def test_json_object_mode_becomes_a_system_instruction(gw: AnthropicGateway) -> None:
    sent = sent_for(gw, ask(response_format={"type": "json_object"}))
    assert sent["system"] == "Respond with a single valid JSON object and nothing else: no prose, no code fences."


def test_json_schema_mode_puts_the_schema_in_the_system_instruction(gw: AnthropicGateway) -> None:
    response_format = {"type": "json_schema", "json_schema": {"name": "weather", "schema": WEATHER_SCHEMA}}
    body = {**ask(response_format=response_format), "messages": [
        {"role": "system", "content": "You report weather."}, {"role": "user", "content": "Paris?"}]}  # fmt: skip
    assert sent_for(gw, body)["system"] == (
        "You report weather.\n\n"
        "Respond with a single valid JSON object and nothing else: no prose, no code fences. "
        'It must conform to this JSON Schema: {"type":"object","properties":{"city":{"type":"string"}},'
        '"required":["city"]}'
    )


def test_sampling_stop_and_max_tokens_map_and_unsupported_parameters_are_dropped(gw: AnthropicGateway) -> None:
    body = ask(
        temperature=0.3,
        stop=["END", "STOP"],
        max_completion_tokens=300,
        max_tokens=100,
        user="user-42",
        seed=7,
        logprobs=True,
        top_logprobs=2,
        presence_penalty=0.5,
        frequency_penalty=0.5,
        logit_bias={"1": 5},
        metadata={"team": "a"},
        store=True,
    )
    assert sent_for(gw, body) == {
        "model": "claude-sonnet",
        "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}],
        "max_tokens": 300,
        "stream": True,
        "temperature": 0.3,
        "stop_sequences": ["END", "STOP"],
        "metadata": {"user_id": "user-42"},
    }


def test_temperature_is_clamped_to_anthropics_range_and_wins_over_top_p(gw: AnthropicGateway) -> None:
    sent = sent_for(gw, ask(temperature=1.6, top_p=0.9, stop="END", max_tokens=50))
    assert (sent["temperature"], "top_p" in sent, sent["stop_sequences"], sent["max_tokens"]) == (1, False, ["END"], 50)
    assert sent_for(gw, ask(top_p=0.9))["top_p"] == 0.9


def test_json_schema_goes_as_native_structured_output_when_the_provider_enables_it(gw: AnthropicGateway) -> None:
    response_format = {"type": "json_schema", "json_schema": {"name": "weather", "schema": WEATHER_SCHEMA}}
    response = gw.chat(ask("claude-big", response_format=response_format))
    assert response.status_code == 200
    sent = gw.sent("anth-c")
    assert sent["output_config"] == {"format": {"type": "json_schema", "schema": WEATHER_SCHEMA}}
    assert "system" not in sent
    assert list(json.loads(response.json()["choices"][0]["message"]["content"])) == ["city"]

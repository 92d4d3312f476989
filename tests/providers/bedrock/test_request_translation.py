"""Golden tests: the exact Converse body, URL and signed headers for representative OpenAI requests."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import orjson
import pytest

from gateway.upstream.adapters import bedrock
from gateway.conf.domain import Deployment
from gateway.conf.loader import parse_config
from gateway.errors import Inexpressible
from gateway.events.outcomes import Outcome
from tests.providers.bedrock.conftest import PROFILE_ARN, PROFILE_ID

PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}
WEATHER_SPEC = {
    "toolSpec": {
        "name": "get_weather",
        "description": "Weather for a city",
        "inputSchema": {"json": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}},
    }
}
AUTHORIZATION = re.compile(
    r"AWS4-HMAC-SHA256 Credential=AKIDGOLDEN0000000001/(\d{8})/eu-central-1/bedrock/aws4_request, "
    r"SignedHeaders=content-type;host;x-amz-date;x-amz-security-token, Signature=[0-9a-f]{64}"
)


@pytest.fixture(scope="module")
def deployments() -> Iterator[dict[str, Deployment]]:
    env = {"GOLDEN_KEY_ID": "AKIDGOLDEN0000000001", "GOLDEN_SECRET": "golden/secret", "GOLDEN_TOKEN": "golden-token"}
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        config = parse_config(
            f"""providers:
  - name: golden
    kind: bedrock
    base_url: https://bedrock-runtime.eu-central-1.amazonaws.com
    region: eu-central-1
    options: {{access_key_id_env: GOLDEN_KEY_ID, secret_access_key_env: GOLDEN_SECRET, session_token_env: GOLDEN_TOKEN}}
models:
  - {{name: claude, deployments: [{{provider: golden, model: '{PROFILE_ID}'}}]}}
  - {{name: nova, deployments: [{{provider: golden, model: 'amazon.nova-pro-v1:0'}}]}}
  - {{name: arn, deployments: [{{provider: golden, model: '{PROFILE_ARN}'}}]}}
""",
            source="golden.yaml",
        )
        yield {name: model.deployments[0] for name, model in config.models.items()}


def sent(deployment: Deployment, body: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = orjson.loads(bedrock.build_request(deployment, body).content)
    return result


def rejected(deployment: Deployment, body: dict[str, Any]) -> Inexpressible:
    with pytest.raises(Inexpressible) as caught:
        bedrock.build_request(deployment, body)
    assert caught.value.outcome is Outcome.UNSUPPORTED
    assert caught.value.status == 400
    return caught.value


def test_plain_chat_moves_system_and_developer_prompts_out_of_the_messages(deployments: dict[str, Deployment]) -> None:
    body = {
        "model": "nova",
        "messages": [
            {"role": "system", "content": "Be terse."},
            {"role": "developer", "content": [{"type": "text", "text": "Answer in French."}]},
            {"role": "user", "content": "Hello"},
            {"role": "assistant", "content": "Bonjour"},
            {"role": "user", "content": [{"type": "text", "text": "Again"}, {"type": "text", "text": "please"}]},
        ],
        "max_completion_tokens": 300,
        "temperature": 1.7,
        "top_p": 0.9,
        "stop": "END",
        "stream": True,
    }
    assert sent(deployments["nova"], body) == {
        "system": [{"text": "Be terse."}, {"text": "Answer in French."}],
        "messages": [
            {"role": "user", "content": [{"text": "Hello"}]},
            {"role": "assistant", "content": [{"text": "Bonjour"}]},
            {"role": "user", "content": [{"text": "Again"}, {"text": "please"}]},
        ],
        "inferenceConfig": {"maxTokens": 300, "temperature": 1, "topP": 0.9, "stopSequences": ["END"]},
    }


def test_parameters_converse_cannot_honour_are_dropped(deployments: dict[str, Deployment]) -> None:
    body = {
        "model": "nova",
        "messages": [{"role": "user", "content": "hi"}],
        "n": 1,
        "logprobs": True,
        "top_logprobs": 3,
        "presence_penalty": 0.5,
        "frequency_penalty": 0.5,
        "seed": 7,
        "logit_bias": {"50256": -100},
        "user": "u-1",
        "parallel_tool_calls": False,
        "stream_options": {"include_usage": True},
        "metadata": {"k": "v"},
        "store": True,
        "service_tier": "auto",
        "reasoning_effort": "low",
    }
    assert sent(deployments["nova"], body) == {"messages": [{"role": "user", "content": [{"text": "hi"}]}]}


def test_claude_gets_temperature_without_top_p(deployments: dict[str, Deployment]) -> None:
    body = {"model": "claude", "messages": [{"role": "user", "content": "hi"}], "temperature": 0.3, "top_p": 0.5}
    assert sent(deployments["claude"], body)["inferenceConfig"] == {"temperature": 0.3}


def test_image_data_url_becomes_an_image_block_with_its_format(deployments: dict[str, Deployment]) -> None:
    body = {
        "model": "nova",
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "What is this?"},
                    {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}", "detail": "low"}},
                    {"type": "image_url", "image_url": {"url": f"data:image/jpeg;base64,{PNG}"}},
                ],
            }
        ],
    }
    assert sent(deployments["nova"], body)["messages"] == [
        {
            "role": "user",
            "content": [
                {"text": "What is this?"},
                {"image": {"format": "png", "source": {"bytes": PNG}}},
                {"image": {"format": "jpeg", "source": {"bytes": PNG}}},
            ],
        }
    ]


def test_tool_round_trip_history_alternates_roles_and_merges_results(deployments: dict[str, Deployment]) -> None:
    body = {
        "model": "claude",
        "messages": [
            {"role": "user", "content": "Weather in Paris and Oslo?"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {"id": "call_1", "type": "function",
                     "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}},
                    {"id": "call_2", "type": "function",
                     "function": {"name": "get_weather", "arguments": '{"city": "Oslo"}'}},
                ],
            },
            {"role": "tool", "tool_call_id": "call_1", "content": "18C"},
            {"role": "tool", "tool_call_id": "call_2", "content": [{"type": "text", "text": "9C"}]},
            {"role": "user", "content": "Which is warmer?"},
        ],
        "tools": [WEATHER],
        "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
    }  # fmt: skip
    assert sent(deployments["claude"], body) == {
        "messages": [
            {"role": "user", "content": [{"text": "Weather in Paris and Oslo?"}]},
            {
                "role": "assistant",
                "content": [
                    {"toolUse": {"toolUseId": "call_1", "name": "get_weather", "input": {"city": "Paris"}}},
                    {"toolUse": {"toolUseId": "call_2", "name": "get_weather", "input": {"city": "Oslo"}}},
                ],
            },
            {
                "role": "user",
                "content": [
                    {"toolResult": {"toolUseId": "call_1", "content": [{"text": "18C"}]}},
                    {"toolResult": {"toolUseId": "call_2", "content": [{"text": "9C"}]}},
                    {"text": "Which is warmer?"},
                ],
            },
        ],
        "toolConfig": {"tools": [WEATHER_SPEC], "toolChoice": {"tool": {"name": "get_weather"}}},
    }


@pytest.mark.parametrize(
    ("choice", "expected"),
    [("auto", {"auto": {}}), ("required", {"any": {}}), (None, None)],
)
def test_tool_choice_maps_to_converse_tool_choice(
    deployments: dict[str, Deployment], choice: str | None, expected: dict[str, Any] | None
) -> None:
    body = {"model": "nova", "messages": [{"role": "user", "content": "hi"}], "tools": [WEATHER]}
    if choice:
        body["tool_choice"] = choice
    config = sent(deployments["nova"], body)["toolConfig"]
    assert config.get("toolChoice") == expected
    assert config["tools"] == [WEATHER_SPEC]


def test_tool_choice_none_leaves_the_tools_out(deployments: dict[str, Deployment]) -> None:
    body = {"model": "nova", "messages": [{"role": "user", "content": "hi"}], "tools": [WEATHER], "tool_choice": "none"}
    assert "toolConfig" not in sent(deployments["nova"], body)


def test_tool_history_without_tools_still_gets_a_tool_config(deployments: dict[str, Deployment]) -> None:
    call = {"id": "call_9", "type": "function", "function": {"name": "lookup", "arguments": ""}}
    body = {
        "model": "nova",
        "messages": [
            {"role": "user", "content": "look it up"},
            {"role": "assistant", "content": "Looking.", "tool_calls": [call]},
            {"role": "tool", "tool_call_id": "call_9", "content": "found"},
        ],
    }
    request = sent(deployments["nova"], body)
    assert request["messages"][1]["content"] == [
        {"text": "Looking."},
        {"toolUse": {"toolUseId": "call_9", "name": "lookup", "input": {}}},
    ]
    assert request["toolConfig"] == {
        "tools": [{"toolSpec": {"name": "lookup", "inputSchema": {"json": {"type": "object", "properties": {}}}}}]
    }


def test_foreign_tool_call_ids_are_mapped_to_converse_pattern_consistently(deployments: dict[str, Deployment]) -> None:
    foreign = "call/with spaces+" + "x" * 80
    call = {"id": foreign, "type": "function", "function": {"name": "lookup", "arguments": "{}"}}
    body = {
        "model": "nova",
        "messages": [
            {"role": "user", "content": "go"},
            {"role": "assistant", "tool_calls": [call]},
            {"role": "tool", "tool_call_id": foreign, "content": "ok"},
        ],
        "tools": [{"type": "function", "function": {"name": "lookup"}}],
    }
    messages = sent(deployments["nova"], body)["messages"]
    used = messages[1]["content"][0]["toolUse"]["toolUseId"]
    assert messages[2]["content"][0]["toolResult"]["toolUseId"] == used
    assert re.fullmatch(r"[a-zA-Z0-9_.:-]{1,64}", used)


def test_json_object_mode_becomes_a_system_instruction(deployments: dict[str, Deployment]) -> None:
    body = {
        "model": "nova",
        "messages": [{"role": "system", "content": "You list fruit."}, {"role": "user", "content": "three"}],
        "response_format": {"type": "json_object"},
    }
    assert sent(deployments["nova"], body)["system"] == [
        {"text": "You list fruit."},
        {"text": bedrock.JSON_OBJECT_INSTRUCTION},
    ]


def test_json_schema_mode_puts_the_schema_in_the_instruction(deployments: dict[str, Deployment]) -> None:
    schema = {"type": "object", "properties": {"fruit": {"type": "array"}}}
    body = {
        "model": "nova",
        "messages": [{"role": "user", "content": "three"}],
        "response_format": {"type": "json_schema", "json_schema": {"name": "fruit", "schema": schema}},
    }
    assert sent(deployments["nova"], body)["system"] == [
        {"text": bedrock.JSON_SCHEMA_INSTRUCTION + '{"type":"object","properties":{"fruit":{"type":"array"}}}'}
    ]


def test_request_targets_converse_stream_with_the_model_id_percent_encoded(deployments: dict[str, Deployment]) -> None:
    body = {"model": "claude", "messages": [{"role": "user", "content": "hi"}]}
    base = "https://bedrock-runtime.eu-central-1.amazonaws.com/model"
    profile = bedrock.build_request(deployments["claude"], body).url
    arn = bedrock.build_request(deployments["arn"], body).url
    assert profile == f"{base}/us.anthropic.claude-3-5-sonnet-20241022-v2%3A0/converse-stream"
    assert arn == (
        f"{base}/arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Ainference-profile%2Fus.amazon.nova-lite-v1%3A0"
        "/converse-stream"
    )


def test_signed_headers_carry_the_sigv4_scope_date_host_and_session_token(
    deployments: dict[str, Deployment],
) -> None:
    request = bedrock.build_request(
        deployments["nova"], {"model": "nova", "messages": [{"role": "user", "content": "hi"}]}
    )
    headers = {name.lower(): value for name, value in request.headers.items()}
    assert set(headers) == {"host", "content-type", "accept", "x-amz-date", "x-amz-security-token", "authorization"}
    assert headers["host"] == "bedrock-runtime.eu-central-1.amazonaws.com"
    assert headers["content-type"] == "application/json"
    assert headers["accept"] == "application/vnd.amazon.eventstream"
    assert headers["x-amz-security-token"] == "golden-token"
    assert re.fullmatch(r"\d{8}T\d{6}Z", headers["x-amz-date"])
    match = AUTHORIZATION.fullmatch(headers["authorization"])
    assert match is not None, headers["authorization"]
    assert match[1] == headers["x-amz-date"][:8]


def test_n_above_one_is_a_400_naming_n(deployments: dict[str, Deployment]) -> None:
    error = rejected(deployments["nova"], {"model": "nova", "messages": [{"role": "user", "content": "hi"}], "n": 3})
    assert error.param == "n"
    assert "'n' must be 1" in error.message


def test_http_image_url_is_a_400_asking_for_a_data_url(deployments: dict[str, Deployment]) -> None:
    part = {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}
    error = rejected(deployments["nova"], {"model": "nova", "messages": [{"role": "user", "content": [part]}]})
    assert error.param == "messages[0].content[0].image_url"
    assert "data URL" in error.message


def test_unsupported_image_type_is_a_400(deployments: dict[str, Deployment]) -> None:
    part = {"type": "image_url", "image_url": {"url": f"data:image/tiff;base64,{PNG}"}}
    error = rejected(deployments["nova"], {"model": "nova", "messages": [{"role": "user", "content": [part]}]})
    assert "image/tiff" in error.message


def test_tool_schema_bedrock_rejects_is_a_400_naming_the_tool(deployments: dict[str, Deployment]) -> None:
    tool = {"type": "function", "function": {"name": "list_items", "parameters": {"type": "array"}}}
    body = {"model": "nova", "messages": [{"role": "user", "content": "hi"}], "tools": [tool]}
    error = rejected(deployments["nova"], body)
    assert "'list_items'" in error.message
    assert error.param == "tools[0].function.parameters"


def test_invalid_tool_name_is_a_400_naming_the_tool(deployments: dict[str, Deployment]) -> None:
    tool = {"type": "function", "function": {"name": "get weather!"}}
    body = {"model": "nova", "messages": [{"role": "user", "content": "hi"}], "tools": [tool]}
    error = rejected(deployments["nova"], body)
    assert "'get weather!'" in error.message


def test_tool_choice_naming_an_unknown_tool_is_a_400(deployments: dict[str, Deployment]) -> None:
    body = {
        "model": "nova",
        "messages": [{"role": "user", "content": "hi"}],
        "tools": [WEATHER],
        "tool_choice": {"type": "function", "function": {"name": "nope"}},
    }
    assert rejected(deployments["nova"], body).param == "tool_choice"

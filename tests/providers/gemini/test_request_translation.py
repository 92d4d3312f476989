"""Golden tests: the exact JSON, URL and headers the Gemini adapter sends for OpenAI requests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from gateway.upstream.adapters import gemini, gemini_schema
from gateway.conf.domain import Deployment, Provider, Timeouts
from gateway.errors import GatewayError

TIMEOUTS = Timeouts(connect=1, first_token=1, idle=1, total=1)


def deployment(kind: str = "gemini", base_url: str = "https://generativelanguage.googleapis.com/v1beta",
               api_key: str = "AIza-key", **options: str) -> Deployment:  # fmt: skip
    provider = Provider("g", kind, base_url, api_key, None, TIMEOUTS, options)
    return Deployment("g/gemini-2.0-flash", provider, "gemini-2.0-flash")


def sent(body: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = orjson.loads(gemini.build_request(deployment(), body).content)
    return result


def test_roles_system_prompt_and_sampling_parameters() -> None:
    body = {
        "model": "gemini",
        "messages": [
            {"role": "system", "content": "You are terse."},
            {"role": "developer", "content": [{"type": "text", "text": "Answer in French."}]},
            {"role": "user", "content": "Hello"},
            {"role": "assistant", "content": "Bonjour"},
            {"role": "user", "content": "How are you?"},
        ],
        "temperature": 0.2,
        "top_p": 0.9,
        "max_completion_tokens": 256,
        "stop": "END",
        "seed": 7,
        "n": 1,
    }
    assert sent(body) == {
        "contents": [
            {"role": "user", "parts": [{"text": "Hello"}]},
            {"role": "model", "parts": [{"text": "Bonjour"}]},
            {"role": "user", "parts": [{"text": "How are you?"}]},
        ],
        "systemInstruction": {"parts": [{"text": "You are terse."}, {"text": "Answer in French."}]},
        "generationConfig": {
            "temperature": 0.2,
            "topP": 0.9,
            "seed": 7,
            "maxOutputTokens": 256,
            "stopSequences": ["END"],
        },
    }


def test_parameters_gemini_cannot_honour_are_dropped() -> None:
    body = {
        "model": "gemini",
        "messages": [{"role": "user", "content": "hi"}],
        "logprobs": True,
        "top_logprobs": 3,
        "logit_bias": {"1": 5},
        "presence_penalty": 0.5,
        "frequency_penalty": 0.5,
        "user": "u-1",
        "parallel_tool_calls": False,
        "store": True,
        "metadata": {"a": "b"},
        "service_tier": "auto",
        "stream": True,
        "stream_options": {"include_usage": True},
        "stop": ["a", "b"],
    }
    assert sent(body) == {
        "contents": [{"role": "user", "parts": [{"text": "hi"}]}],
        "generationConfig": {"stopSequences": ["a", "b"]},
    }
    assert {"logprobs", "presence_penalty", "user", "parallel_tool_calls"} <= gemini.DROPPED


def test_tools_tool_calls_and_parallel_tool_results() -> None:
    body = {
        "model": "gemini",
        "messages": [
            {"role": "user", "content": "Weather in Paris and Rome?"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {"id": "call_1", "type": "function",
                     "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}},
                    {"id": "call_2", "type": "function",
                     "function": {"name": "get_weather", "arguments": '{"city": "Rome"}'}},
                ],
            },
            {"role": "tool", "tool_call_id": "call_2", "content": '{"temp": 21}'},
            {"role": "tool", "tool_call_id": "call_1", "content": "sunny, 18C"},
            {"role": "user", "content": "Thanks"},
        ],
        "tools": [
            {"type": "function", "function": {
                "name": "get_weather", "description": "Weather for a city",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                               "required": ["city"], "additionalProperties": False}}},
            {"type": "function", "function": {"name": "now", "parameters": {"type": "object", "properties": {}}}},
        ],
        "tool_choice": "required",
    }  # fmt: skip
    assert sent(body) == {
        "contents": [
            {"role": "user", "parts": [{"text": "Weather in Paris and Rome?"}]},
            {
                "role": "model",
                "parts": [
                    {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}},
                    {"functionCall": {"name": "get_weather", "args": {"city": "Rome"}}},
                ],
            },
            {
                # All responses to one turn's calls travel in one content, followed by the user's text.
                "role": "user",
                "parts": [
                    {"functionResponse": {"name": "get_weather", "response": {"temp": 21}}},
                    {"functionResponse": {"name": "get_weather", "response": {"content": "sunny, 18C"}}},
                    {"text": "Thanks"},
                ],
            },
        ],
        "tools": [
            {
                "functionDeclarations": [
                    {
                        "name": "get_weather",
                        "description": "Weather for a city",
                        "parameters": {
                            "type": "OBJECT",
                            "properties": {"city": {"type": "STRING"}},
                            "required": ["city"],
                        },
                    },
                    {"name": "now"},
                ]
            }
        ],
        "toolConfig": {"functionCallingConfig": {"mode": "ANY"}},
    }


@pytest.mark.parametrize(
    ("choice", "config"),
    [
        ("auto", {"mode": "AUTO"}),
        ("none", {"mode": "NONE"}),
        ("required", {"mode": "ANY"}),
        ({"type": "function", "function": {"name": "now"}}, {"mode": "ANY", "allowedFunctionNames": ["now"]}),
        (
            {"type": "allowed_tools", "allowed_tools": {"mode": "auto", "tools": [
                {"type": "function", "function": {"name": "now"}}]}},
            {"mode": "AUTO", "allowedFunctionNames": ["now"]},
        ),
    ],
)  # fmt: skip
def test_tool_choice_becomes_function_calling_config(choice: Any, config: dict[str, Any]) -> None:
    tool = {"type": "function", "function": {"name": "now"}}
    body = {"model": "g", "messages": [{"role": "user", "content": "x"}], "tools": [tool], "tool_choice": choice}
    assert sent(body)["toolConfig"] == {"functionCallingConfig": config}


def test_images_audio_and_files() -> None:
    body = {
        "model": "g",
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "image_url", "image_url": {"url": "data:image/jpeg;base64,/9j/AA=="}},
                    {"type": "image_url", "image_url": {"url": "https://x.test/a/photo.PNG", "detail": "high"}},
                    {"type": "image_url", "image_url": {"url": "gs://bucket/scan"}},
                    {"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": "mp3"}},
                    {
                        "type": "file",
                        "file": {"file_data": "data:application/pdf;base64,JVBERi0=", "filename": "a.pdf"},
                    },
                ],
            }
        ],
    }
    allowing = deployment(allow_gcs_uris="true")  # gs:// only where the operator allows it
    assert orjson.loads(gemini.build_request(allowing, body).content)["contents"][0]["parts"] == [
        {"inlineData": {"mimeType": "image/jpeg", "data": "/9j/AA=="}},
        {"fileData": {"mimeType": "image/png", "fileUri": "https://x.test/a/photo.PNG"}},
        {"fileData": {"mimeType": "image/jpeg", "fileUri": "gs://bucket/scan"}},
        {"inlineData": {"mimeType": "audio/mp3", "data": "UklGRg=="}},
        {"inlineData": {"mimeType": "application/pdf", "data": "JVBERi0="}},
    ]


@pytest.mark.parametrize(
    ("response_format", "config"),
    [
        ({"type": "text"}, None),
        ({"type": "json_object"}, {"responseMimeType": "application/json"}),
        (
            {"type": "json_schema", "json_schema": {"name": "r", "schema": {
                "type": "object", "properties": {"tags": {"type": "array", "items": {"type": "string"}}}}}},
            {"responseMimeType": "application/json", "responseSchema": {
                "type": "OBJECT", "properties": {"tags": {"type": "ARRAY", "items": {"type": "STRING"}}}}},
        ),
        # Not convertible (a free-form map): still JSON, without the schema.
        (
            {"type": "json_schema", "json_schema": {"name": "r", "schema": {
                "type": "object", "additionalProperties": True}}},
            {"responseMimeType": "application/json"},
        ),
    ],
)  # fmt: skip
def test_response_format(response_format: dict[str, Any], config: dict[str, Any] | None) -> None:
    body = {"model": "g", "messages": [{"role": "user", "content": "x"}], "response_format": response_format}
    assert sent(body).get("generationConfig") == config


def test_reasoning_effort_and_candidate_count() -> None:
    body = {"model": "g", "messages": [{"role": "user", "content": "x"}], "reasoning_effort": "low", "n": 3}
    assert sent(body)["generationConfig"] == {"candidateCount": 3, "thinkingConfig": {"thinkingBudget": 1024}}


def test_pydantic_style_schema_is_inlined_and_nullable() -> None:
    schema = {
        "$defs": {
            "Unit": {"enum": ["c", "f"], "title": "Unit", "type": "string"},
            "Place": {
                "properties": {"city": {"title": "City", "type": "string"}, "zip": {"type": ["string", "null"]}},
                "required": ["city"],
                "title": "Place",
                "type": "object",
            },
        },
        "properties": {
            "place": {"$ref": "#/$defs/Place", "description": "Where"},
            "unit": {"anyOf": [{"$ref": "#/$defs/Unit"}, {"type": "null"}], "default": None},
            "days": {"type": "integer", "minimum": 1, "maximum": 10, "format": "int32"},
            "when": {"type": "string", "format": "date-time"},
            "email": {"type": "string", "format": "email"},
            "choice": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
        },
        "required": ["place", "unit", "missing"],
        "title": "Args",
        "type": "object",
        "additionalProperties": False,
    }
    assert gemini_schema.SchemaConverter(schema).convert(schema, "parameters") == {
        "type": "OBJECT",
        "properties": {
            "place": {
                "type": "OBJECT",
                "description": "Where",
                "properties": {"city": {"type": "STRING"}, "zip": {"type": "STRING", "nullable": True}},
                "required": ["city"],
            },
            "unit": {"type": "STRING", "enum": ["c", "f"], "nullable": True},
            "days": {"type": "INTEGER", "format": "int32", "minimum": 1, "maximum": 10},
            "when": {"type": "STRING", "format": "date-time"},
            "email": {"type": "STRING"},
            "choice": {"anyOf": [{"type": "STRING"}, {"type": "INTEGER"}]},
        },
        "required": ["place", "unit"],
    }


@pytest.mark.parametrize(
    ("parameters", "problem"),
    [
        ({"type": "object", "properties": {"m": {"type": "object"}}}, "parameters.m is an object without properties"),
        ({"type": "object", "properties": {"n": {"not": {"type": "null"}}}}, "parameters.n uses 'not'"),
        ({"type": "object", "properties": {"v": {"type": "integer", "enum": [1, 2]}}}, "non-string enum"),
        ({"type": "object", "properties": {"x": {}}}, "parameters.x has no type"),
        ({"type": "object", "properties": {"t": {"type": "array", "prefixItems": [{"type": "null"}]}}}, "prefixItems"),
        (
            {"$defs": {"Node": {"type": "object", "properties": {"child": {"$ref": "#/$defs/Node"}}}},
             "type": "object", "properties": {"root": {"$ref": "#/$defs/Node"}}},
            "parameters.root.child is recursive (#/$defs/Node)",
        ),
        ({"type": "object", "properties": {"r": {"$ref": "https://x.test/s.json"}}}, "only local"),
        ({"type": "object", "properties": {"a": {"allOf": [{"type": "string"}, {"minLength": 2}]}}}, "allOf"),
    ],
)  # fmt: skip
def test_schema_gemini_would_reject_is_a_400_naming_the_tool(parameters: dict[str, Any], problem: str) -> None:
    tool = {"type": "function", "function": {"name": "lookup", "parameters": parameters}}
    with pytest.raises(GatewayError) as caught:
        sent({"model": "g", "messages": [{"role": "user", "content": "x"}], "tools": [tool]})
    error = caught.value
    assert error.status == 400
    assert error.message.startswith("Tool 'lookup' (tools[0]) has a parameter schema Gemini cannot accept: ")
    assert problem in error.message
    assert error.param == "tools[0].function.parameters"


@pytest.mark.parametrize(
    ("messages", "problem"),
    [
        ([{"role": "tool", "tool_call_id": "call_9", "content": "x"}], "'call_9' matches no tool call"),
        (
            [{"role": "assistant", "tool_calls": [{"id": "c", "function": {"name": "f", "arguments": "[1]"}}]}],
            "arguments must be a JSON object",
        ),
        ([{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "ftp://x/y.png"}}]}], "https://"),
        ([{"role": "user", "content": [{"type": "video", "video": {}}]}], "'video' cannot be sent to Gemini"),
    ],
)
def test_messages_gemini_cannot_take_are_a_400(messages: list[dict[str, Any]], problem: str) -> None:
    with pytest.raises(GatewayError) as caught:
        sent({"model": "g", "messages": messages})
    assert caught.value.status == 400
    assert problem in caught.value.message


def test_function_names_gemini_rejects_are_a_400() -> None:
    tool = {"type": "function", "function": {"name": "1-starts-with-digit"}}
    with pytest.raises(GatewayError) as caught:
        sent({"model": "g", "messages": [{"role": "user", "content": "x"}], "tools": [tool]})
    assert "Tool '1-starts-with-digit'" in caught.value.message


def test_ai_studio_url_and_key_header() -> None:
    request = gemini.build_request(deployment(), {"messages": [{"role": "user", "content": "x"}]})
    assert request.url == (
        "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse"
    )
    assert request.headers == {
        "content-type": "application/json",
        "accept": "text/event-stream",
        "x-goog-api-key": "AIza-key",
    }


def test_vertex_regional_global_and_express_urls(tmp_path: Path) -> None:
    from tests.providers.gemini.conftest import service_account_file

    credentials = str(service_account_file(tmp_path, "http://127.0.0.1:9/token"))
    regional = deployment("vertex", "https://europe-west4-aiplatform.googleapis.com/v1", "",
                          project="p1", location="europe-west4", credentials_file=credentials)  # fmt: skip
    global_ = deployment("vertex", "https://aiplatform.googleapis.com/v1", "",
                         project="p1", location="global", credentials_file=credentials)  # fmt: skip
    express = deployment("vertex", "https://aiplatform.googleapis.com/v1", "AQ.key")
    suffix = "/publishers/google/models/gemini-2.0-flash:streamGenerateContent?alt=sse"
    assert gemini.stream_url(regional) == (
        "https://europe-west4-aiplatform.googleapis.com/v1/projects/p1/locations/europe-west4" + suffix
    )
    assert gemini.stream_url(global_) == "https://aiplatform.googleapis.com/v1/projects/p1/locations/global" + suffix
    assert gemini.stream_url(express) == "https://aiplatform.googleapis.com/v1" + suffix
    assert gemini.auth_headers(express.provider)["x-goog-api-key"] == "AQ.key"

"""Tool arguments and structured answers follow the request's JSON Schema, in every wire format."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import jsonschema
import pytest

from simulator.harness import SimulatorServer
from simulator.schema_values import instance, violation
from tests.simulator.helpers import chat_body, sse_chunks

ORDER = {
    "type": "object",
    "properties": {
        "id": {"type": "string", "format": "uuid"},
        "email": {"type": "string", "format": "email"},
        "placed": {"type": "string", "format": "date-time"},
        "due": {"type": "string", "format": "date"},
        "status": {"enum": ["open", "paid", "shipped"]},
        "kind": {"const": "order"},
        "quantity": {"type": "integer", "minimum": 3, "maximum": 5},
        "price": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
        "tags": {"type": "array", "items": {"type": "string", "minLength": 2, "maxLength": 4}, "minItems": 2,
                 "maxItems": 3},
        "note": {"anyOf": [{"type": "string"}, {"type": "null"}]},
        "owner": {"$ref": "#/$defs/Person"},
        "payment": {"oneOf": [{"$ref": "#/$defs/Card"}, {"$ref": "#/$defs/Cash"}]},
        "extra": {"allOf": [{"$ref": "#/$defs/Person"}, {"properties": {"age": {"type": "integer"}},
                                                          "required": ["age"]}]},
    },
    "required": ["id", "email", "placed", "due", "status", "kind", "quantity", "price", "tags", "note", "owner",
                 "payment", "extra"],
    "additionalProperties": False,
    "$defs": {
        "Person": {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]},
        "Card": {"type": "object", "properties": {"type": {"const": "card"}, "last4": {"type": "string"}},
                 "required": ["type", "last4"], "additionalProperties": False},
        "Cash": {"type": "object", "properties": {"type": {"const": "cash"}}, "required": ["type"],
                 "additionalProperties": False},
    },
}  # fmt: skip
TREE = {
    "$defs": {
        "Node": {
            "type": "object",
            "properties": {
                "label": {"type": "string"},
                "children": {"type": "array", "items": {"$ref": "#/$defs/Node"}},
            },
            "required": ["label", "children"],
        }
    },
    "$ref": "#/$defs/Node",
}
# Gemini's OpenAPI dialect: upper-case types, nullable.
GEMINI_ORDER = {
    "type": "OBJECT",
    "properties": {"city": {"type": "STRING"}, "days": {"type": "INTEGER", "minimum": 1, "maximum": 3},
                   "unit": {"type": "STRING", "enum": ["c", "f"]}, "note": {"type": "STRING", "nullable": True}},
    "required": ["city", "days", "unit"],
}  # fmt: skip
HI = [{"role": "user", "content": "hi"}]


def tool(name: str, parameters: dict[str, Any]) -> dict[str, Any]:
    return {"type": "function", "function": {"name": name, "parameters": parameters}}


def structured(schema: dict[str, Any]) -> dict[str, Any]:
    return {"type": "json_schema", "json_schema": {"name": "answer", "schema": schema, "strict": True}}


@pytest.mark.parametrize("schema", [ORDER, TREE], ids=["order", "recursive-tree"])
@pytest.mark.parametrize("seed", range(20))
def test_generated_values_validate(schema: dict[str, Any], seed: int) -> None:
    jsonschema.validate(instance(schema, seed), schema, format_checker=jsonschema.FormatChecker())


@pytest.mark.parametrize("schema", [ORDER, TREE, {"type": "object", "properties": {"a": {"type": "string"}}}])
def test_violations_do_not_validate(schema: dict[str, Any]) -> None:
    assert not jsonschema.Draft202012Validator(schema).is_valid(violation(schema, 7, top_object=True))


@pytest.mark.parametrize(
    "schema",
    [
        {"$ref": "#"},
        {"allOf": [{"$ref": "#"}]},
        {"type": "object", "properties": {"me": {"$ref": "#"}}, "required": ["me"]},  # no finite instance
        {"type": "array", "items": {"$ref": "#"}, "minItems": 10**9},
        {"type": "integer", "minimum": 10**300, "multipleOf": 1e-300},
        {"type": "string", "minLength": 10**12},
        {"anyOf": [{"$ref": "#"}] * 1000},
    ],
)
def test_hostile_schemas_end_quickly(schema: dict[str, Any]) -> None:
    started = time.monotonic()
    json.dumps(instance(schema, 1))
    json.dumps(violation(schema, 1))
    assert time.monotonic() - started < 0.5


def test_wide_required_lists_stay_bounded() -> None:
    names = [f"p{i}" for i in range(5000)]
    wide = {"type": "object", "properties": {n: {"$ref": "#"} for n in names}, "required": names}
    started = time.monotonic()
    instance(wide, 1)
    assert time.monotonic() - started < 1.0


def test_openai_tool_arguments_follow_the_tool_schema(http: httpx.Client, sim: SimulatorServer) -> None:
    tools = [tool("noop", {"type": "object"}), tool("place_order", ORDER)]
    body = chat_body(tools=tools, tool_choice={"type": "function", "function": {"name": "place_order"}})
    first = http.post("/alpha/v1/chat/completions", json=body).json()
    again = http.post("/alpha/v1/chat/completions", json=body).json()
    arguments = first["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"]
    jsonschema.validate(json.loads(arguments), ORDER, format_checker=jsonschema.FormatChecker())
    assert again["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"] == arguments  # same request


def test_streamed_tool_arguments_join_into_valid_json(http: httpx.Client) -> None:
    body = chat_body(tools=[tool("grow", TREE)], stream=True)
    chunks = sse_chunks(http.post("/alpha/v1/chat/completions", json=body).text)
    pieces = [c["choices"][0]["delta"]["tool_calls"][0]["function"]["arguments"] for c in chunks[1:-1]]
    assert len(pieces) > 3
    jsonschema.validate(json.loads("".join(pieces)), TREE)


def test_openai_structured_answer_follows_response_format(http: httpx.Client) -> None:
    body = chat_body(response_format=structured(ORDER), stream=True)
    chunks = sse_chunks(http.post("/alpha/v1/chat/completions", json=body).text)
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks)
    jsonschema.validate(json.loads(text), ORDER)


def test_anthropic_tool_input_and_output_config_follow_their_schemas(http: httpx.Client) -> None:
    base = {"model": "claude", "max_tokens": 500, "messages": HI}
    tools = [{"name": "place_order", "input_schema": ORDER}]
    used = http.post("/anth/v1/messages", json={**base, "tools": tools}).json()
    jsonschema.validate(used["content"][0]["input"], ORDER)
    fmt = {"format": {"type": "json_schema", "schema": TREE}}
    answered = http.post("/anth/v1/messages", json={**base, "output_config": fmt}).json()
    jsonschema.validate(json.loads(answered["content"][0]["text"]), TREE)


def test_a_schema_in_the_system_prompt_is_followed(http: httpx.Client) -> None:
    system = f"Respond with a single valid JSON object. It must conform to this JSON Schema: {json.dumps(ORDER)}"
    body = {"model": "claude", "max_tokens": 500, "system": system, "messages": HI}
    answered = http.post("/anth/v1/messages", json=body).json()
    jsonschema.validate(json.loads(answered["content"][0]["text"]), ORDER)


def test_gemini_function_args_and_response_schema_follow_their_schemas(http: httpx.Client) -> None:
    contents = [{"role": "user", "parts": [{"text": "hi"}]}]
    tools = [{"functionDeclarations": [{"name": "forecast", "parameters": GEMINI_ORDER}]}]
    url = "/gem/v1beta/models/gemini-2.5-flash:generateContent"
    called = http.post(url, json={"contents": contents, "tools": tools}).json()
    args = called["candidates"][0]["content"]["parts"][0]["functionCall"]["args"]
    assert args["unit"] in ("c", "f") and 1 <= args["days"] <= 3 and isinstance(args["city"], str)
    config = {"responseMimeType": "application/json", "responseSchema": GEMINI_ORDER}
    answered = http.post(url, json={"contents": contents, "generationConfig": config}).json()
    assert set(json.loads(answered["candidates"][0]["content"]["parts"][0]["text"])) >= {"city", "days", "unit"}


def test_invalid_output_fault_breaks_the_schema(http: httpx.Client, sim: SimulatorServer) -> None:
    sim.set_fault("alpha", kind="invalid_output", times=2)
    called = http.post("/alpha/v1/chat/completions", json=chat_body(tools=[tool("place_order", ORDER)])).json()
    arguments = json.loads(called["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"])
    assert not jsonschema.Draft202012Validator(ORDER).is_valid(arguments)
    answered = http.post("/alpha/v1/chat/completions", json=chat_body(response_format=structured(ORDER))).json()
    assert not jsonschema.Draft202012Validator(ORDER).is_valid(json.loads(answered["choices"][0]["message"]["content"]))
    healed = http.post("/alpha/v1/chat/completions", json=chat_body(response_format=structured(ORDER))).json()
    jsonschema.validate(json.loads(healed["choices"][0]["message"]["content"]), ORDER)


@pytest.mark.parametrize("choice", ["required", {"type": "function", "function": {"name": "place_order"}}])
def test_a_required_tool_is_called_again_after_a_tool_result(http: httpx.Client, choice: Any) -> None:
    call = {"id": "call_1", "type": "function", "function": {"name": "place_order", "arguments": "{}"}}
    result = {"role": "tool", "tool_call_id": "call_1", "content": "Field required: id. Fix and try again."}
    messages = [*HI, {"role": "assistant", "content": None, "tool_calls": [call]}, result]
    body = {"model": "m", "messages": messages, "tools": [tool("place_order", ORDER)], "tool_choice": choice}
    again = http.post("/alpha/v1/chat/completions", json=body).json()["choices"][0]
    assert again["finish_reason"] == "tool_calls"
    jsonschema.validate(json.loads(again["message"]["tool_calls"][0]["function"]["arguments"]), ORDER)

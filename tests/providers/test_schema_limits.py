"""Tool and response schemas are capped in size and depth as sent upstream, for every adapter that
forwards or rewrites them; Gemini's converter inlines each definition once."""

from __future__ import annotations

import time
from typing import Any

import pytest

from gateway.upstream.adapters import anthropic, bedrock, gemini, gemini_schema
from gateway.upstream.adapters.schema_limits import (
    CODE,
    MAX_SCHEMA_DEPTH,
    MAX_SCHEMA_NODES,
    MAX_SCHEMA_TEXT,
    SchemaBudget,
)
from gateway.conf.domain import Deployment
from gateway.conf.loader import parse_config
from gateway.errors import AttemptError, GatewayError


def doubling(levels: int, leaf: dict[str, Any] | None = None) -> dict[str, Any]:
    """Definitions that each use the previous one twice: 2**levels copies once inlined."""
    defs: dict[str, Any] = {"d0": leaf or {"type": "string"}}
    for level in range(1, levels + 1):
        ref = {"$ref": f"#/$defs/d{level - 1}"}
        defs[f"d{level}"] = {"type": "object", "properties": {"a": ref, "b": dict(ref)}, "required": ["a"]}
    return {"type": "object", "properties": {"x": {"$ref": f"#/$defs/d{levels}"}}, "$defs": defs}


def nested(levels: int) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    for _ in range(levels):
        schema = {"type": "object", "properties": {"x": schema}}
    return schema


def ref_chain(length: int) -> dict[str, Any]:
    defs: dict[str, Any] = {"c0": {"type": "string"}}
    for k in range(1, length + 1):
        defs[f"c{k}"] = {"type": "object", "properties": {"x": {"$ref": f"#/$defs/c{k - 1}"}}}
    return {"type": "object", "properties": {"x": {"$ref": f"#/$defs/c{length}"}}, "$defs": defs}


def wide(properties: int) -> dict[str, Any]:
    return {"type": "object", "properties": {f"p{i}": {"type": "string"} for i in range(properties)}}


def with_tools(*schemas: dict[str, Any], **extra: Any) -> dict[str, Any]:
    tools = [
        {"type": "function", "function": {"name": f"tool{i}", "parameters": schema}} for i, schema in enumerate(schemas)
    ]
    return {"model": "m", "messages": [{"role": "user", "content": "hi"}], "tools": tools, **extra}


def json_schema(schema: dict[str, Any]) -> dict[str, Any]:
    return {"type": "json_schema", "json_schema": {"name": "answer", "schema": schema}}


def refused(call: Any) -> GatewayError:
    with pytest.raises(GatewayError) as caught:
        call()
    assert caught.value.status == 400
    assert caught.value.code == CODE
    return caught.value


# ---------------------------------------------------------------- the budget


def test_the_budget_counts_every_value_and_every_character() -> None:
    budget = SchemaBudget()
    budget.check({"type": "string", "enum": ["ab", "c"]}, "schema")
    assert (budget.nodes, budget.text) == (5, 4 + 6 + 4 + 2 + 1)


def test_a_shared_part_is_charged_per_use_and_walking_it_stops_at_the_cap() -> None:
    shared: dict[str, Any] = {"type": "string"}
    for _ in range(200):  # 2**200 uses once serialised
        shared = {"a": shared, "b": shared}
    started = time.perf_counter()
    refused(lambda: SchemaBudget().check(_shallow(shared), "schema"))
    assert time.perf_counter() - started < 0.1


def _shallow(shared: dict[str, Any]) -> dict[str, Any]:
    """The 200-level value cut to a nesting the depth cap allows: sharing, not depth, is tested."""
    for _ in range(200 - (MAX_SCHEMA_DEPTH - 2)):
        shared = shared["a"]
    return shared


def test_deep_nesting_is_refused_without_recursing_through_it() -> None:
    deep: list[Any] = []
    for _ in range(5000):
        deep = [deep]
    error = refused(lambda: SchemaBudget().check(deep, "schema"))
    assert f"deeper than {MAX_SCHEMA_DEPTH} levels" in error.message


def test_the_budget_is_shared_by_a_requests_schemas() -> None:
    budget = SchemaBudget()
    budget.check(wide(MAX_SCHEMA_NODES // 6), "tools[0].function.parameters")
    budget.check(wide(MAX_SCHEMA_NODES // 6), "tools[1].function.parameters")
    error = refused(lambda: budget.check(wide(MAX_SCHEMA_NODES // 6), "tools[2].function.parameters"))
    assert error.param == "tools[2].function.parameters"
    assert error.message.startswith(
        f"tools[2].function.parameters: the schema expands to more than {MAX_SCHEMA_NODES:,}"
    )


# ---------------------------------------------------------------- Gemini's converter


class CountingConverter(gemini_schema.SchemaConverter):
    def __init__(self, root: dict[str, Any]) -> None:
        super().__init__(root, "tools[0].function.parameters", SchemaBudget())
        self.typed = 0

    def _typed(self, schema: dict[str, Any], path: str, depth: int) -> dict[str, Any]:
        self.typed += 1
        return super()._typed(schema, path, depth)


def test_each_definition_is_converted_once_however_often_it_is_used() -> None:
    schema = doubling(10)
    converter = CountingConverter(schema)
    converted = converter.convert(schema, "parameters")
    assert converter.typed == 10 + 1 + 1  # d0..d10, and the root
    level = converted["properties"]["x"]
    assert level["properties"]["a"] == level["properties"]["b"]
    assert level["required"] == ["a"]
    leaf = level
    for _ in range(10):
        leaf = leaf["properties"]["b"]
    assert leaf == {"type": "STRING"}


def test_a_ref_with_a_description_beside_it_keeps_that_description() -> None:
    schema = {
        "type": "object",
        "properties": {
            "home": {"$ref": "#/$defs/place", "description": "Where I live"},
            "work": {"$ref": "#/$defs/place"},
        },
        "$defs": {"place": {"type": "object", "description": "A place", "properties": {"city": {"type": "string"}}}},
    }
    converted = gemini_schema.SchemaConverter(schema).convert(schema, "parameters")
    assert converted["properties"]["home"]["description"] == "Where I live"
    assert converted["properties"]["work"]["description"] == "A place"
    assert converted["properties"]["home"]["properties"] is converted["properties"]["work"]["properties"]


def test_a_24_level_doubling_schema_is_refused_at_once_naming_the_node_limit() -> None:
    started = time.perf_counter()
    error = refused(lambda: gemini.translate(with_tools(doubling(24))))
    assert time.perf_counter() - started < 0.1
    assert error.param == "tools[0].function.parameters"
    assert f"more than {MAX_SCHEMA_NODES:,} nodes; the limit is {MAX_SCHEMA_NODES:,}" in error.message


def test_a_doubling_response_schema_is_refused_not_dropped() -> None:
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "response_format": json_schema(doubling(24))}
    error = refused(lambda: gemini.translate(body))
    assert error.param == "response_format.json_schema.schema"


def test_structural_siblings_beside_refs_cannot_defeat_the_cap() -> None:
    defs: dict[str, Any] = {"d0": {"type": "string"}}
    for level in range(1, 25):
        ref = {"$ref": f"#/$defs/d{level - 1}", "nullable": True}
        defs[f"d{level}"] = {"type": "object", "properties": {"a": ref, "b": {**ref, "minLength": 1}}}
    schema = {"type": "object", "properties": {"x": {"$ref": "#/$defs/d24"}}, "$defs": defs}
    started = time.perf_counter()
    refused(lambda: gemini.translate(with_tools(schema)))
    assert time.perf_counter() - started < 0.2


def test_a_long_description_repeated_by_refs_hits_the_text_limit() -> None:
    leaf = {"type": "string", "description": "x" * (MAX_SCHEMA_TEXT // 16)}
    error = refused(lambda: gemini.translate(with_tools(doubling(5, leaf))))
    assert f"more than {MAX_SCHEMA_TEXT:,} characters" in error.message


def test_gemini_refuses_a_schema_nested_past_the_depth_limit() -> None:
    error = refused(lambda: gemini.translate(with_tools(nested(MAX_SCHEMA_DEPTH))))
    assert f"deeper than {MAX_SCHEMA_DEPTH} levels" in error.message
    gemini.translate(with_tools(nested(MAX_SCHEMA_DEPTH // 2 - 1)))


def test_a_long_chain_of_refs_is_refused_by_depth_not_by_the_recursion_limit() -> None:
    error = refused(lambda: gemini.translate(with_tools(ref_chain(2000))))
    assert "deeper than" in error.message


def test_a_schema_under_every_cap_is_converted_as_before() -> None:
    converted = gemini.translate(with_tools(doubling(8)))
    parameters = converted["tools"][0]["functionDeclarations"][0]["parameters"]
    assert parameters["properties"]["x"]["type"] == "OBJECT"


# ---------------------------------------------------------------- adapters that forward schemas


CONFIG = """providers:
  - {name: an, kind: anthropic, base_url: 'https://api.anthropic.com/v1', api_key: sk-ant-test-00000000}
  - {name: an-native, kind: anthropic, base_url: 'https://api.anthropic.com/v1', api_key: sk-ant-test-00000000,
     options: {structured_outputs: "true"}}
  - {name: br, kind: bedrock, base_url: 'https://bedrock-runtime.us-east-1.amazonaws.com', region: us-east-1,
     options: {access_key_id_env: LIMITS_AWS_KEY_ID, secret_access_key_env: LIMITS_AWS_SECRET}}
models:
  - name: m
    deployments:
      - {provider: an, model: claude-3-5-haiku-20241022}
      - {provider: an-native, model: claude-sonnet-4-5}
      - {provider: br, model: 'us.anthropic.claude-3-5-haiku-20241022-v1:0'}
"""


@pytest.fixture
def forwarding(monkeypatch: pytest.MonkeyPatch) -> dict[str, Deployment]:
    monkeypatch.setenv("LIMITS_AWS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("LIMITS_AWS_SECRET", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    config = parse_config(CONFIG, source="limits.yaml")
    return {d.provider.name: d for d in config.models["m"].deployments}


def forward(deployment: Deployment, body: dict[str, Any]) -> Any:
    if deployment.provider.kind == "bedrock":
        return bedrock.translate(body, deployment.upstream_model)
    return anthropic.translate_request(deployment, body)


@pytest.mark.parametrize("name", ["an", "an-native", "br"])
def test_forwarded_tool_schemas_have_the_same_caps(forwarding: dict[str, Deployment], name: str) -> None:
    deployment = forwarding[name]
    error = refused(lambda: forward(deployment, with_tools(wide(MAX_SCHEMA_NODES // 2 + 1))))
    assert error.param == "tools[0].function.parameters" and "nodes" in error.message
    error = refused(lambda: forward(deployment, with_tools(wide(10), nested(MAX_SCHEMA_DEPTH))))
    assert error.param == "tools[1].function.parameters" and "deeper than" in error.message
    error = refused(lambda: forward(deployment, with_tools(wide(MAX_SCHEMA_NODES // 3), wide(MAX_SCHEMA_NODES // 3))))
    assert error.param == "tools[1].function.parameters"
    assert forward(deployment, with_tools(wide(100), nested(10)))


@pytest.mark.parametrize("name", ["an", "an-native", "br"])
def test_forwarded_response_schemas_have_the_same_caps(forwarding: dict[str, Deployment], name: str) -> None:
    deployment = forwarding[name]
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
    error = refused(lambda: forward(deployment, {**body, "response_format": json_schema(nested(MAX_SCHEMA_DEPTH))}))
    assert error.param == "response_format.json_schema.schema"
    assert forward(deployment, {**body, "response_format": json_schema(wide(10))})


def test_a_refusal_is_a_deployment_that_cannot_express_the_request(forwarding: dict[str, Deployment]) -> None:
    """The relay turns an adapter's 400 into 'unsupported': the next deployment is tried."""
    from gateway.upstream.attempt import _translate

    deployment = forwarding["an"]
    with pytest.raises(AttemptError) as caught:
        _translate(anthropic.ADAPTER, deployment, with_tools(nested(MAX_SCHEMA_DEPTH)))
    assert caught.value.failure.value == "unsupported" and caught.value.status == 400


def test_a_long_type_list_is_refused_before_any_copy_of_the_schema() -> None:
    """Each type of a list became a copy of the whole schema: quadratic in a small body."""
    schema = {"type": ["string"] * 5000 + ["pony"], **{f"x-{i}": i for i in range(5000)}}
    started = time.perf_counter()
    with pytest.raises(GatewayError) as caught:
        gemini.translate(with_tools({"type": "object", "properties": {"p": schema}}))
    assert time.perf_counter() - started < 0.05
    assert caught.value.code == "invalid_tool_schema" and "'pony'" in caught.value.message

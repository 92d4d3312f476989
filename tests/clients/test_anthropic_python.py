"""The official anthropic Python SDK against the gateway's /v1/messages (Anthropic-kind deployments) and
its model list."""

from __future__ import annotations

import anthropic
import pytest

from tests.clients.conftest import (
    BAD_KEY,
    COMPLETION_TOKENS,
    EMBEDDING_MODEL,
    HELLO_CLAUDE,
    HELLO_CLAUDE_FAILOVER,
    INVOICE_SCHEMA,
    WEATHER_SCHEMA,
    ClientGateway,
    Invoice,
    Weather,
)

HI = [{"role": "user", "content": "hi"}]
WEATHER_TOOL = {"name": "weather", "description": "Weather for a city.", "input_schema": WEATHER_SCHEMA}


def client(gw: ClientGateway, key: str = "") -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=gw.url, api_key=key or gw.key, max_retries=0, timeout=20)


def text(sdk: anthropic.Anthropic) -> str:
    message = sdk.messages.create(model="claude", max_tokens=200, messages=HI)  # type: ignore[arg-type]
    return "".join(block.text for block in message.content if block.type == "text")


def test_chat(gw: ClientGateway) -> None:
    assert text(client(gw)).startswith(HELLO_CLAUDE)


def test_stream(gw: ClientGateway) -> None:
    with client(gw).messages.stream(model="claude", max_tokens=200, messages=HI) as stream:  # type: ignore[arg-type]
        streamed = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert streamed.startswith(HELLO_CLAUDE)
    assert final.usage.output_tokens == COMPLETION_TOKENS


def test_usage(gw: ClientGateway) -> None:
    message = client(gw).messages.create(model="claude", max_tokens=200, messages=HI)  # type: ignore[arg-type]
    assert message.usage.output_tokens == COMPLETION_TOKENS and message.usage.input_tokens >= 1


def test_tool_use_input_follows_the_schema(gw: ClientGateway) -> None:
    message = client(gw).messages.create(
        model="claude", max_tokens=200, messages=HI, tools=[WEATHER_TOOL],  # type: ignore[arg-type,list-item]
        tool_choice={"type": "tool", "name": "weather"},
    )  # fmt: skip
    [block] = message.content
    assert block.type == "tool_use" and message.stop_reason == "tool_use"
    Weather.model_validate(block.input)


def test_structured_output_follows_the_schema(gw: ClientGateway) -> None:
    message = client(gw).messages.create(
        model="claude", max_tokens=500, messages=HI,  # type: ignore[arg-type]
        output_config={"format": {"type": "json_schema", "schema": INVOICE_SCHEMA}},  # type: ignore[call-arg,typeddict-item]
    )  # fmt: skip
    Invoice.model_validate_json(message.content[0].text)  # type: ignore[union-attr]


def test_errors_are_the_sdks_exceptions(gw: ClientGateway) -> None:
    with pytest.raises(anthropic.AuthenticationError):
        text(client(gw, BAD_KEY))
    with pytest.raises(anthropic.NotFoundError):
        client(gw).messages.create(model="no-such-model", max_tokens=10, messages=HI)  # type: ignore[arg-type]


def test_failover_mid_run(gw: ClientGateway) -> None:
    sdk = client(gw)
    assert text(sdk).startswith(HELLO_CLAUDE)
    gw.fail_primary()
    assert text(sdk).startswith(HELLO_CLAUDE_FAILOVER)
    with sdk.messages.stream(model="claude", max_tokens=200, messages=HI) as stream:  # type: ignore[arg-type]
        assert "".join(stream.text_stream).startswith(HELLO_CLAUDE_FAILOVER)


def test_models_list_and_retrieve_in_anthropics_shape(gw: ClientGateway) -> None:
    sdk = client(gw)  # the SDK sends x-api-key: the gateway answers in Anthropic's shape
    page = sdk.models.list(limit=2)
    assert [model.id for model in page.data] == ["chat", "claude"] and page.has_more
    # Pages of one: the SDK follows after_id to the end.
    assert [model.id for model in sdk.models.list(limit=1)] == ["chat", "claude", EMBEDDING_MODEL]
    model = sdk.models.retrieve("claude")
    assert (model.id, model.type) == ("claude", "model")
    with pytest.raises(anthropic.NotFoundError):
        sdk.models.retrieve("no-such-model")
    with pytest.raises(anthropic.AuthenticationError):
        client(gw, BAD_KEY).models.list()

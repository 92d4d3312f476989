"""The official openai Python SDK against the live gateway: chat, streaming, usage, tools, structured
output, errors and a failover in the middle of the run."""

from __future__ import annotations

from collections.abc import Callable

import openai
import pytest

from tests.clients.conftest import (
    BAD_KEY,
    COMPLETION_TOKENS,
    HELLO_CHAT,
    HELLO_CHAT_FAILOVER,
    WEATHER_SCHEMA,
    ClientGateway,
    Invoice,
    Weather,
)

HI = [{"role": "user", "content": "hi"}]
WEATHER_TOOL = {"type": "function", "function": {"name": "weather", "parameters": WEATHER_SCHEMA}}


def client(gw: ClientGateway, key: str = "") -> openai.OpenAI:
    return openai.OpenAI(base_url=gw.openai_base, api_key=key or gw.key, max_retries=0, timeout=20)


def chat_text(sdk: openai.OpenAI) -> str:
    return sdk.chat.completions.create(model="chat", messages=HI).choices[0].message.content or ""  # type: ignore[arg-type]


# One text call per endpoint the SDK reaches through the gateway; the Responses API joins here.
TEXT_ENDPOINTS: dict[str, Callable[[openai.OpenAI], str]] = {"chat.completions": chat_text}


@pytest.mark.parametrize("endpoint", TEXT_ENDPOINTS)
def test_chat(gw: ClientGateway, endpoint: str) -> None:
    assert TEXT_ENDPOINTS[endpoint](client(gw)).startswith(HELLO_CHAT)


def test_stream_with_usage(gw: ClientGateway) -> None:
    stream = client(gw).chat.completions.create(
        model="chat",
        messages=HI,
        stream=True,
        stream_options={"include_usage": True},  # type: ignore[arg-type]
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text.startswith(HELLO_CHAT)
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == COMPLETION_TOKENS


def test_usage(gw: ClientGateway) -> None:
    usage = client(gw).chat.completions.create(model="chat", messages=HI).usage  # type: ignore[arg-type]
    assert usage is not None and usage.completion_tokens == COMPLETION_TOKENS
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens


def test_tool_call_arguments_follow_the_schema(gw: ClientGateway) -> None:
    completion = client(gw).chat.completions.create(model="chat", messages=HI, tools=[WEATHER_TOOL])  # type: ignore[arg-type,list-item]
    [call] = completion.choices[0].message.tool_calls or []
    assert call.function.name == "weather"  # type: ignore[union-attr]
    Weather.model_validate_json(call.function.arguments)  # type: ignore[union-attr]


def test_structured_output_parses(gw: ClientGateway) -> None:
    parsed = client(gw).chat.completions.parse(model="chat", messages=HI, response_format=Invoice)  # type: ignore[arg-type]
    invoice = parsed.choices[0].message.parsed
    assert isinstance(invoice, Invoice) and 1 <= len(invoice.lines) <= 3


def test_errors_are_the_sdks_exceptions(gw: ClientGateway) -> None:
    with pytest.raises(openai.AuthenticationError):
        chat_text(client(gw, BAD_KEY))
    with pytest.raises(openai.NotFoundError):
        client(gw).chat.completions.create(model="no-such-model", messages=HI)  # type: ignore[arg-type]


def test_failover_mid_run(gw: ClientGateway) -> None:
    sdk = client(gw)
    assert chat_text(sdk).startswith(HELLO_CHAT)
    gw.fail_primary()
    assert chat_text(sdk).startswith(HELLO_CHAT_FAILOVER)
    stream = sdk.chat.completions.create(model="chat", messages=HI, stream=True)  # type: ignore[arg-type]
    assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices).startswith(HELLO_CHAT_FAILOVER)

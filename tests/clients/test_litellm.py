"""litellm as a client: ``litellm.completion`` with ``api_base`` at the gateway (OpenAI route) and
``litellm.anthropic.messages`` (Anthropic route).

litellm is not in the dev extras: it adds about 240 MB to the environment (litellm alone is 200 MB,
plus tokenizers, huggingface-hub and boto3). These tests run where it is installed.
"""

from __future__ import annotations

import asyncio

import pytest

from tests.clients.conftest import (
    BAD_KEY,
    COMPLETION_TOKENS,
    HELLO_CHAT,
    HELLO_CHAT_FAILOVER,
    HELLO_CLAUDE,
    WEATHER_SCHEMA,
    ClientGateway,
    Invoice,
    Weather,
)

litellm = pytest.importorskip("litellm", reason="litellm is not installed (about 240 MB: not in the dev extras)")
HI = [{"role": "user", "content": "hi"}]
WEATHER_TOOL = {"type": "function", "function": {"name": "weather", "parameters": WEATHER_SCHEMA}}


def complete(gw: ClientGateway, key: str = "", **extra: object) -> object:
    return litellm.completion(
        model="openai/chat", api_base=gw.openai_base, api_key=key or gw.key, messages=HI, num_retries=0, **extra
    )


def test_chat_and_usage(gw: ClientGateway) -> None:
    response = complete(gw)
    assert response.choices[0].message.content.startswith(HELLO_CHAT)  # type: ignore[attr-defined]
    assert response.usage.completion_tokens == COMPLETION_TOKENS  # type: ignore[attr-defined]


def test_stream_with_usage(gw: ClientGateway) -> None:
    chunks = list(complete(gw, stream=True, stream_options={"include_usage": True}))  # type: ignore[call-overload]
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices).startswith(HELLO_CHAT)
    assert [c.usage.completion_tokens for c in chunks if getattr(c, "usage", None)][-1] == COMPLETION_TOKENS


def test_tool_call_arguments_follow_the_schema(gw: ClientGateway) -> None:
    response = complete(gw, tools=[WEATHER_TOOL])
    [call] = response.choices[0].message.tool_calls  # type: ignore[attr-defined]
    Weather.model_validate_json(call.function.arguments)


def test_structured_output_follows_the_schema(gw: ClientGateway) -> None:
    response = complete(gw, response_format=Invoice)
    Invoice.model_validate_json(response.choices[0].message.content)  # type: ignore[attr-defined]


def test_errors_are_litellm_exceptions(gw: ClientGateway) -> None:
    with pytest.raises(litellm.AuthenticationError):
        complete(gw, BAD_KEY)
    with pytest.raises(litellm.NotFoundError):
        litellm.completion(model="openai/nope", api_base=gw.openai_base, api_key=gw.key, messages=HI, num_retries=0)


def test_anthropic_messages_route(gw: ClientGateway) -> None:
    response = asyncio.run(
        litellm.anthropic.messages.acreate(
            model="anthropic/claude", api_base=gw.url, api_key=gw.key, messages=HI, max_tokens=100
        )
    )
    text = response["content"][0]["text"] if isinstance(response, dict) else response.content[0].text
    assert text.startswith(HELLO_CLAUDE)


def test_failover_mid_run(gw: ClientGateway) -> None:
    assert complete(gw).choices[0].message.content.startswith(HELLO_CHAT)  # type: ignore[attr-defined]
    gw.fail_primary()
    assert complete(gw).choices[0].message.content.startswith(HELLO_CHAT_FAILOVER)  # type: ignore[attr-defined]
    streamed = "".join(c.choices[0].delta.content or "" for c in complete(gw, stream=True))  # type: ignore[attr-defined]
    assert streamed.startswith(HELLO_CHAT_FAILOVER)

"""langchain-openai's ChatOpenAI and langchain-anthropic's ChatAnthropic against the live gateway."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anthropic
import openai
import pytest
from langchain_anthropic import ChatAnthropic
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_openai import ChatOpenAI

from tests.clients.conftest import (
    BAD_KEY,
    COMPLETION_TOKENS,
    HELLO_CHAT,
    HELLO_CHAT_FAILOVER,
    HELLO_CLAUDE,
    HELLO_CLAUDE_FAILOVER,
    ClientGateway,
    Invoice,
    Weather,
)


def chat_openai(gw: ClientGateway, key: str) -> BaseChatModel:
    return ChatOpenAI(model="chat", base_url=gw.openai_base, api_key=key, max_retries=0, stream_usage=True)  # type: ignore[arg-type]


def chat_anthropic(gw: ClientGateway, key: str) -> BaseChatModel:
    return ChatAnthropic(model="claude", base_url=gw.url, api_key=key, max_retries=0, max_tokens=500)  # type: ignore[call-arg,arg-type]


Factory = Callable[[ClientGateway, str], BaseChatModel]
# (factory, greeting, greeting after failover, the SDK's authentication error)
FLAVOURS: dict[str, tuple[Factory, str, str, type[Exception]]] = {
    "openai": (chat_openai, HELLO_CHAT, HELLO_CHAT_FAILOVER, openai.AuthenticationError),
    "anthropic": (chat_anthropic, HELLO_CLAUDE, HELLO_CLAUDE_FAILOVER, anthropic.AuthenticationError),
}


@pytest.fixture(params=list(FLAVOURS))
def flavour(request: pytest.FixtureRequest) -> tuple[Factory, str, str, type[Exception]]:
    return FLAVOURS[request.param]


def model(gw: ClientGateway, flavour: tuple[Any, ...], key: str = "") -> BaseChatModel:
    factory: Factory = flavour[0]
    return factory(gw, key or gw.key)


def test_chat_and_usage(gw: ClientGateway, flavour: tuple[Any, ...]) -> None:
    answer = model(gw, flavour).invoke("hi")
    assert str(answer.content).startswith(flavour[1])
    assert answer.usage_metadata is not None and answer.usage_metadata["output_tokens"] == COMPLETION_TOKENS


def test_stream(gw: ClientGateway, flavour: tuple[Any, ...]) -> None:
    chunks = list(model(gw, flavour).stream("hi"))
    assert "".join(str(c.content) for c in chunks).startswith(flavour[1])
    usage = [c.usage_metadata for c in chunks if c.usage_metadata]
    assert sum(u["output_tokens"] for u in usage) == COMPLETION_TOKENS


def test_tool_call_arguments_follow_the_schema(gw: ClientGateway, flavour: tuple[Any, ...]) -> None:
    answer = model(gw, flavour).bind_tools([Weather], tool_choice="Weather").invoke("weather?")
    [call] = answer.tool_calls  # type: ignore[attr-defined]
    assert call["name"] == "Weather"
    Weather.model_validate(call["args"])


@pytest.mark.parametrize("method", ["function_calling", "json_schema"])
def test_structured_output(gw: ClientGateway, flavour: tuple[Any, ...], method: str) -> None:
    invoice = model(gw, flavour).with_structured_output(Invoice, method=method).invoke("an invoice")  # type: ignore[arg-type]
    assert isinstance(invoice, Invoice)


def test_errors_are_the_sdks_exceptions(gw: ClientGateway, flavour: tuple[Any, ...]) -> None:
    with pytest.raises(flavour[3]):
        model(gw, flavour, BAD_KEY).invoke("hi")


def test_failover_mid_run(gw: ClientGateway, flavour: tuple[Any, ...]) -> None:
    chat = model(gw, flavour)
    assert str(chat.invoke("hi").content).startswith(flavour[1])
    gw.fail_primary()
    assert str(chat.invoke("hi").content).startswith(flavour[2])
    assert "".join(str(c.content) for c in chat.stream("hi")).startswith(flavour[2])

"""langchain-openai's ChatOpenAI (chat completions and the Responses API) and OpenAIEmbeddings, and
langchain-anthropic's ChatAnthropic, against the live gateway."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anthropic
import openai
import pytest
from langchain_anthropic import ChatAnthropic
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_openai import ChatOpenAI, OpenAIEmbeddings

from tests.clients.conftest import (
    BAD_KEY,
    COMPLETION_TOKENS,
    EMBEDDING_MODEL,
    EMBEDDING_SIZE,
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


def responses_openai(gw: ClientGateway, key: str) -> BaseChatModel:
    return ChatOpenAI(model="chat", base_url=gw.openai_base, api_key=key, max_retries=0, use_responses_api=True)  # type: ignore[arg-type]


def chat_anthropic(gw: ClientGateway, key: str) -> BaseChatModel:
    return ChatAnthropic(model="claude", base_url=gw.url, api_key=key, max_retries=0, max_tokens=500)  # type: ignore[call-arg,arg-type]


Factory = Callable[[ClientGateway, str], BaseChatModel]
# (factory, greeting, greeting after failover, the SDK's authentication error)
FLAVOURS: dict[str, tuple[Factory, str, str, type[Exception]]] = {
    "openai": (chat_openai, HELLO_CHAT, HELLO_CHAT_FAILOVER, openai.AuthenticationError),
    "openai-responses": (responses_openai, HELLO_CHAT, HELLO_CHAT_FAILOVER, openai.AuthenticationError),
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
    assert answer.text.startswith(flavour[1])
    assert answer.usage_metadata is not None and answer.usage_metadata["output_tokens"] == COMPLETION_TOKENS


def test_stream(gw: ClientGateway, flavour: tuple[Any, ...]) -> None:
    chunks = list(model(gw, flavour).stream("hi"))
    assert "".join(c.text for c in chunks).startswith(flavour[1])
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
    assert chat.invoke("hi").text.startswith(flavour[1])
    gw.fail_primary()
    assert chat.invoke("hi").text.startswith(flavour[2])
    assert "".join(c.text for c in chat.stream("hi")).startswith(flavour[2])


def embeddings(gw: ClientGateway, key: str = "") -> OpenAIEmbeddings:
    # The default (True) tokenizes with tiktoken first, which downloads cl100k_base from
    # openaipublic.blob.core.windows.net: the tests make no call outside the machine. What it would
    # send, token arrays, is tests/proxy/test_embeddings.py's token-array case.
    return OpenAIEmbeddings(
        model=EMBEDDING_MODEL, base_url=gw.openai_base, api_key=key or gw.key, max_retries=0,  # type: ignore[arg-type]
        check_embedding_ctx_length=False,
    )  # fmt: skip


def test_embeddings_documents_and_query(gw: ClientGateway) -> None:
    vectors = embeddings(gw).embed_documents(["one", "two"])
    assert [len(v) for v in vectors] == [EMBEDDING_SIZE, EMBEDDING_SIZE]
    assert embeddings(gw).embed_query("one") == pytest.approx(vectors[0], rel=1e-6)


def test_embeddings_errors_and_failover_mid_run(gw: ClientGateway) -> None:
    with pytest.raises(openai.AuthenticationError):
        embeddings(gw, BAD_KEY).embed_query("one")
    model = embeddings(gw)
    before = model.embed_query("one")
    gw.fail_primary()
    assert model.embed_query("one") == pytest.approx(before, rel=1e-6)
    assert gw.attempts("cl-b") == 1

"""pydantic-ai agents over OpenAIChatModel (chat completions) and OpenAIResponsesModel (the Responses
API), and its Embedder over OpenAIEmbeddingModel, through the live gateway."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from pydantic_ai import Agent, NativeOutput, PromptedOutput, ToolOutput
from pydantic_ai.embeddings import Embedder
from pydantic_ai.embeddings.openai import OpenAIEmbeddingModel
from pydantic_ai.exceptions import ModelHTTPError
from pydantic_ai.models import Model
from pydantic_ai.models.openai import OpenAIChatModel, OpenAIResponsesModel
from pydantic_ai.providers.openai import OpenAIProvider

from tests.clients.conftest import (
    BAD_KEY,
    COMPLETION_TOKENS,
    EMBEDDING_MODEL,
    EMBEDDING_SIZE,
    HELLO_CHAT,
    HELLO_CHAT_FAILOVER,
    ClientGateway,
    Invoice,
    Weather,
)


Factory = Callable[[ClientGateway, str], Model]
MODELS: dict[str, type[OpenAIChatModel] | type[OpenAIResponsesModel]] = {
    "chat": OpenAIChatModel,
    "responses": OpenAIResponsesModel,
}


@pytest.fixture(params=list(MODELS))
def api(request: pytest.FixtureRequest) -> type[OpenAIChatModel] | type[OpenAIResponsesModel]:
    return MODELS[request.param]


@pytest.fixture
def chat_model(api: type[OpenAIChatModel] | type[OpenAIResponsesModel]) -> Factory:
    def make(gw: ClientGateway, key: str = "") -> Model:
        return api("chat", provider=OpenAIProvider(base_url=gw.openai_base, api_key=key or gw.key))

    return make


def test_chat_and_usage(chat_model: Factory, gw: ClientGateway) -> None:
    result = Agent(chat_model(gw)).run_sync("hi")
    assert result.output.startswith(HELLO_CHAT)
    assert result.usage.output_tokens == COMPLETION_TOKENS


def test_stream(chat_model: Factory, gw: ClientGateway) -> None:
    async def streamed() -> tuple[str, int]:
        async with Agent(chat_model(gw)).run_stream("hi") as run:
            text = "".join([piece async for piece in run.stream_text(delta=True)])
            return text, run.usage.output_tokens

    text, tokens = asyncio.run(streamed())
    assert text.startswith(HELLO_CHAT) and tokens == COMPLETION_TOKENS


def test_tool_is_called_with_schema_valid_arguments(chat_model: Factory, gw: ClientGateway) -> None:
    seen: list[Weather] = []
    agent = Agent(chat_model(gw))

    @agent.tool_plain
    def weather(forecast: Weather) -> str:
        seen.append(forecast)  # pydantic-ai validated the arguments against the tool's schema
        return "sunny"

    result = agent.run_sync("weather?")
    assert len(seen) == 1
    assert result.output == "Tool said: sunny"  # the simulator echoes the tool result


@pytest.mark.parametrize("output", [Invoice, ToolOutput(Invoice), NativeOutput(Invoice), PromptedOutput(Invoice)],
                         ids=["default", "tool", "native", "prompted"])  # fmt: skip
def test_structured_output(chat_model: Factory, gw: ClientGateway, output: object) -> None:
    result = Agent(chat_model(gw), output_type=output).run_sync("an invoice")  # type: ignore[call-overload]
    assert isinstance(result.output, Invoice)


def test_errors_are_model_http_errors(chat_model: Factory, gw: ClientGateway) -> None:
    with pytest.raises(ModelHTTPError) as caught:
        Agent(chat_model(gw, BAD_KEY)).run_sync("hi")
    assert caught.value.status_code == 401


def test_failover_mid_run(chat_model: Factory, gw: ClientGateway) -> None:
    agent = Agent(chat_model(gw))
    assert agent.run_sync("hi").output.startswith(HELLO_CHAT)
    gw.fail_primary()
    assert agent.run_sync("hi").output.startswith(HELLO_CHAT_FAILOVER)
    assert isinstance(Agent(chat_model(gw), output_type=Invoice).run_sync("an invoice").output, Invoice)


def test_an_invalid_output_is_sent_back_and_the_retry_validates(chat_model: Factory, gw: ClientGateway) -> None:
    gw.sim.set_fault("cl-a", kind="invalid_output", times=1)
    result = Agent(chat_model(gw), output_type=Invoice, retries=1).run_sync("an invoice")
    assert isinstance(result.output, Invoice) and gw.attempts("cl-a") == 2


def embedder(gw: ClientGateway, key: str = "") -> Embedder:
    provider = OpenAIProvider(base_url=gw.openai_base, api_key=key or gw.key)
    return Embedder(OpenAIEmbeddingModel(EMBEDDING_MODEL, provider=provider))


def test_embeddings_with_usage_errors_and_failover_mid_run(gw: ClientGateway) -> None:
    result = embedder(gw).embed_documents_sync(["one", "two"])
    assert [len(vector) for vector in result.embeddings] == [EMBEDDING_SIZE, EMBEDDING_SIZE]
    assert result.usage.input_tokens >= 1
    with pytest.raises(ModelHTTPError) as caught:
        embedder(gw, BAD_KEY).embed_query_sync("one")
    assert caught.value.status_code == 401
    gw.fail_primary()
    again = embedder(gw).embed_query_sync("one")
    assert list(again.embeddings[0]) == pytest.approx(list(result.embeddings[0]), rel=1e-6)
    assert gw.attempts("cl-b") == 1

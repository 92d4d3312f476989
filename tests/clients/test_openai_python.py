"""The official openai Python SDK against the live gateway: chat, streaming, usage, tools, structured
output, errors and a failover in the middle of the run, over chat completions and the Responses API;
embeddings, legacy completions and the model endpoints beside them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import openai
import pytest

from tests.clients.conftest import (
    BAD_KEY,
    COMPLETION_TOKENS,
    EMBEDDING_MODEL,
    EMBEDDING_SIZE,
    HELLO_CHAT,
    HELLO_CHAT_FAILOVER,
    HELLO_CLAUDE,
    HELLO_CLAUDE_FAILOVER,
    WEATHER_SCHEMA,
    ClientGateway,
    Invoice,
    Weather,
)

HI = [{"role": "user", "content": "hi"}]
WEATHER_TOOL = {"type": "function", "function": {"name": "weather", "parameters": WEATHER_SCHEMA}}
RESPONSES_WEATHER_TOOL = {"type": "function", "name": "weather", "parameters": WEATHER_SCHEMA, "strict": False}


def client(gw: ClientGateway, key: str = "") -> openai.OpenAI:
    return openai.OpenAI(base_url=gw.openai_base, api_key=key or gw.key, max_retries=0, timeout=20)


def chat_text(sdk: openai.OpenAI) -> str:
    return sdk.chat.completions.create(model="chat", messages=HI).choices[0].message.content or ""  # type: ignore[arg-type]


def responses_text(sdk: openai.OpenAI, model: str = "chat") -> str:
    return sdk.responses.create(model=model, input="hi").output_text


def responses_streamed(sdk: openai.OpenAI, **params: Any) -> tuple[str, openai.types.responses.Response]:
    with sdk.responses.stream(**{"model": "chat", "input": "hi", **params}) as stream:
        text = "".join(event.delta for event in stream if event.type == "response.output_text.delta")
        return text, stream.get_final_response()


def completions_text(sdk: openai.OpenAI) -> str:
    return sdk.completions.create(model="chat", prompt="hi").choices[0].text


# One text call per endpoint the SDK reaches through the gateway.
TEXT_ENDPOINTS: dict[str, Callable[[openai.OpenAI], str]] = {
    "chat.completions": chat_text,
    "responses": responses_text,
    "responses.stream": lambda sdk: responses_streamed(sdk)[0],
    "completions": completions_text,
}


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


# ---------------------------------------------------------------- the Responses API

# Translated to chat for every deployment: OpenAI-kind (model chat) and Anthropic-kind (model claude).
GREETINGS = {"chat": (HELLO_CHAT, HELLO_CHAT_FAILOVER), "claude": (HELLO_CLAUDE, HELLO_CLAUDE_FAILOVER)}


@pytest.fixture(params=list(GREETINGS))
def model(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_responses_usage_whole_and_streamed(gw: ClientGateway, model: str) -> None:
    whole = client(gw).responses.create(model=model, input="hi").usage
    streamed = responses_streamed(client(gw), model=model)[1].usage
    for usage in (whole, streamed):
        assert usage is not None and usage.output_tokens == COMPLETION_TOKENS and usage.input_tokens >= 1
        assert usage.total_tokens == usage.input_tokens + usage.output_tokens


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
def test_responses_tool_round_trip(gw: ClientGateway, model: str, stream: bool) -> None:
    sdk = client(gw)
    conversation: list[Any] = [{"role": "user", "content": "weather?"}]
    if stream:
        first = responses_streamed(sdk, model=model, input=conversation, tools=[RESPONSES_WEATHER_TOOL])[1]
    else:
        first = sdk.responses.create(model=model, input=conversation, tools=[RESPONSES_WEATHER_TOOL])  # type: ignore[list-item]
    [call] = [item for item in first.output if item.type == "function_call"]
    assert call.name == "weather"
    forecast = Weather.model_validate_json(call.arguments)
    conversation += [item.model_dump(exclude_none=True) for item in first.output]
    output = f"sunny in {forecast.city}"
    conversation.append({"type": "function_call_output", "call_id": call.call_id, "output": output})
    answer = sdk.responses.create(model=model, input=conversation, tools=[RESPONSES_WEATHER_TOOL])  # type: ignore[list-item]
    assert answer.output_text == f"Tool said: {output}"


def test_responses_parse_gives_the_pydantic_object(gw: ClientGateway, model: str) -> None:
    parsed = client(gw).responses.parse(model=model, input="an invoice", text_format=Invoice)
    assert isinstance(parsed.output_parsed, Invoice) and 1 <= len(parsed.output_parsed.lines) <= 3


def test_responses_errors_are_the_sdks_exceptions(gw: ClientGateway) -> None:
    with pytest.raises(openai.AuthenticationError):
        responses_text(client(gw, BAD_KEY))
    with pytest.raises(openai.NotFoundError):
        client(gw).responses.create(model="no-such-model", input="hi")
    with pytest.raises(openai.NotFoundError):
        responses_streamed(client(gw), model="no-such-model")


def test_responses_stream_cut_mid_answer_ends_failed_and_the_helper_raises(gw: ClientGateway) -> None:
    gw.sim.set_fault("cl-a", kind="cut_after", after=3)  # after the answer began: too late to fail over
    events = list(client(gw).responses.create(model="chat", input="hi", stream=True))
    assert events[-1].type == "response.failed"
    assert events[-1].response.error is not None and "interrupted" in events[-1].response.error.message
    gw.reset()
    gw.sim.set_fault("cl-a", kind="cut_after", after=3)
    with pytest.raises(RuntimeError, match=r"response\.completed"):
        responses_streamed(client(gw))


def test_responses_failover_mid_run(gw: ClientGateway, model: str) -> None:
    sdk = client(gw)
    hello, failover = GREETINGS[model]
    assert responses_text(sdk, model).startswith(hello)
    gw.fail_primary()
    assert responses_text(sdk, model).startswith(failover)
    assert responses_streamed(sdk, model=model)[0].startswith(failover)
    parsed = sdk.responses.parse(model=model, input="an invoice", text_format=Invoice)
    assert isinstance(parsed.output_parsed, Invoice)


# ---------------------------------------------------------------- embeddings, completions, models


def test_embeddings_base64_by_default_and_float_give_one_vector(gw: ClientGateway) -> None:
    sdk = client(gw)
    default = sdk.embeddings.create(model=EMBEDDING_MODEL, input=["one", "two"])  # the SDK asks for base64
    floats = sdk.embeddings.create(model=EMBEDDING_MODEL, input=["one", "two"], encoding_format="float")
    assert [item.index for item in floats.data] == [0, 1]
    assert [len(item.embedding) for item in default.data] == [EMBEDDING_SIZE, EMBEDDING_SIZE]
    for a, b in zip(default.data, floats.data, strict=True):
        assert a.embedding == pytest.approx(b.embedding, rel=1e-6)
    assert floats.model == EMBEDDING_MODEL and floats.usage.prompt_tokens == floats.usage.total_tokens > 0


def test_completions_stream_with_usage(gw: ClientGateway) -> None:
    usage = {"include_usage": True}
    stream = client(gw).completions.create(model="chat", prompt="hi", stream=True, stream_options=usage)  # type: ignore[arg-type]
    chunks = list(stream)
    assert "".join(c.choices[0].text for c in chunks if c.choices).startswith(HELLO_CHAT)
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == COMPLETION_TOKENS


def test_models_retrieve_and_list(gw: ClientGateway) -> None:
    sdk = client(gw)
    assert sdk.models.retrieve(EMBEDDING_MODEL).id == EMBEDDING_MODEL
    assert {"chat", "claude", EMBEDDING_MODEL} <= {model.id for model in sdk.models.list()}
    with pytest.raises(openai.NotFoundError):
        sdk.models.retrieve("no-such-model")


@pytest.mark.parametrize(
    "call",
    [
        lambda sdk: sdk.embeddings.create(model="chat", input="hi"),
        lambda sdk: sdk.embeddings.create(model=EMBEDDING_MODEL, input=""),
        lambda sdk: sdk.completions.create(model="claude", prompt="hi"),
        lambda sdk: sdk.responses.create(model=EMBEDDING_MODEL, input="hi"),
    ],
    ids=["chat-model-embeddings", "empty-input", "completions-anthropic", "responses-embedding-model"],
)
def test_wrong_model_or_input_is_a_bad_request(gw: ClientGateway, call: Callable[[openai.OpenAI], Any]) -> None:
    with pytest.raises(openai.BadRequestError):
        call(client(gw))


def test_embeddings_and_completions_errors(gw: ClientGateway) -> None:
    with pytest.raises(openai.AuthenticationError):
        client(gw, BAD_KEY).embeddings.create(model=EMBEDDING_MODEL, input="hi")
    with pytest.raises(openai.NotFoundError):
        client(gw).embeddings.create(model="no-such-model", input="hi")
    with pytest.raises(openai.AuthenticationError):
        completions_text(client(gw, BAD_KEY))


def test_embeddings_and_completions_failover_mid_run(gw: ClientGateway) -> None:
    sdk = client(gw)
    before = sdk.embeddings.create(model=EMBEDDING_MODEL, input="same").data[0].embedding
    assert completions_text(sdk).startswith(HELLO_CHAT)
    gw.fail_primary()
    after = sdk.embeddings.with_raw_response.create(model=EMBEDDING_MODEL, input="same")
    assert after.headers["x-gateway-provider"] == "cl-b"
    assert after.parse().data[0].embedding == pytest.approx(before, rel=1e-6)  # one model on both providers
    assert completions_text(sdk).startswith(HELLO_CHAT_FAILOVER)

"""Canned answers in the OpenAI wire format, checked through the official SDK."""

from __future__ import annotations

import json

import httpx
import openai
import pytest

from simulator.harness import SimulatorServer
from tests.simulator.helpers import MODEL, chat_body, sse_chunks, sse_payloads

HELLO = "Hello from alpha/gpt-4o-mini."
USER = [{"role": "user", "content": "What's the weather like in Paris today?"}]
WEATHER_TOOL = {
    "type": "function",
    "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {}}},
}
TIME_TOOL = {"type": "function", "function": {"name": "get_time", "parameters": {}}}


def test_non_streaming_answer_is_parsed_by_the_sdk(client: openai.OpenAI) -> None:
    completion = client.chat.completions.create(model=MODEL, messages=USER)

    assert completion.id.startswith("chatcmpl-sim-")
    assert completion.object == "chat.completion"
    assert completion.model == MODEL
    choice = completion.choices[0]
    assert choice.index == 0 and choice.finish_reason == "stop"
    assert choice.message.role == "assistant"
    assert choice.message.content is not None and choice.message.content.startswith(HELLO)
    assert completion.usage is not None
    assert completion.usage.completion_tokens == 20
    assert completion.usage.prompt_tokens == len(USER[0]["content"]) // 4
    assert completion.usage.total_tokens == completion.usage.prompt_tokens + 20


def test_streaming_answer_has_one_chunk_per_token_and_usage(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(
        model=MODEL, messages=USER, stream=True, stream_options={"include_usage": True}
    )
    chunks = list(stream)

    assert chunks[0].choices[0].delta.role == "assistant"
    assert chunks[0].choices[0].delta.content == ""
    content = [c.choices[0].delta.content for c in chunks[1:-2]]
    assert len(content) == 20
    assert chunks[-2].choices[0].finish_reason == "stop"
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == 20
    assert all(c.object == "chat.completion.chunk" and c.model == MODEL for c in chunks)
    assert len({c.id for c in chunks}) == 1


def test_streamed_text_equals_non_streamed_text(client: openai.OpenAI) -> None:
    full = client.chat.completions.create(model=MODEL, messages=USER)
    stream = client.chat.completions.create(model=MODEL, messages=USER, stream=True)
    streamed = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)

    assert streamed == full.choices[0].message.content


def test_stream_ends_with_done_and_has_no_usage_unless_asked(http: httpx.Client) -> None:
    response = http.post("/alpha/v1/chat/completions", json=chat_body(stream=True))

    assert response.headers["content-type"].startswith("text/event-stream")
    payloads = sse_payloads(response.text)
    assert payloads[-1] == "[DONE]"
    assert all("usage" not in chunk for chunk in sse_chunks(response.text))


def test_n_returns_that_many_identical_choices(client: openai.OpenAI) -> None:
    completion = client.chat.completions.create(model=MODEL, messages=USER, n=2)

    assert [c.index for c in completion.choices] == [0, 1]
    assert completion.choices[0].message.content == completion.choices[1].message.content


def test_streaming_n_interleaves_choices(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(model=MODEL, messages=USER, n=2, stream=True)
    texts = ["", ""]
    for chunk in stream:
        for choice in chunk.choices:
            texts[choice.index] += choice.delta.content or ""

    assert texts[0] == texts[1] and texts[0].startswith(HELLO)


@pytest.mark.parametrize("stream", [False, True])
def test_json_mode_answers_a_json_object(client: openai.OpenAI, stream: bool) -> None:
    kwargs = {"model": MODEL, "messages": USER, "response_format": {"type": "json_object"}}
    if stream:
        chunks = client.chat.completions.create(stream=True, **kwargs)
        text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    else:
        text = client.chat.completions.create(**kwargs).choices[0].message.content

    assert json.loads(text) == {"provider": "alpha", "model": MODEL, "answer": "hello"}


def test_json_schema_mode_answers_an_object_of_the_schema(client: openai.OpenAI) -> None:
    schema = {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object"}}}
    completion = client.chat.completions.create(model=MODEL, messages=USER, response_format=schema)

    assert json.loads(completion.choices[0].message.content or "") == {"sim": True}  # open and nothing required


def test_tools_produce_a_call_to_the_first_tool(client: openai.OpenAI) -> None:
    completion = client.chat.completions.create(
        model=MODEL, messages=USER, tools=[WEATHER_TOOL, TIME_TOOL]
    )

    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    (call,) = choice.message.tool_calls or []
    assert call.id.startswith("call_sim_") and call.type == "function"
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"sim": True}


def test_tool_choice_names_the_tool_to_call(client: openai.OpenAI) -> None:
    completion = client.chat.completions.create(
        model=MODEL, messages=USER, tools=[WEATHER_TOOL, TIME_TOOL],
        tool_choice={"type": "function", "function": {"name": "get_time"}},
    )  # fmt: skip

    assert completion.choices[0].message.tool_calls[0].function.name == "get_time"


def test_tool_choice_none_answers_with_text(client: openai.OpenAI) -> None:
    completion = client.chat.completions.create(
        model=MODEL, messages=USER, tools=[WEATHER_TOOL], tool_choice="none"
    )

    assert completion.choices[0].finish_reason == "stop"
    assert (completion.choices[0].message.content or "").startswith(HELLO)


def test_streamed_tool_call_uses_openai_deltas(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(
        model=MODEL, messages=USER, tools=[WEATHER_TOOL], stream=True
    )
    chunks = [c for c in stream if c.choices]

    first = chunks[0].choices[0].delta.tool_calls[0]
    assert first.index == 0 and first.id and first.id.startswith("call_sim_")
    assert first.type == "function" and first.function.name == "get_weather"
    assert first.function.arguments == ""
    fragments = [c.choices[0].delta.tool_calls[0].function.arguments for c in chunks[1:-1]]
    assert len(fragments) > 1 and json.loads("".join(fragments)) == {"sim": True}
    assert chunks[-1].choices[0].finish_reason == "tool_calls"


def test_answer_after_a_tool_result_quotes_it(client: openai.OpenAI) -> None:
    first = client.chat.completions.create(model=MODEL, messages=USER, tools=[WEATHER_TOOL])
    call = first.choices[0].message.tool_calls[0]
    messages = [
        *USER,
        first.choices[0].message.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": call.id, "content": "sunny, 21C"},
    ]
    second = client.chat.completions.create(model=MODEL, messages=messages, tools=[WEATHER_TOOL])

    assert second.choices[0].finish_reason == "stop"
    assert second.choices[0].message.content == "Tool said: sunny, 21C"


def test_image_parts_are_accepted_and_counted(client: openai.OpenAI) -> None:
    content = [
        {"type": "text", "text": "What is in this picture?"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
    ]
    completion = client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": content}]
    )

    assert (completion.choices[0].message.content or "").startswith(
        "Hello from alpha/gpt-4o-mini (1 image)."
    )


def test_max_tokens_truncates_with_finish_reason_length(client: openai.OpenAI) -> None:
    completion = client.chat.completions.create(model=MODEL, messages=USER, max_tokens=3)

    assert completion.choices[0].finish_reason == "length"
    assert completion.usage is not None and completion.usage.completion_tokens == 3


def test_tokens_option_sets_the_stream_length() -> None:
    with SimulatorServer(tokens=5) as small:
        response = httpx.post(
            small.url_for("beta") + "/chat/completions", json=chat_body(stream=True)
        )
    content_chunks = [c for c in sse_chunks(response.text) if c["choices"]]

    assert len(content_chunks) == 1 + 5 + 1  # role, tokens, finish


@pytest.mark.parametrize(
    ("raw", "param"),
    [
        (b"{not json", None),
        (b"[1, 2]", None),
        (b'{"messages": [{"role": "user", "content": "hi"}]}', "model"),
        (b'{"model": "m"}', "messages"),
        (b'{"model": "m", "messages": []}', "messages"),
        (b'{"model": "m", "messages": ["hi"]}', "messages"),
        (
            b'{"model": "m", "messages": [{"role": "assistant", "tool_calls": [{"id": "call_'
            + b"x" * 36
            + b'", "type": "function", "function": {"name": "f", "arguments": "{}"}}]}]}',
            "messages[0].tool_calls[0].id",
        ),
    ],
)
def test_malformed_requests_get_openai_400(
    http: httpx.Client, raw: bytes, param: str | None
) -> None:
    response = http.post("/alpha/v1/chat/completions", content=raw)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error" and error["param"] == param
    assert set(error) == {"message", "type", "param", "code"}


def test_models_lists_configured_and_seen_models(client: openai.OpenAI) -> None:
    client.chat.completions.create(model="custom-model", messages=USER)

    ids = [m.id for m in client.models.list()]

    assert ids[:2] == ["gpt-4o-mini", "llama-3.3-70b"] and "custom-model" in ids

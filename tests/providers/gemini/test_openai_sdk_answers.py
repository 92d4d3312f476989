"""The official OpenAI SDK, through the gateway, against Gemini on AI Studio and on Vertex AI."""

from __future__ import annotations

import json

import pytest

from tests.providers.gemini.conftest import LOCATION, PROJECT, GeminiGateway

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "unit": {"type": "string", "enum": ["c", "f"]}},
            "required": ["city"],
        },
    },
}
# (model, provider, path the simulator saw): both hosts and Vertex's express mode.
HOSTS = [
    ("gemini-solo", "gem-b", "/gem-b/v1beta/models/gemini-solo:streamGenerateContent"),
    (
        "vertex-solo",
        "vtx-a",
        f"/vtx-a/v1/projects/{PROJECT}/locations/{LOCATION}/publishers/google/models/gemini-2.0-flash"
        ":streamGenerateContent",
    ),
    ("express", "vtx-x", "/vtx-x/v1/publishers/google/models/gemini-2.0-flash:streamGenerateContent"),
]


@pytest.mark.parametrize(("model", "provider", "path"), HOSTS)
def test_text_answer_comes_back_as_a_chat_completion(gw: GeminiGateway, model: str, provider: str, path: str) -> None:
    completion = gw.openai().chat.completions.create(
        model=model, messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"}]
    )
    choice = completion.choices[0]
    assert choice.message.content is not None
    assert choice.message.content.startswith(f"Hello from {provider}/")
    assert choice.finish_reason == "stop"
    assert completion.model == model
    assert completion.usage is not None and completion.usage.completion_tokens == 20
    assert gw.sim.attempts(provider) == 1
    assert gw.sent(provider)["systemInstruction"] == {"parts": [{"text": "Be brief."}]}


def test_every_request_uses_the_streaming_method_with_sse(gw: GeminiGateway) -> None:
    for model, _, _ in HOSTS:
        gw.openai().chat.completions.create(model=model, messages=[{"role": "user", "content": "hi"}])
    stats = gw.sim.stats()["attempts"]
    assert stats == {"gem-b/gemini-solo": 1, "vtx-a/gemini-2.0-flash": 1, "vtx-x/gemini-2.0-flash": 1}


@pytest.mark.parametrize(("model", "provider", "path"), HOSTS)
def test_each_host_gets_its_own_credentials(gw: GeminiGateway, model: str, provider: str, path: str) -> None:
    gw.openai().chat.completions.create(model=model, messages=[{"role": "user", "content": "hi"}])
    headers = gw.sim.last_request(provider)["headers"]
    if provider == "vtx-a":
        assert headers["authorization"].startswith("Bearer ya29.sim-vtx-auth-")
        assert "x-goog-api-key" not in headers
    else:
        assert headers["x-goog-api-key"] == f"{'AIzaSy' if provider == 'gem-b' else 'AQ'}-test-{provider}-secret01"
        assert "authorization" not in headers


def test_streamed_text_arrives_in_pieces_with_usage_last(gw: GeminiGateway) -> None:
    stream = gw.openai().chat.completions.create(
        model="gemini",
        messages=[{"role": "user", "content": "hi"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    pieces = [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content]
    assert len(pieces) == 20
    assert "".join(pieces).startswith("Hello from gem-a/gemini-2.0-flash.")
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finishes == ["stop"]
    usage_chunks = [c for c in chunks if c.usage is not None]
    assert len(usage_chunks) == 1 and usage_chunks[0] is chunks[-1]
    usage = usage_chunks[0].usage
    assert usage is not None
    assert (usage.completion_tokens, usage.total_tokens) == (20, usage.prompt_tokens + 20)
    assert usage.prompt_tokens_details is not None and usage.prompt_tokens_details.cached_tokens == 0
    assert {c.model for c in chunks} == {"gemini"}


def test_stream_without_include_usage_sends_no_usage_chunk(gw: GeminiGateway) -> None:
    chunks = list(
        gw.openai().chat.completions.create(model="gemini", messages=[{"role": "user", "content": "hi"}], stream=True)
    )
    assert all(c.usage is None for c in chunks)
    assert chunks[-1].choices[0].finish_reason == "stop"


@pytest.mark.parametrize("stream", [False, True])
def test_tool_call_round_trip(gw: GeminiGateway, stream: bool) -> None:
    client = gw.openai()
    messages: list[dict] = [{"role": "user", "content": "Weather in Paris?"}]
    first = client.chat.completions.create(model="gemini", messages=messages, tools=[WEATHER_TOOL])
    call = first.choices[0].message.tool_calls[0]  # type: ignore[index]
    assert first.choices[0].finish_reason == "tool_calls"
    assert call.id.startswith("call_") and call.function.name == "get_weather"
    assert list(json.loads(call.function.arguments)) == ["city"]  # the required one
    messages += [
        {"role": "assistant", "content": None, "tool_calls": [call.model_dump()]},
        {"role": "tool", "tool_call_id": call.id, "content": "sunny"},
    ]
    if stream:
        text = "".join(
            c.choices[0].delta.content or ""
            for c in client.chat.completions.create(
                model="gemini", messages=messages, tools=[WEATHER_TOOL], stream=True
            )
            if c.choices
        )
    else:
        answer = client.chat.completions.create(model="gemini", messages=messages, tools=[WEATHER_TOOL])
        text = answer.choices[0].message.content or ""
    assert text == "Tool said: sunny"
    contents = gw.sent("gem-a")["contents"]
    args = json.loads(call.function.arguments)
    assert contents[1] == {"role": "model", "parts": [{"functionCall": {"name": "get_weather", "args": args}}]}
    assert contents[2] == {
        "role": "user",
        "parts": [{"functionResponse": {"name": "get_weather", "response": {"content": "sunny"}}}],
    }


def test_streamed_tool_call_is_one_complete_delta(gw: GeminiGateway) -> None:
    chunks = list(
        gw.openai().chat.completions.create(
            model="gemini", messages=[{"role": "user", "content": "Weather?"}], tools=[WEATHER_TOOL], stream=True
        )
    )
    calls = [tc for c in chunks if c.choices for tc in c.choices[0].delta.tool_calls or ()]
    assert len(calls) == 1
    assert calls[0].index == 0 and calls[0].id and calls[0].id.startswith("call_")
    assert calls[0].function is not None
    assert calls[0].function.name == "get_weather" and list(json.loads(calls[0].function.arguments or "")) == ["city"]
    assert chunks[-1].choices[0].finish_reason == "tool_calls"


def test_forced_tool_choice_reaches_gemini_as_any_with_the_allowed_name(gw: GeminiGateway) -> None:
    other = {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object", "properties": {}}}}
    completion = gw.openai().chat.completions.create(
        model="gemini-solo",
        messages=[{"role": "user", "content": "time?"}],
        tools=[WEATHER_TOOL, other],
        tool_choice={"type": "function", "function": {"name": "get_time"}},
    )
    assert completion.choices[0].message.tool_calls[0].function.name == "get_time"  # type: ignore[index]
    sent = gw.sent("gem-b")
    assert sent["toolConfig"] == {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["get_time"]}}
    assert sent["tools"][0]["functionDeclarations"][1] == {"name": "get_time"}


def test_tool_choice_none_gets_text(gw: GeminiGateway) -> None:
    completion = gw.openai().chat.completions.create(
        model="gemini", messages=[{"role": "user", "content": "hi"}], tools=[WEATHER_TOOL], tool_choice="none"
    )
    assert completion.choices[0].message.tool_calls is None
    assert completion.choices[0].finish_reason == "stop"


@pytest.mark.parametrize("model", ["gemini-solo", "vertex-solo"])
def test_images_go_inline_or_by_uri(gw: GeminiGateway, model: str) -> None:
    png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
    content = [
        {"type": "text", "text": "What are these?"},
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{png}"}},
        {"type": "image_url", "image_url": {"url": "https://example.com/cat.webp?size=2"}},
    ]
    completion = gw.openai().chat.completions.create(model=model, messages=[{"role": "user", "content": content}])
    assert "(2 images)" in (completion.choices[0].message.content or "")
    provider = "gem-b" if model == "gemini-solo" else "vtx-a"
    assert gw.sent(provider)["contents"][0]["parts"] == [
        {"text": "What are these?"},
        {"inlineData": {"mimeType": "image/png", "data": png}},
        {"fileData": {"mimeType": "image/webp", "fileUri": "https://example.com/cat.webp?size=2"}},
    ]


@pytest.mark.parametrize("stream", [False, True])
def test_json_mode_asks_gemini_for_application_json(gw: GeminiGateway, stream: bool) -> None:
    body = ask_json(stream)
    response = gw.chat(body)
    assert response.status_code == 200
    if stream:
        text = "".join(
            json.loads(line[6:])["choices"][0]["delta"].get("content") or ""
            for line in response.text.splitlines()
            if line.startswith("data: {") and '"choices":[{' in line
        )
    else:
        text = response.json()["choices"][0]["message"]["content"]
    assert json.loads(text) == {"provider": "gem-a", "model": "gemini-2.0-flash", "answer": "hello"}
    assert gw.sent("gem-a")["generationConfig"]["responseMimeType"] == "application/json"


def test_json_schema_response_format_sends_a_response_schema(gw: GeminiGateway) -> None:
    schema = {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]}
    gw.openai().chat.completions.create(
        model="gemini",
        messages=[{"role": "user", "content": "hi"}],
        response_format={"type": "json_schema", "json_schema": {"name": "a", "schema": schema, "strict": True}},
    )
    assert gw.sent("gem-a")["generationConfig"] == {
        "responseMimeType": "application/json",
        "responseSchema": {
            "type": "OBJECT",
            "properties": {"answer": {"type": "STRING"}},
            "required": ["answer"],
        },
    }


def test_max_tokens_cut_is_finish_reason_length(gw: GeminiGateway) -> None:
    completion = gw.openai().chat.completions.create(
        model="gemini", messages=[{"role": "user", "content": "hi"}], max_tokens=3
    )
    assert completion.choices[0].finish_reason == "length"
    assert gw.sent("gem-a")["generationConfig"] == {"maxOutputTokens": 3}


def test_n_becomes_candidate_count_and_each_candidate_is_a_choice(gw: GeminiGateway) -> None:
    completion = gw.openai().chat.completions.create(model="gemini", messages=[{"role": "user", "content": "hi"}], n=2)
    assert [c.index for c in completion.choices] == [0, 1]
    assert all((c.message.content or "").startswith("Hello from gem-a") for c in completion.choices)
    assert gw.sent("gem-a")["generationConfig"] == {"candidateCount": 2}


def ask_json(stream: bool) -> dict:
    return {
        "model": "gemini",
        "messages": [{"role": "user", "content": "answer in JSON"}],
        "response_format": {"type": "json_object"},
        "stream": stream,
    }

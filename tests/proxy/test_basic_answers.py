from __future__ import annotations

from tests.proxy.conftest import LiveGateway


def test_non_streaming_answer_parses_in_the_openai_sdk(gw: LiveGateway) -> None:
    raw = gw.client().chat.completions.with_raw_response.create(
        model="chat", messages=[{"role": "user", "content": "hi"}]
    )
    completion = raw.parse()
    assert completion.choices[0].message.content.startswith("Hello from sim-a/chat")
    assert completion.model == "chat"
    assert completion.usage is not None and completion.usage.completion_tokens > 0
    assert raw.headers["x-gateway-provider"] == "sim-a"
    assert raw.headers["x-gateway-attempts"] == "1"


def test_streaming_answer_parses_in_the_openai_sdk(gw: LiveGateway) -> None:
    stream = gw.client().chat.completions.create(
        model="chat",
        messages=[{"role": "user", "content": "hi"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text.startswith("Hello from sim-a/chat")
    assert chunks[-1].usage is not None
    assert all(c.model == "chat" for c in chunks)

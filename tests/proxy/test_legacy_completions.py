"""POST /v1/completions (legacy text completions) with the openai SDK: forwarded natively to OpenAI
and Azure deployments, streamed or not, with their failover; a clear 400 where no deployment has it."""

from __future__ import annotations

import httpx
import openai
import orjson
import pytest

from tests.proxy.conftest import LiveGateway
from tests.proxy.embedding_gateway import emb, emb_gateway, post

__all__ = ["emb", "emb_gateway"]


def test_a_completion_is_the_upstreams_text(emb: LiveGateway) -> None:
    raw = emb.client().completions.with_raw_response.create(model="instruct", prompt="Say hi", max_tokens=4)
    completion = raw.parse()
    assert completion.object == "text_completion"
    assert completion.model == "instruct"
    assert completion.choices[0].text.startswith("Hello from cmp-a/gpt-3.5-turbo-instruct")
    assert completion.choices[0].finish_reason == "length"
    assert completion.usage is not None and completion.usage.completion_tokens == 4
    sent = emb.sim.last_request("cmp-a")["body"]
    assert (sent["prompt"], sent["model"], sent["stream"]) == ("Say hi", "gpt-3.5-turbo-instruct", True)


def test_a_streamed_completion_arrives_as_text_completion_events(emb: LiveGateway) -> None:
    stream = emb.client().completions.create(
        model="instruct", prompt="Say hi", stream=True, stream_options={"include_usage": True}
    )
    chunks = list(stream)
    text = "".join(choice.text for chunk in chunks for choice in chunk.choices)
    assert text.startswith("Hello from cmp-a/")
    assert all(chunk.object == "text_completion" and chunk.model == "instruct" for chunk in chunks)
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens > 0


def test_a_stream_without_include_usage_has_no_usage_event_and_ends_with_done(emb: LiveGateway) -> None:
    with httpx.stream(
        "POST",
        f"{emb.url}/v1/completions",
        json={"model": "instruct", "prompt": "hi", "stream": True},
        headers={"authorization": f"Bearer {emb.key}"},
        timeout=30,
    ) as response:
        body = response.read()
    events = [line[6:] for line in body.split(b"\n") if line.startswith(b"data: ")]
    assert events[-1] == b"[DONE]"
    chunks = [orjson.loads(event) for event in events[:-1]]
    assert all(chunk["choices"] for chunk in chunks)
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"


@pytest.mark.parametrize("stream", [False, True])
def test_a_failing_openai_deployment_fails_over_to_azure(emb: LiveGateway, stream: bool) -> None:
    emb.sim.set_fault("cmp-a", status=503)
    raw = emb.client().completions.with_raw_response.create(model="instruct", prompt="hi", stream=stream)
    assert raw.headers["x-gateway-provider"] == "emb-az"
    parsed = raw.parse()
    chunks = list(parsed) if stream else [parsed]
    text = "".join(choice.text for chunk in chunks for choice in chunk.choices)
    # The simulator names the Azure deployment from the URL, and answers only with an api-version.
    assert text.startswith("Hello from emb-az/instruct-deployment")


def test_a_model_without_legacy_completions_is_a_clear_400(emb: LiveGateway) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        emb.client().completions.create(model="claude", prompt="hi")
    assert "Legacy completions" in caught.value.message and "'claude'" in caught.value.message
    assert caught.value.code == "model_not_supported"
    assert emb.sim.attempts("ant") == 0


def test_an_embedding_model_is_refused_by_completions(emb: LiveGateway) -> None:
    response = post(emb, "completions", {"model": "small", "prompt": "hi"})
    assert response.status_code == 400
    assert "embedding model" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"model": "instruct"}, "prompt"),
        ({"model": "instruct", "prompt": 5}, "prompt"),
        ({"model": "instruct", "prompt": [["a"]]}, "prompt"),
        ({"model": "instruct", "prompt": "hi", "max_tokens": -1}, "max_tokens"),
        ({"model": "instruct", "prompt": "hi", "n": 0}, "n"),
        ({"model": "instruct", "prompt": "hi", "stream": "yes"}, "stream"),
        ({"model": "instruct", "prompt": "hi", "logprobs": True}, "logprobs"),
        ({"model": "instruct", "prompt": "hi", "logprobs": 6}, "logprobs"),
    ],
)
def test_a_bad_completions_request_is_a_400(emb: LiveGateway, body: dict[str, object], param: str) -> None:
    response = post(emb, "completions", body)
    assert response.status_code == 400
    assert response.json()["error"]["param"] == param
    assert emb.sim.stats()["by_provider"] == {}


def test_logprobs_is_a_count_here_and_passes_through(emb: LiveGateway) -> None:
    completion = emb.client().completions.create(model="instruct", prompt=["a", "b"], logprobs=2, max_tokens=2)
    assert completion.choices[0].text
    assert emb.sim.last_request("cmp-a")["body"]["logprobs"] == 2


def test_a_stream_cut_before_any_text_fails_over_invisibly(emb: LiveGateway) -> None:
    emb.sim.set_fault("cmp-a", kind="cut_after", after=0)
    chunks = list(emb.client().completions.create(model="instruct", prompt="hi", stream=True))
    assert "".join(c.choices[0].text for c in chunks if c.choices).startswith("Hello from emb-az/")


def test_the_anthropic_api_refuses_an_embedding_model_in_its_own_shape(emb: LiveGateway) -> None:
    body = {"model": "small", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]}
    response = post(emb, "messages", body)
    assert response.status_code == 400
    assert response.json()["type"] == "error"
    assert "embedding model" in response.json()["error"]["message"]

"""What each provider profile puts on the wire, seen by the simulator over real HTTP."""

from __future__ import annotations

import re
from typing import Any

from gateway.upstream.tool_ids import short_tool_id
from tests.providers.profiles.conftest import key_for
from tests.providers.profiles.harness import Gateway, hi

TOOLS = [{"type": "function", "function": {"name": "lookup", "parameters": {"type": "object", "properties": {}}}}]


def sent_body(gw: Gateway, provider: str) -> dict[str, Any]:
    body: dict[str, Any] = gw.sent(provider)["body"]
    return body


def test_groq_gets_a_bearer_key_and_none_of_the_fields_it_rejects(gw: Gateway) -> None:
    messages = [{"role": "system", "content": "be brief"}, {"role": "user", "name": "ann", "content": "hi"}]
    body = hi("on-groq", messages=messages, logprobs=True, top_logprobs=2, logit_bias={"1": -100}, store=True)
    response = gw.post(body)
    assert response.status_code == 200, response.text
    sent = gw.sent("groq")
    assert sent["headers"]["authorization"] == f"Bearer {key_for('groq')}"
    assert not {"logprobs", "top_logprobs", "logit_bias", "store"} & sent["body"].keys()
    assert [m.get("name") for m in sent["body"]["messages"]] == [None, None]
    assert sent["body"]["model"] == "llama-3.3-70b-versatile"
    assert sent["body"]["stream_options"] == {"include_usage": True}


def test_groq_refuses_more_than_one_choice_before_any_upstream_call(gw: Gateway) -> None:
    response = gw.post(hi("on-groq", n=2))
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], error["param"]) == ("unsupported_parameter", "n")
    assert "groq" in error["message"]
    assert gw.sim.attempts("groq") == 0


def test_mistral_gets_its_own_parameter_names_and_the_streamed_usage_is_estimated(gw: Gateway) -> None:
    stream = gw.client().chat.completions.create(
        model="on-mistral",
        messages=[{"role": "user", "content": "hi"}],
        stream=True,
        stream_options={"include_usage": True},
        max_completion_tokens=50,
        seed=7,
        logprobs=True,
    )
    chunks = list(stream)
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens > 0
    sent = sent_body(gw, "mistral")
    assert (sent["max_tokens"], sent["random_seed"]) == (50, 7)
    assert not {"max_completion_tokens", "seed", "logprobs", "stream_options"} & sent.keys()


def test_perplexity_gets_no_tools_stop_or_logprobs_and_answers_in_text(gw: Gateway) -> None:
    body = hi("on-perplexity", tools=TOOLS, tool_choice="auto", stop=["\n\n"], logprobs=True, max_completion_tokens=64)
    response = gw.post(body)
    assert response.status_code == 200, response.text
    assert response.json()["choices"][0]["message"]["content"]
    sent = sent_body(gw, "perplexity")
    assert not {"tools", "tool_choice", "stop", "logprobs", "stream_options", "max_completion_tokens"} & sent.keys()
    assert sent["max_tokens"] == 64


def test_cloudflare_gets_no_stream_options_and_the_answer_still_has_usage(gw: Gateway) -> None:
    response = gw.post(hi("on-cloudflare", logprobs=True, max_completion_tokens=30))
    assert response.status_code == 200, response.text
    assert response.json()["usage"]["completion_tokens"] > 0
    sent = gw.sent("cloudflare")
    assert sent["headers"]["authorization"] == f"Bearer {key_for('cloudflare')}"
    assert sent["body"]["model"] == "@cf/meta/llama-3.1-8b-instruct"
    assert not {"stream_options", "logprobs", "max_completion_tokens"} & sent["body"].keys()
    assert sent["body"]["max_tokens"] == 30


def test_cohere_gets_max_tokens_and_none_of_the_fields_its_compatibility_api_lacks(gw: Gateway) -> None:
    body = hi(
        "on-cohere",
        max_completion_tokens=20,
        logit_bias={"1": 5},
        logprobs=True,
        top_logprobs=1,
        user="u-1",
        metadata={"team": "a"},
        store=False,
    )
    response = gw.post(body)
    assert response.status_code == 200, response.text
    sent = sent_body(gw, "cohere")
    assert sent["max_tokens"] == 20
    dropped = {"max_completion_tokens", "logit_bias", "logprobs", "top_logprobs", "user", "metadata", "store"}
    assert not (dropped | {"stream_options"}) & sent.keys()


def test_openrouter_identifies_the_app_and_passes_parameters_through(gw: Gateway) -> None:
    response = gw.post(hi("on-openrouter", logprobs=True, top_logprobs=2, seed=3))
    assert response.status_code == 200, response.text
    sent = gw.sent("openrouter")
    headers = sent["headers"]
    assert headers["authorization"] == f"Bearer {key_for('openrouter')}"
    assert (headers["http-referer"], headers["x-title"]) == ("https://app.example", "Demo")
    assert (sent["body"]["logprobs"], sent["body"]["top_logprobs"], sent["body"]["seed"]) == (True, 2, 3)
    assert sent["body"]["stream_options"] == {"include_usage": True}


def test_vllm_without_a_key_sends_no_authorization_and_keeps_every_parameter(gw: Gateway) -> None:
    response = gw.post(hi("on-vllm", n=2, logprobs=True, seed=1))
    assert response.status_code == 200, response.text
    assert len(response.json()["choices"]) == 2
    sent = gw.sent("vllm")
    assert "authorization" not in sent["headers"]
    assert (sent["body"]["n"], sent["body"]["logprobs"], sent["body"]["seed"]) == (2, True, 1)


def test_openai_reasoning_model_gets_max_completion_tokens_and_no_sampling_parameters(gw: Gateway) -> None:
    response = gw.post(hi("on-openai", max_tokens=100, temperature=0.2, top_p=0.9))
    assert response.status_code == 200, response.text
    sent = sent_body(gw, "openai")
    assert sent["max_completion_tokens"] == 100
    assert not {"max_tokens", "temperature", "top_p"} & sent.keys()


def test_moonshot_temperature_is_clamped_to_its_range(gw: Gateway) -> None:
    assert gw.post(hi("on-moonshot", temperature=1.7)).status_code == 200
    assert sent_body(gw, "moonshot")["temperature"] == 1.0
    assert gw.post(hi("on-moonshot", temperature=0.3)).status_code == 200
    assert sent_body(gw, "moonshot")["temperature"] == 0.3


def test_zai_gets_user_id_and_no_stream_options(gw: Gateway) -> None:
    response = gw.post(hi("on-zai", user="end-user-9", seed=4))
    assert response.status_code == 200, response.text
    sent = sent_body(gw, "zai")
    assert sent["user_id"] == "end-user-9"
    assert not {"user", "seed", "stream_options"} & sent.keys()


def test_custom_server_gets_the_key_in_its_own_header_and_the_operator_drops(gw: Gateway) -> None:
    response = gw.post(hi("on-custom", seed=5, user="u", temperature=0.5))
    assert response.status_code == 200, response.text
    sent = gw.sent("custom")
    assert sent["headers"]["x-api-key"] == key_for("custom")
    assert "authorization" not in sent["headers"]
    assert not {"seed", "user"} & sent["body"].keys()
    assert sent["body"]["temperature"] == 0.5


def test_mistral_gets_9_character_tool_call_ids_mapped_the_same_way_each_time(gw: Gateway) -> None:
    foreign = "call_PTLP8xhu3uwZk4l3nlnrrJha"  # OpenAI's shape, from a turn another provider answered
    mistral_own = "Ab3dE6gH9"
    calls = [
        {"id": foreign, "type": "function", "function": {"name": "lookup", "arguments": "{}"}},
        {"id": mistral_own, "type": "function", "function": {"name": "lookup", "arguments": "{}"}},
    ]
    messages = [
        {"role": "user", "content": "look it up"},
        {"role": "assistant", "content": None, "tool_calls": calls},
        {"role": "tool", "tool_call_id": foreign, "content": "found"},
        {"role": "tool", "tool_call_id": mistral_own, "content": "found"},
    ]
    response = gw.post(hi("on-mistral", messages=messages, tools=TOOLS))
    assert response.status_code == 200, response.text
    sent = sent_body(gw, "mistral")["messages"]
    mapped, kept = (call["id"] for call in sent[1]["tool_calls"])
    assert re.fullmatch(r"[A-Za-z0-9]{9}", mapped) and kept == mistral_own
    assert [sent[2]["tool_call_id"], sent[3]["tool_call_id"]] == [mapped, mistral_own]
    assert short_tool_id(foreign) == mapped


def test_other_providers_get_tool_call_ids_unchanged(gw: Gateway) -> None:
    call = {
        "id": "call_PTLP8xhu3uwZk4l3nlnrrJha",
        "type": "function",
        "function": {"name": "lookup", "arguments": "{}"},
    }
    messages = [
        {"role": "user", "content": "look it up"},
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": call["id"], "content": "found"},
    ]
    response = gw.post(hi("on-groq", messages=messages, tools=TOOLS))
    assert response.status_code == 200, response.text
    assert sent_body(gw, "groq")["messages"][2]["tool_call_id"] == call["id"]

"""The official openai SDK's ``client.responses.create`` over real HTTP, whole and streamed."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import httpx
import pytest

from monitoring.models import Request
from tests.proxy.conftest import LiveGateway

WEATHER = {
    "type": "function",
    "name": "weather",
    "description": "The weather in a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    "strict": False,
}


@pytest.mark.parametrize("stream", [False, True])
def test_a_text_answer_comes_back_as_a_response_with_usage(gw: LiveGateway, stream: bool) -> None:
    client = gw.client()
    if stream:
        with client.responses.stream(model="chat", input="hi", instructions="Be brief.") as events:
            kinds = [event.type for event in events]
            response = events.get_final_response()
        assert kinds[0] == "response.created" and kinds[-1] == "response.completed"
    else:
        response = client.responses.create(model="chat", input="hi", instructions="Be brief.")
    assert response.status == "completed"
    assert response.output_text.startswith("Hello from sim-")
    assert response.instructions == "Be brief."
    assert response.store is True
    usage = response.usage
    assert usage is not None and usage.input_tokens > 0 and usage.output_tokens > 0
    assert usage.total_tokens == usage.input_tokens + usage.output_tokens


@pytest.mark.parametrize("stream", [False, True])
def test_a_tool_round_trip_with_function_call_output(gw: LiveGateway, stream: bool) -> None:
    client = gw.client()
    conversation: list[Any] = [{"role": "user", "content": "Weather in Paris?"}]
    if stream:
        with client.responses.stream(model="chat", input=conversation, tools=[WEATHER]) as events:
            deltas = [e.delta for e in events if e.type == "response.function_call_arguments.delta"]
            first = events.get_final_response()
        assert "".join(deltas) == first.output[-1].arguments  # type: ignore[union-attr]
    else:
        first = client.responses.create(model="chat", input=conversation, tools=[WEATHER])
    [call] = [item for item in first.output if item.type == "function_call"]
    assert call.name == "weather"
    json.loads(call.arguments)
    conversation += [item.model_dump(exclude_none=True) for item in first.output]
    conversation.append({"type": "function_call_output", "call_id": call.call_id, "output": "sunny, 21C"})
    raw = client.responses.with_raw_response.create(model="chat", input=conversation, tools=[WEATHER])
    assert raw.parse().output_text == "Tool said: sunny, 21C"
    sent = gw.sim.last_request(raw.headers["x-gateway-provider"])["body"]
    assert [m["role"] for m in sent["messages"]] == ["user", "assistant", "tool"]
    assert sent["messages"][1]["tool_calls"][0]["id"] == call.call_id


def test_text_format_json_schema_gets_json_back(gw: LiveGateway) -> None:
    schema = {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]}
    response = gw.client().responses.create(
        model="chat", input="hi", text={"format": {"type": "json_schema", "name": "reply", "schema": schema}}
    )
    assert isinstance(json.loads(response.output_text)["answer"], str)
    assert gw.sim.last_request("sim-a")["body"]["response_format"]["json_schema"]["name"] == "reply"


def test_an_image_as_a_data_url_reaches_the_provider(gw: LiveGateway) -> None:
    content = [
        {"type": "input_text", "text": "what is it?"},
        {"type": "input_image", "image_url": "data:image/png;base64,iVBORw0KGgo=", "detail": "auto"},
    ]
    response = gw.client().responses.create(model="chat", input=[{"role": "user", "content": content}])
    assert "(1 image)" in response.output_text


def test_max_output_tokens_cut_is_an_incomplete_response(gw: LiveGateway) -> None:
    response = gw.client().responses.create(model="chat", input="hi", max_output_tokens=2)
    assert response.status == "incomplete"
    assert response.incomplete_details is not None and response.incomplete_details.reason == "max_output_tokens"


def the_row(request_id: str) -> Request:
    deadline = time.monotonic() + 5
    while not Request.objects.filter(request_id=request_id).exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    return Request.objects.get(request_id=request_id)


def test_the_request_is_recorded_as_a_responses_request(gw: LiveGateway) -> None:
    request_id = f"resp-{uuid.uuid4().hex[:12]}"
    gw.client().responses.create(model="solo", input="hi", extra_headers={"x-request-id": request_id})
    row = the_row(request_id)
    assert (row.inbound, row.status, row.outcome, row.provider) == ("openai.responses", 200, "ok", "sim-d")
    assert row.prompt_tokens and row.completion_tokens and row.cost_usd


def test_a_stream_cut_after_content_ends_with_response_failed(gw: LiveGateway) -> None:
    gw.sim.set_fault("sim-a", kind="cut_after", after=3)
    request_id = f"resp-{uuid.uuid4().hex[:12]}"
    with httpx.stream(
        "POST",
        f"{gw.url}/v1/responses",
        json={"model": "chat", "input": "hi", "stream": True},
        headers={"authorization": f"Bearer {gw.key}", "x-request-id": request_id},
        timeout=20,
    ) as response:
        raw = response.read().decode()
    kinds = [line.removeprefix("event: ") for line in raw.splitlines() if line.startswith("event: ")]
    assert kinds[-1] == "response.failed"
    assert "response.completed" not in kinds
    assert "sim-a" in raw and "sk-test" not in raw
    row = the_row(request_id)
    assert (row.inbound, row.status, row.error_code, row.provider) == (
        "openai.responses",
        200,
        "stream_interrupted",
        "sim-a",
    )

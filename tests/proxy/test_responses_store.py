"""The Responses store over real HTTP and real Redis, with the openai SDK: ``previous_response_id``,
``item_reference`` items, GET/DELETE /v1/responses/{id}, per organisation, expiring and bounded;
and a Redis that is gone never fails a request that only wanted its answer stored."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from django.conf import settings

from accounts.services import create_api_key, create_organization
from config.embedded import start_redis
from gateway.inbound.responses_store import STORE_FAILURES, ResponsesStore
from tests.proxy.conftest import LiveGateway


def _prefix() -> str:
    return str(settings.CACHES["default"].get("KEY_PREFIX", "gw"))


@contextmanager
def store_swapped(gw: LiveGateway, store: ResponsesStore) -> Iterator[None]:
    working = gw.runtime.responses
    gw.runtime.responses = store
    try:
        yield
    finally:
        gw.runtime.responses = working


def sent_messages(gw: LiveGateway) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = gw.sim.last_request("sim-a")["body"]["messages"]
    return messages


@pytest.mark.parametrize("stream", [False, True])
def test_a_second_turn_with_previous_response_id_sends_the_whole_conversation(gw: LiveGateway, stream: bool) -> None:
    client = gw.client()
    if stream:
        with client.responses.stream(model="chat", input="My name is Ada.", instructions="Be brief.") as events:
            first = events.get_final_response()
    else:
        first = client.responses.create(model="chat", input="My name is Ada.", instructions="Be brief.")
    assert first.store is True
    second = client.responses.create(model="chat", input="What is my name?", previous_response_id=first.id)
    assert (second.store, second.previous_response_id) == (True, first.id)
    # The previous input and output, then the new input; the earlier instructions are not carried over.
    assert sent_messages(gw) == [
        {"role": "user", "content": "My name is Ada."},
        {"role": "assistant", "content": first.output_text},
        {"role": "user", "content": "What is my name?"},
    ]
    third = client.responses.create(model="chat", input="And again?", previous_response_id=second.id)
    assert [m["content"] for m in sent_messages(gw)] == [
        "My name is Ada.", first.output_text, "What is my name?", second.output_text, "And again?",
    ]  # fmt: skip
    assert third.previous_response_id == second.id


def test_item_references_resolve_to_the_stored_output_items(gw: LiveGateway) -> None:
    client = gw.client()
    first = client.responses.create(model="chat", input="hi")
    [message] = first.output
    client.responses.create(
        model="chat",
        input=[
            {"role": "user", "content": "hi"},
            {"type": "item_reference", "id": message.id},
            {"role": "user", "content": "more"},
        ],
        store=False,
    )
    assert sent_messages(gw)[1] == {"role": "assistant", "content": first.output_text}


def test_a_stored_response_can_be_read_listed_and_deleted(gw: LiveGateway) -> None:
    client = gw.client()
    conversation = [{"role": "developer", "content": "Be brief."}, {"role": "user", "content": "hi"}]
    created = client.responses.create(model="chat", input=conversation, metadata={"a": "b"})  # type: ignore[arg-type]
    assert client.responses.retrieve(created.id).model_dump() == created.model_dump()
    newest_first = client.responses.input_items.list(created.id)
    assert [item.role for item in newest_first.data] == ["user", "developer"]  # type: ignore[union-attr]
    assert all(item.id.startswith("msg_") for item in newest_first.data)
    in_order = client.responses.input_items.list(created.id, order="asc")
    assert [item.role for item in in_order.data] == ["developer", "user"]  # type: ignore[union-attr]
    client.responses.delete(created.id)
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(created.id)
    with pytest.raises(openai.NotFoundError):
        client.responses.delete(created.id)
    with pytest.raises(openai.BadRequestError) as raised:
        client.responses.create(model="chat", input=[{"type": "item_reference", "id": created.output[0].id}])
    assert raised.value.code == "item_not_found"


def test_store_false_stores_nothing(gw: LiveGateway) -> None:
    client = gw.client()
    response = client.responses.create(model="chat", input="hi", store=False)
    assert response.store is False
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(response.id)
    with pytest.raises(openai.BadRequestError) as raised:
        client.responses.create(model="chat", input="again", previous_response_id=response.id)
    assert (raised.value.code, raised.value.param) == ("previous_response_not_found", "previous_response_id")
    assert f"'{response.id}'" in raised.value.message


def test_another_organisations_responses_and_items_are_not_found(
    live_gateway: LiveGateway, transactional_db: None
) -> None:
    mine = live_gateway.client().responses.create(model="chat", input="secret")
    other_key = create_api_key(organization=create_organization(name="Someone else"), name="k").plaintext
    theirs = openai.OpenAI(base_url=f"{live_gateway.url}/v1", api_key=other_key, max_retries=0)
    with pytest.raises(openai.NotFoundError):
        theirs.responses.retrieve(mine.id)
    with pytest.raises(openai.NotFoundError):
        theirs.responses.delete(mine.id)
    with pytest.raises(openai.BadRequestError) as raised:
        theirs.responses.create(model="chat", input="x", previous_response_id=mine.id)
    assert raised.value.code == "previous_response_not_found"
    with pytest.raises(openai.BadRequestError) as raised:
        theirs.responses.create(model="chat", input=[{"type": "item_reference", "id": mine.output[0].id}])
    assert (raised.value.code, raised.value.param) == ("item_not_found", "input[0]")
    assert live_gateway.client().responses.retrieve(mine.id).id == mine.id


def test_stored_responses_expire_after_the_ttl(gw: LiveGateway) -> None:
    with store_swapped(gw, ResponsesStore(settings.REDIS_URL, _prefix(), ttl=1)):
        client = gw.client()
        response = client.responses.create(model="chat", input="hi")
        assert client.responses.retrieve(response.id).id == response.id
        time.sleep(1.5)
        with pytest.raises(openai.NotFoundError):
            client.responses.retrieve(response.id)
        with pytest.raises(openai.BadRequestError):
            client.responses.create(model="chat", input=[{"type": "item_reference", "id": response.output[0].id}])


@pytest.mark.parametrize("stream", [False, True])
def test_a_response_over_the_size_bound_is_answered_but_not_stored(gw: LiveGateway, stream: bool) -> None:
    with store_swapped(gw, ResponsesStore(settings.REDIS_URL, _prefix(), ttl=60, max_bytes=4000)):
        client = gw.client()
        if stream:
            with client.responses.stream(model="chat", input="x" * 5000) as events:
                response = events.get_final_response()
        else:
            response = client.responses.create(model="chat", input="x" * 5000)
        assert response.status == "completed" and response.store is False
        with pytest.raises(openai.NotFoundError):
            client.responses.retrieve(response.id)
        assert client.responses.create(model="chat", input="x" * 100).store is True


def test_without_redis_answers_still_come_with_store_false(gw: LiveGateway, tmp_path: Path) -> None:
    redis = start_redis(tmp_path / "redis", throwaway=True)
    try:
        with store_swapped(gw, ResponsesStore(redis.url, _prefix(), ttl=60)):
            client = gw.client()
            stored = client.responses.create(model="chat", input="hi")
            assert stored.store is True
            redis.stop()
            failures = STORE_FAILURES._value.get()
            assert client.responses.create(model="chat", input="hi").store is False
            with client.responses.stream(model="chat", input="hi") as events:
                assert events.get_final_response().store is False
            assert STORE_FAILURES._value.get() == failures + 2
            # A request that needs the stored state cannot be served without it: a 503, never a guess.
            with pytest.raises(openai.InternalServerError) as raised:
                client.responses.create(model="chat", input="again", previous_response_id=stored.id)
            assert raised.value.status_code == 503
            assert "unavailable" in raised.value.message
    finally:
        redis.stop()


def test_get_and_delete_need_a_key_and_an_id(gw: LiveGateway) -> None:
    assert httpx.get(f"{gw.url}/v1/responses/resp_1", timeout=10).status_code == 401
    headers = {"authorization": f"Bearer {gw.key}"}
    assert httpx.get(f"{gw.url}/v1/responses/resp_1/other", headers=headers, timeout=10).status_code == 404
    assert httpx.delete(f"{gw.url}/v1/responses/resp_1/input_items", headers=headers, timeout=10).status_code == 404
    missing = httpx.get(f"{gw.url}/v1/responses/resp_1", headers=headers, timeout=10)
    assert missing.status_code == 404
    assert missing.json()["error"]["message"] == "Response with id 'resp_1' not found."


def test_a_tool_step_can_refer_to_its_stored_function_call(gw: LiveGateway) -> None:
    """The AI SDK's default: the model's call goes back as a reference, its result as itself."""
    client = gw.client()
    weather = {"type": "function", "name": "weather", "parameters": {"type": "object", "properties": {}}}
    first = client.responses.create(model="chat", input="Weather in Paris?", tools=[weather])  # type: ignore[list-item]
    [call] = [item for item in first.output if item.type == "function_call"]
    second = client.responses.create(
        model="chat",
        input=[
            {"role": "user", "content": "Weather in Paris?"},
            {"type": "item_reference", "id": call.id},
            {"type": "function_call_output", "call_id": call.call_id, "output": "sunny"},
        ],
        tools=[weather],  # type: ignore[list-item]
    )
    assert second.status == "completed"
    assistant, tool = sent_messages(gw)[1:]
    assert assistant["tool_calls"][0]["id"] == call.call_id == tool["tool_call_id"]

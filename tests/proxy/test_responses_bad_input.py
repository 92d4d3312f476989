"""What /v1/responses cannot serve is a clear 4xx in OpenAI's error shape, before any upstream call."""

from __future__ import annotations

from typing import Any

import httpx
import openai
import pytest

from tests.proxy.conftest import LiveGateway


def post(gw: LiveGateway, body: Any, key: str | None = None) -> httpx.Response:
    headers = {"authorization": f"Bearer {key or gw.key}"}
    content = body if isinstance(body, bytes) else None
    return httpx.post(
        f"{gw.url}/v1/responses", json=None if content else body, content=content, headers=headers, timeout=20
    )


@pytest.mark.parametrize(
    ("extra", "param", "words"),
    [
        ({"previous_response_id": "resp_123"}, "previous_response_id", "'resp_123' not found"),
        ({"previous_response_id": ["resp_123"]}, "previous_response_id", "expected an id"),
        ({"conversation": {"id": "conv_1"}}, "conversation", "not supported"),
        ({"tools": [{"type": "web_search"}]}, "tools[0].type", "'web_search'"),
        (
            {"tools": [{"type": "function", "name": "f"}, {"type": "computer_use_preview"}]},
            "tools[1].type",
            "'computer_use_preview'",
        ),
        ({"input": [{"type": "item_reference", "id": "msg_1"}]}, "input[0]", "'msg_1' not found"),
        ({"input": [{"type": "item_reference", "id": "m" * 129}]}, "input[0].id", "expected an id"),
        ({"store": "yes"}, "store", "boolean"),
        ({"input": [{"role": "user", "content": "x"}] * 10_001}, "input", "at most"),
        ({"input": 42}, "input", "expected"),
        ({"model": None}, "model", "model"),
        ({"max_output_tokens": -1}, "max_output_tokens", "integer"),
    ],
)
@pytest.mark.parametrize("stream", [False, True])
def test_unservable_requests_are_400s_naming_the_parameter(
    gw: LiveGateway, extra: dict[str, Any], param: str, words: str, stream: bool
) -> None:
    response = post(gw, {"model": "chat", "input": "hi", "stream": stream, **extra})
    assert (response.status_code, response.headers["content-type"]) == (400, "application/json")
    error = response.json()["error"]
    assert (error["type"], error["param"]) == ("invalid_request_error", param)
    assert words in error["message"]
    assert gw.sim.attempts("sim-a") == 0


def test_the_sdk_raises_bad_request_for_previous_response_id(gw: LiveGateway) -> None:
    with pytest.raises(openai.BadRequestError) as raised:
        gw.client().responses.create(model="chat", input="hi", previous_response_id="resp_123")
    assert raised.value.param == "previous_response_id"


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (b"", "invalid_json"),
        (b"[1]", "invalid_json"),
        (b"{nope", "invalid_json"),
        (b'{"model": "chat", "input": ' + b"[" * 200 + b"]" * 200 + b"}", "nesting_too_deep"),
    ],
)
def test_broken_bodies_are_400s(gw: LiveGateway, raw: bytes, code: str) -> None:
    response = post(gw, raw)
    assert (response.status_code, response.json()["error"]["code"]) == (400, code)


def test_an_unknown_model_is_a_404_and_a_bad_key_a_401(gw: LiveGateway) -> None:
    assert post(gw, {"model": "nope", "input": "hi"}).json()["error"]["code"] == "model_not_found"
    assert post(gw, {"model": "chat", "input": "hi"}, key="sk-gw-wrong").status_code == 401


def test_only_post_is_allowed(gw: LiveGateway) -> None:
    response = httpx.get(f"{gw.url}/v1/responses", headers={"authorization": f"Bearer {gw.key}"})
    assert response.status_code == 405

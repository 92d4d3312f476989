"""Bad requests get a 4xx in OpenAI's error shape that names the problem; never a 500."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.proxy.conftest import LiveGateway


def _send(gw: LiveGateway, content: bytes) -> httpx.Response:
    return httpx.post(
        f"{gw.url}/v1/chat/completions",
        content=content,
        timeout=10,
        headers={"authorization": f"Bearer {gw.key}", "content-type": "application/json"},
    )


def _assert_error(response: httpx.Response, status: int, text: str, param: str | None = None) -> None:
    assert response.status_code == status
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert text in error["message"]
    if param is not None:
        assert error["param"] == param


@pytest.mark.parametrize(
    ("body", "text", "param"),
    [
        (b"{not json", "not valid JSON", None),
        (b"", "empty", None),
        (b"[1, 2]", "must be a JSON object", None),
        (b'{"messages": [{"role": "user", "content": "x"}]}', "'model'", "model"),
        (b'{"model": 42, "messages": [{"role": "user", "content": "x"}]}', "'model'", "model"),
        (b'{"model": "chat"}', "'messages'", "messages"),
        (b'{"model": "chat", "messages": []}', "empty array", "messages"),
        (b'{"model": "chat", "messages": "hi"}', "expected an array", "messages"),
        (b'{"model": "chat", "messages": [{"role": "robot", "content": "x"}]}', "role", "messages[0].role"),
        (b'{"model": "chat", "messages": [{"role": "user", "content": "x"}], "stream": "yes"}', "'stream'", "stream"),
        (b'{"model": "chat", "messages": [{"role": "user", "content": "x"}], "n": 0}', "'n'", "n"),
        (
            b'{"model": "chat", "messages": [{"role": "user", "content": "x"}], "temperature": "hot"}',
            "'temperature'",
            "temperature",
        ),
    ],
)
def test_invalid_body_is_a_400_naming_the_problem(gw: LiveGateway, body: bytes, text: str, param: str | None) -> None:
    _assert_error(_send(gw, body), 400, text, param)
    assert gw.sim.attempts("sim-a") == 0


def test_unknown_model_is_a_404(gw: LiveGateway) -> None:
    response = _send(gw, b'{"model": "nope", "messages": [{"role": "user", "content": "x"}]}')
    _assert_error(response, 404, "'nope' does not exist", "model")
    assert response.json()["error"]["code"] == "model_not_found"


def test_body_over_the_limit_is_a_413(gw: LiveGateway) -> None:
    limit = gw.runtime.max_body_bytes
    gw.runtime.max_body_bytes = 2048
    try:
        body = b'{"model": "chat", "messages": [{"role": "user", "content": "' + b"x" * 4096 + b'"}]}'
        _assert_error(_send(gw, body), 413, "limit")
    finally:
        gw.runtime.max_body_bytes = limit


@pytest.mark.parametrize(
    ("method", "path", "status"), [("GET", "/v1/chat/completions", 405), ("POST", "/v1/nothing", 404)]
)
def test_unknown_route_or_method_is_an_openai_shaped_error(
    gw: LiveGateway, method: str, path: str, status: int
) -> None:
    # With a good key: without one, any path is a 401 first (tests/proxy/test_error_order.py).
    response = httpx.request(method, f"{gw.url}{path}", headers={"authorization": f"Bearer {gw.key}"}, timeout=10)
    assert response.status_code == status
    assert set(response.json()["error"]) == {"message", "type", "param", "code"}


def test_full_openai_request_is_accepted_and_forwarded(gw: LiveGateway) -> None:
    body: dict[str, Any] = {
        "model": "chat",
        "n": 2,
        "stop": ["\n\n"],
        "seed": 7,
        "user": "u-1",
        "temperature": 0.2,
        "response_format": {"type": "json_object"},
        "messages": [
            {"role": "system", "content": "be brief"},
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "what is this?"},
                    {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
                ],
            },
        ],
    }
    response = gw.post(body)
    assert response.status_code == 200
    assert len(response.json()["choices"]) == 2
    sent = gw.sim.last_request("sim-a")["body"]
    assert sent["model"] == "chat" and sent["seed"] == 7 and sent["user"] == "u-1"
    assert sent["messages"][1]["content"][1]["type"] == "image_url"

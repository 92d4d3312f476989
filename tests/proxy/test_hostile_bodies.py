"""Deeply nested bodies get a 400; a fault of the gateway's own is an OpenAI-shape 500 with the request id."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from gateway.upstream.adapters import ADAPTERS
from gateway.validation import MAX_JSON_DEPTH
from tests.proxy.conftest import LiveGateway, hi


def _nested(depth: int) -> Any:
    value: Any = "deep"
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 300, 1000])
def test_a_body_nested_deeper_than_the_limit_is_a_400(gw: LiveGateway, depth: int) -> None:
    # Written by hand: no JSON library here writes 1,000 levels.
    raw = b'{"model": "chat", "messages": [{"role": "user", "content": "hi"}], "metadata": {"x": '
    raw += b"[" * depth + b"1" + b"]" * depth + b"}}"
    response = httpx.post(
        f"{gw.url}/v1/chat/completions", content=raw, timeout=10, headers={"authorization": f"Bearer {gw.key}"}
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "nesting_too_deep"
    assert gw.sim.attempts("sim-a") == 0


def test_a_body_at_the_depth_limit_is_served(gw: LiveGateway) -> None:
    # body -> metadata -> x -> lists: three levels before the lists.
    response = gw.post(hi(metadata={"x": _nested(MAX_JSON_DEPTH - 3)}))
    assert response.status_code == 200


def test_many_flat_brackets_are_not_mistaken_for_depth(gw: LiveGateway) -> None:
    response = gw.post(hi(metadata={"x": [[1] for _ in range(500)], "s": "[[[[{{{{" * 50}))
    assert response.status_code == 200


def test_an_unexpected_exception_is_an_openai_500_with_the_request_id_and_logged_as_an_error(
    gw: LiveGateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a bug of the gateway's")

    monkeypatch.setattr(ADAPTERS["openai"], "build_request", broken)
    for stream in (False, True):
        request_id = f"crash-{stream}"
        response = gw.post(hi(stream=stream), **{"x-request-id": request_id})
        assert response.status_code == 500
        error = response.json()["error"]
        assert error["type"] == "server_error" and error["code"] == "internal_error"
        assert request_id in error["message"]
        assert "bug" not in error["message"]
        assert response.headers["x-request-id"] == request_id
        rows = gw.attempts_logged(request_id, 1)
        assert [row.outcome for row in rows] == ["error"]

"""Errors in the order clients expect: the key is checked before the route; then 404 or 405, in
the caller's format (Anthropic's for x-api-key or anthropic-version callers, else OpenAI's)."""

from __future__ import annotations

import time

import anthropic
import httpx
import openai
import pytest

from monitoring.models import Request
from tests.proxy.conftest import LiveGateway, hi

ANTHROPIC_HEADERS = {"anthropic-version": "2023-06-01"}


def call(gw: LiveGateway, method: str, path: str, **headers: str) -> httpx.Response:
    return httpx.request(method, f"{gw.url}{path}", headers=headers, timeout=10)


@pytest.mark.parametrize("path", ["/v1/nowhere", "/v1/chat/completion", "/v1/audio/speech", "/v1/models-x"])
@pytest.mark.parametrize("auth", [{}, {"authorization": "Bearer sk-gw-wrong"}, {"authorization": "Basic abc"}])
def test_an_unknown_route_without_a_good_key_is_a_401(gw: LiveGateway, path: str, auth: dict[str, str]) -> None:
    response = call(gw, "GET", path, **auth)
    assert response.status_code == 401
    assert response.json()["error"]["type"] == "invalid_request_error"


def test_an_unknown_route_with_a_good_key_is_a_404_naming_it(gw: LiveGateway) -> None:
    response = call(gw, "POST", "/v1/nowhere", authorization=f"Bearer {gw.key}")
    assert response.status_code == 404
    error = response.json()["error"]
    assert error["code"] == "unknown_url" and "POST /v1/nowhere" in error["message"]
    assert response.headers["x-request-id"]


def test_the_openai_sdk_sees_not_found_and_authentication_errors(gw: LiveGateway) -> None:
    with pytest.raises(openai.NotFoundError):
        gw.client().post("/nowhere", cast_to=object, body={})
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=f"{gw.url}/v1", api_key="sk-gw-wrong", max_retries=0).post(
            "/nowhere", cast_to=object, body={}
        )


def test_anthropic_callers_get_anthropics_shape(gw: LiveGateway) -> None:
    unauthorised = call(gw, "GET", "/v1/nowhere", **{"x-api-key": "sk-gw-wrong", **ANTHROPIC_HEADERS})
    assert unauthorised.status_code == 401
    assert unauthorised.json()["error"]["type"] == "authentication_error"
    assert call(gw, "GET", "/v1/nowhere", **ANTHROPIC_HEADERS).json()["error"]["type"] == "authentication_error"
    missing = call(gw, "GET", "/v1/nowhere", **{"x-api-key": gw.key, **ANTHROPIC_HEADERS})
    assert missing.status_code == 404
    body = missing.json()
    assert body["type"] == "error" and body["error"]["type"] == "not_found_error"
    assert "GET /v1/nowhere" in body["error"]["message"]
    assert missing.headers["request-id"] == body["request_id"]
    client = anthropic.Anthropic(base_url=gw.url, api_key=gw.key, max_retries=0)
    with pytest.raises(anthropic.NotFoundError):
        client.post("/v1/nowhere", cast_to=object, body={})


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [("GET", "/v1/chat/completions", "POST"), ("DELETE", "/v1/models", "GET"), ("PUT", "/v1/messages", "POST")],
)
def test_a_known_path_with_the_wrong_method_is_a_405_after_auth(
    gw: LiveGateway, method: str, path: str, allow: str
) -> None:
    assert call(gw, method, path).status_code == 401
    response = call(gw, method, path, authorization=f"Bearer {gw.key}")
    assert response.status_code == 405
    assert response.headers["allow"] == allow
    assert response.json()["error"]["code"] == "method_not_allowed"


def test_a_trailing_slash_is_the_same_route(gw: LiveGateway) -> None:
    response = call(gw, "GET", "/v1/models/", authorization=f"Bearer {gw.key}")
    assert response.status_code == 200 and response.json()["object"] == "list"


def test_route_errors_are_not_recorded_as_model_requests(gw: LiveGateway) -> None:
    missing = call(gw, "GET", "/v1/nowhere", authorization=f"Bearer {gw.key}")
    answered = gw.post(hi())
    assert (missing.status_code, answered.status_code) == (404, 200)
    # Records are written in order, in the background: once the answer's is in, the 404's would be.
    deadline = time.monotonic() + 5
    while not Request.objects.filter(request_id=answered.headers["x-request-id"]).exists():
        assert time.monotonic() < deadline, "the answered request was never recorded"
        time.sleep(0.05)
    assert not Request.objects.filter(request_id=missing.headers["x-request-id"]).exists()

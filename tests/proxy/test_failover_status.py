"""Rows: 5xx/529, 429, 401/403/404, context length, content policy."""

from __future__ import annotations

import time

import pytest

from gateway.routing.health import State
from tests.proxy.conftest import LiveGateway, hi

STREAM = [False, True]


@pytest.mark.parametrize("status", [500, 502, 503, 529])
def test_server_error_moves_to_the_next_deployment(gw: LiveGateway, status: int) -> None:
    gw.sim.set_fault("sim-a", status=status)
    response = gw.post(hi())
    assert response.status_code == 200
    assert response.headers["x-gateway-provider"] == "sim-b"
    assert (gw.sim.attempts("sim-a"), gw.sim.attempts("sim-b")) == (1, 1)


@pytest.mark.parametrize("stream", STREAM)
def test_lone_deployment_gets_one_retry_after_a_5xx(gw: LiveGateway, stream: bool) -> None:
    gw.sim.set_fault("sim-d", status=503, times=1)
    response = gw.post(hi("solo", stream=stream))
    assert response.status_code == 200
    assert gw.sim.attempts("sim-d") == 2


@pytest.mark.parametrize("stream", STREAM)
def test_rate_limited_deployment_cools_down_for_its_retry_after(gw: LiveGateway, stream: bool) -> None:
    gw.sim.set_fault("sim-a", status=429, retry_after="30")
    for _ in range(3):
        response = gw.post(hi(stream=stream))
        assert response.status_code == 200
        assert response.headers["x-gateway-provider"] == "sim-b"
    assert gw.sim.attempts("sim-a") == 1
    assert gw.sim.attempts("sim-b") == 3


def test_retry_after_as_an_http_date_is_honoured(gw: LiveGateway) -> None:
    from email.utils import formatdate

    gw.sim.set_fault("sim-a", status=429, retry_after=formatdate(time.time() + 30, usegmt=True))
    gw.post(hi())
    gw.post(hi())
    assert gw.sim.attempts("sim-a") == 1


def test_short_retry_after_waits_and_retries_the_same_deployment(gw: LiveGateway) -> None:
    gw.sim.set_fault("sim-d", status=429, retry_after="1", times=1)
    started = time.monotonic()
    response = gw.post(hi("solo"))
    assert response.status_code == 200
    assert time.monotonic() - started >= 1.0
    assert gw.sim.attempts("sim-d") == 2


def test_retry_after_beyond_the_budget_returns_429_with_retry_after(gw: LiveGateway) -> None:
    gw.sim.set_fault("sim-d", status=429, retry_after="30")
    response = gw.post(hi("solo"))
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "rate_limit_exceeded"
    assert 25 <= int(response.headers["retry-after"]) <= 30
    again = gw.post(hi("solo"))
    assert again.status_code == 429
    assert gw.sim.attempts("sim-d") == 1


def test_429_without_retry_after_backs_off_instead_of_hammering(gw: LiveGateway) -> None:
    gw.sim.set_fault("sim-a", status=429)
    for _ in range(3):
        assert gw.post(hi()).headers["x-gateway-provider"] == "sim-b"
    assert gw.sim.attempts("sim-a") == 1
    assert gw.runtime.health.get("sim-a/chat").cooldown_until > 0


@pytest.mark.parametrize("kind", ["auth", "not_found"])
def test_upstream_auth_or_missing_model_marks_the_deployment_misconfigured(gw: LiveGateway, kind: str) -> None:
    gw.sim.set_fault("sim-a", kind=kind)
    response = gw.post(hi())
    assert response.status_code == 200
    assert response.headers["x-gateway-provider"] == "sim-b"
    assert gw.runtime.health.get("sim-a/chat").misconfigured


@pytest.mark.parametrize("stream", STREAM)
def test_context_length_skips_the_model_and_fallbacks_with_smaller_windows(gw: LiveGateway, stream: bool) -> None:
    gw.sim.set_fault("sim-e", kind="context_length")
    response = gw.post(hi("wide", stream=stream))
    assert response.status_code == 200
    assert response.headers["x-gateway-provider"] == "sim-c"
    assert gw.sim.attempts("sim-e") == 1
    assert gw.sim.attempts("sim-d") == 0  # 'tiny' has a 4k window: it cannot fit either


def test_context_length_is_not_retried_on_another_deployment_of_the_same_model(gw: LiveGateway) -> None:
    gw.sim.set_fault("sim-a", kind="context_length")
    response = gw.post(hi())
    assert response.json()["model"] == "backup"
    assert gw.sim.attempts("sim-b") == 0


def test_context_length_without_a_larger_fallback_returns_the_providers_error(gw: LiveGateway) -> None:
    gw.sim.set_fault("sim-d", kind="context_length")
    response = gw.post(hi("solo"))
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "context_length_exceeded"
    assert "maximum context length" in error["message"]


@pytest.mark.parametrize("stream", STREAM)
def test_content_policy_error_is_returned_without_retry_or_fallback(gw: LiveGateway, stream: bool) -> None:
    gw.sim.set_fault("sim-a", kind="content_filter")
    response = gw.post(hi(stream=stream))
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "content_filter"
    assert set(error) == {"message", "type", "param", "code"}
    assert (gw.sim.attempts("sim-a"), gw.sim.attempts("sim-b"), gw.sim.attempts("sim-c")) == (1, 0, 0)


def test_pinned_provider_disables_cross_provider_failover(gw: LiveGateway) -> None:
    gw.sim.set_fault("sim-b", status=500)
    response = gw.post(hi("sim-b/chat"))
    assert response.status_code == 502
    assert gw.sim.attempts("sim-a") == 0
    assert gw.sim.attempts("sim-c") == 0
    assert gw.sim.attempts("sim-b") == 2


def test_pinned_provider_serves_the_request(gw: LiveGateway) -> None:
    response = gw.post(hi("sim-b/chat"))
    assert response.headers["x-gateway-provider"] == "sim-b"
    assert response.json()["model"] == "chat"


def test_breaker_state_is_closed_again_after_a_success(gw: LiveGateway) -> None:
    gw.sim.set_fault("sim-d", status=500, times=1)
    gw.post(hi("solo"))
    assert gw.runtime.health.get("sim-d/solo").state is State.CLOSED

"""Row: no headers or no first token before the deadline -> abandon, never retry that
deployment in this request, next deployment, then fallbacks."""

from __future__ import annotations

import time

import pytest

from tests.proxy.conftest import LiveGateway, hi

FIRST_TOKEN_DEADLINE = 1.0  # tests/proxy/conftest.py TIMEOUTS


@pytest.mark.parametrize("stream", [False, True])
def test_silent_provider_holds_the_request_no_longer_than_its_first_token_deadline(
    gw: LiveGateway, stream: bool
) -> None:
    gw.sim.set_fault("sim-a", kind="hang")
    started = time.monotonic()
    response = gw.post(hi(stream=stream))
    elapsed = time.monotonic() - started
    assert response.status_code == 200
    assert response.headers["x-gateway-provider"] == "sim-b"
    assert FIRST_TOKEN_DEADLINE <= elapsed < FIRST_TOKEN_DEADLINE + 1.0


def test_timed_out_deployment_is_not_retried_within_the_request(gw: LiveGateway) -> None:
    gw.sim.set_fault("sim-d", kind="hang")
    response = gw.post(hi("solo"))
    assert response.status_code == 504
    assert response.json()["error"]["code"] == "upstream_timeout"
    assert gw.sim.attempts("sim-d") == 1


@pytest.mark.parametrize("stream", [False, True])
def test_stall_before_the_first_token_fails_over_invisibly(gw: LiveGateway, stream: bool) -> None:
    gw.sim.set_fault("sim-a", kind="stall_after", after=0)
    response = gw.post(hi(stream=stream))
    assert response.status_code == 200
    assert response.headers["x-gateway-provider"] == "sim-b"
    assert gw.sim.attempts("sim-a") == 1


def test_slow_headers_after_the_deadline_then_the_fallback_model(gw: LiveGateway) -> None:
    gw.sim.set_fault("sim-a", headers_delay=5)
    gw.sim.set_fault("sim-b", headers_delay=5)
    response = gw.post(hi())
    assert response.status_code == 200
    assert response.json()["model"] == "backup"
    assert gw.sim.attempts("sim-a") == 1
    assert gw.sim.attempts("sim-b") == 1

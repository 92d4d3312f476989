"""Row: connection refused or reset -> next deployment at once; if none is healthy, one
jittered retry of the same deployment, then the fallback models."""

from __future__ import annotations

import pytest

from tests.proxy.conftest import LiveGateway, hi

STREAM = [False, True]


@pytest.mark.parametrize("stream", STREAM)
def test_refused_connection_moves_to_the_next_deployment(gw: LiveGateway, stream: bool) -> None:
    response = gw.post(hi("refused-first", stream=stream))
    assert response.status_code == 200
    assert response.headers["x-gateway-provider"] == "sim-b"
    assert response.headers["x-gateway-attempts"] == "2"
    assert gw.sim.attempts("sim-b") == 1


@pytest.mark.parametrize("stream", STREAM)
def test_reset_connection_is_invisible_to_the_sdk_client(gw: LiveGateway, stream: bool) -> None:
    gw.sim.set_fault("sim-a", kind="reset")
    completion = gw.client().chat.completions.create(**hi(stream=stream))
    text = (
        "".join(c.choices[0].delta.content or "" for c in completion if c.choices)
        if stream
        else (completion.choices[0].message.content)
    )
    assert text.startswith("Hello from sim-b/chat")
    assert gw.sim.attempts("sim-a") == 1
    assert gw.sim.attempts("sim-b") == 1


@pytest.mark.parametrize("stream", STREAM)
def test_lone_deployment_is_retried_once_after_a_reset(gw: LiveGateway, stream: bool) -> None:
    gw.sim.set_fault("sim-d", kind="reset", times=1)
    response = gw.post(hi("solo", stream=stream))
    assert response.status_code == 200
    assert response.headers["x-gateway-attempts"] == "2"
    assert gw.sim.attempts("sim-d") == 2


def test_when_every_deployment_resets_one_retry_then_the_fallback_model_answers(gw: LiveGateway) -> None:
    gw.sim.set_fault("sim-a", kind="reset")
    gw.sim.set_fault("sim-b", kind="reset")
    response = gw.post(hi())
    assert response.status_code == 200
    assert response.json()["model"] == "backup"
    assert response.headers["x-gateway-provider"] == "sim-c"
    assert gw.sim.attempts("sim-a") + gw.sim.attempts("sim-b") == 3
    assert gw.sim.attempts("sim-c") == 1


def test_every_attempt_failing_returns_502_naming_the_last_error(gw: LiveGateway) -> None:
    gw.sim.set_fault("sim-d", kind="reset")
    response = gw.post(hi("solo"))
    assert response.status_code == 502
    error = response.json()["error"]
    assert error["code"] == "upstream_error"
    assert error["type"] == "server_error"
    assert "sim-d" in error["message"]
    assert set(error) == {"message", "type", "param", "code"}
    assert gw.sim.attempts("sim-d") == 2

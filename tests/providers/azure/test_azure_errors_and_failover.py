"""Azure OpenAI errors, each with the failover row it triggers between two regional resources."""

from __future__ import annotations

import pytest

from tests.providers.profiles.harness import Gateway, hi

STREAM = [False, True]


@pytest.mark.parametrize("stream", STREAM)
@pytest.mark.parametrize("status", [500, 503])
def test_a_server_error_moves_to_the_other_region(gw: Gateway, status: int, stream: bool) -> None:
    gw.sim.set_fault("az-east", status=status)
    response = gw.post(hi("chat", stream=stream))
    assert response.status_code == 200, response.text
    assert response.headers["x-gateway-provider"] == "az-west"
    assert (gw.sim.attempts("az-east"), gw.sim.attempts("az-west")) == (1, 1)


@pytest.mark.parametrize("fault", [{"kind": "auth"}, {"kind": "not_found"}, {"status": 403}])
def test_a_bad_key_or_missing_deployment_marks_the_region_misconfigured(gw: Gateway, fault: dict[str, object]) -> None:
    gw.sim.set_fault("az-east", **fault)
    response = gw.post(hi("chat"))
    assert response.status_code == 200, response.text
    assert response.headers["x-gateway-provider"] == "az-west"
    assert gw.runtime.health.get("az-east/prod-4o-mini").misconfigured


@pytest.mark.parametrize("stream", STREAM)
def test_context_length_is_not_retried_on_the_other_region(gw: Gateway, stream: bool) -> None:
    gw.sim.set_fault("az-east", kind="context_length")
    response = gw.post(hi("chat", stream=stream))
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "context_length_exceeded"
    assert gw.sim.attempts("az-west") == 0


def test_a_content_filter_refusal_is_returned_without_failover(gw: Gateway) -> None:
    gw.sim.set_fault("az-east", kind="content_filter")
    response = gw.post(hi("chat"))
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_request_error"
    assert (gw.sim.attempts("az-east"), gw.sim.attempts("az-west")) == (1, 0)


@pytest.mark.parametrize("stream", STREAM)
def test_a_stream_cut_before_content_is_invisible(gw: Gateway, stream: bool) -> None:
    gw.sim.set_fault("az-east", kind="cut_after", after=0)
    response = gw.post(hi("chat", stream=stream))
    assert response.status_code == 200, response.text
    assert response.headers["x-gateway-provider"] == "az-west"


def test_the_azure_key_never_reaches_the_client(gw: Gateway) -> None:
    gw.sim.set_fault("az-east", status=400, error_message="bad api-key azkey-east-secret-0001")
    response = gw.post(hi("chat"))
    assert response.status_code == 400
    assert "azkey-east-secret-0001" not in response.text

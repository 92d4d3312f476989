"""Embeddings fail over across the deployments of one model, per the failover table: a 5xx, a 429, a
timeout or a cut before the whole answer arrived is answered by the next deployment."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.routing.health import State
from tests.proxy.conftest import LiveGateway
from tests.proxy.embedding_gateway import emb, emb_gateway, post

__all__ = ["emb", "emb_gateway"]

ROWS: list[tuple[str, dict[str, Any]]] = [
    ("server error", {"status": 503}),
    ("rate limited", {"status": 429, "retry_after": "30"}),
    ("reset before headers", {"kind": "reset"}),
    ("no headers before the deadline", {"kind": "hang"}),
    ("slow headers", {"headers_delay": 3}),
    ("cut halfway through the body", {"kind": "cut_after"}),
    ("stall halfway through the body", {"kind": "stall_after"}),
    ("unreadable body", {"kind": "malformed"}),
]


@pytest.mark.parametrize(("row", "fault"), ROWS, ids=[row for row, _ in ROWS])
@pytest.mark.parametrize("encoding", ["float", "base64"])
def test_the_next_deployment_answers(emb: LiveGateway, row: str, fault: dict[str, Any], encoding: str) -> None:
    emb.sim.set_fault("emb-a", **fault)
    response = post(emb, "embeddings", {"model": "small", "input": ["a", "b"], "encoding_format": encoding})
    assert response.status_code == 200, response.text
    assert len(response.json()["data"]) == 2
    assert response.headers["x-gateway-provider"] == "emb-b"
    assert response.headers["x-gateway-attempts"] == "2"
    assert emb.sim.attempts("emb-a") == 1


def test_a_rate_limited_deployment_cools_down(emb: LiveGateway) -> None:
    emb.sim.set_fault("emb-a", status=429, retry_after="30")
    for _ in range(3):
        assert post(emb, "embeddings", {"model": "small", "input": "x"}).headers["x-gateway-provider"] == "emb-b"
    assert emb.sim.attempts("emb-a") == 1


def test_every_deployment_failing_is_a_502_naming_the_last_error(emb: LiveGateway) -> None:
    for name in ("emb-a", "emb-b", "emb-c"):
        emb.sim.set_fault(name, status=500)
    response = post(emb, "embeddings", {"model": "small", "input": "x"})
    assert response.status_code == 502
    assert response.json()["error"]["code"] == "upstream_error"
    assert "emb-" in response.json()["error"]["message"]


def test_a_failed_deployment_is_avoided_by_the_next_requests(emb: LiveGateway) -> None:
    emb.sim.set_fault("emb-a", status=500)
    for _ in range(4):
        assert post(emb, "embeddings", {"model": "small", "input": "x"}).status_code == 200
    assert emb.sim.attempts("emb-a") == 1
    assert emb.runtime.health.get("emb-a/text-embedding-3-small").recent_failures == 1


def test_failover_crosses_wire_formats_within_one_model(emb: LiveGateway) -> None:
    emb.sim.set_fault("emb-a", status=503)
    response = post(emb, "embeddings", {"model": "mixed-embed", "input": ["a", "b"], "encoding_format": "base64"})
    assert response.status_code == 200
    assert response.headers["x-gateway-provider"] == "emb-gem"
    assert all(isinstance(item["embedding"], str) for item in response.json()["data"])


def test_a_deployment_that_cannot_express_the_request_is_skipped_without_penalty(emb: LiveGateway) -> None:
    # Token arrays go to OpenAI only: AI Studio is never asked, and its health is untouched.
    for _ in range(4):
        response = post(emb, "embeddings", {"model": "mixed-embed", "input": [1, 2, 3]})
        assert response.status_code == 200
        assert response.headers["x-gateway-provider"] == "emb-a"
    assert emb.sim.attempts("emb-gem") == 0
    health = emb.runtime.health.get("emb-gem/mixed")
    assert (health.state, health.recent_failures) == (State.CLOSED, 0)


def test_a_client_error_of_the_upstream_is_returned_without_failover(emb: LiveGateway) -> None:
    emb.sim.set_fault("emb-a", status=400, error_message="Invalid input.")
    response = post(emb, "embeddings", {"model": "small", "input": "x"})
    assert response.status_code == 400
    assert emb.sim.attempts("emb-b") == 0


@pytest.mark.parametrize("model", ["azure-small", "gemini-embed", "vertex-embed", "titan", "cohere"])
def test_each_formats_server_error_gets_the_lone_deployments_retry(emb: LiveGateway, model: str) -> None:
    provider = emb.runtime.config.models[model].deployments[0].provider.name
    emb.sim.set_fault(provider, status=503, times=1)
    response = post(emb, "embeddings", {"model": model, "input": "x"})
    assert response.status_code == 200, response.text
    assert response.headers["x-gateway-attempts"] == "2"


@pytest.mark.parametrize("model", ["gemini-embed", "titan"])
def test_each_formats_rate_limit_is_the_clients_429(emb: LiveGateway, model: str) -> None:
    provider = emb.runtime.config.models[model].deployments[0].provider.name
    emb.sim.set_fault(provider, status=429, retry_after="30")
    response = post(emb, "embeddings", {"model": model, "input": "x"})
    assert response.status_code == 429
    assert response.headers["retry-after"]

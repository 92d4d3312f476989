"""Embeddings and legacy completions are recorded like chat: one request row with its inbound API,
tokens and cost (from the catalog's prices), one attempt row per upstream attempt (real Postgres)."""

from __future__ import annotations

import uuid

import pytest

from monitoring.models import Attempt
from tests.proxy.conftest import LiveGateway
from tests.proxy.embedding_gateway import emb, emb_gateway, post, the_row

__all__ = ["emb", "emb_gateway"]


def _rid() -> str:
    return f"emb-rec-{uuid.uuid4().hex[:12]}"


def test_an_embeddings_request_is_one_row_with_tokens_and_cost(emb: LiveGateway) -> None:
    rid = _rid()
    response = post(emb, "embeddings", {"model": "small", "input": ["a" * 400, "b" * 400]}, **{"x-request-id": rid})
    assert response.status_code == 200
    usage = response.json()["usage"]
    assert usage == {"prompt_tokens": 200, "total_tokens": 200}
    row = the_row(rid)
    assert (row.inbound, row.status, row.outcome, row.model, row.provider) == (
        "openai.embeddings",
        200,
        "ok",
        "small",
        "emb-a",
    )
    assert (row.prompt_tokens, row.completion_tokens) == (200, 0)
    # text-embedding-3-small: $0.02 per million input tokens (gateway/conf/catalog.yaml).
    assert float(row.cost_usd) == pytest.approx(200 * 0.02 / 1_000_000, rel=1e-9)
    [attempt] = emb.attempts_logged(rid, 1)
    assert (attempt.outcome, attempt.prompt_tokens, attempt.deployment) == ("ok", 200, "emb-a/text-embedding-3-small")
    assert float(attempt.cost_usd) == pytest.approx(200 * 0.02 / 1_000_000, rel=1e-9)


def test_a_rescued_embeddings_request_records_both_attempts_and_costs_the_served_one(emb: LiveGateway) -> None:
    emb.sim.set_fault("emb-a", status=503)
    rid = _rid()
    assert post(emb, "embeddings", {"model": "small", "input": "x" * 40}, **{"x-request-id": rid}).status_code == 200
    row = the_row(rid)
    assert (row.attempts, row.failovers, row.rescued, row.provider) == (2, 1, True, "emb-b")
    failed, served = emb.attempts_logged(rid, 2)
    assert (failed.outcome, failed.cost_usd) == ("server_error", None)
    assert served.outcome == "ok" and served.cost_usd is not None


def test_an_estimated_usage_is_still_costed(emb: LiveGateway) -> None:
    rid = _rid()  # AI Studio reports no token count: the gateway's estimate bills the request
    assert (
        post(emb, "embeddings", {"model": "gemini-embed", "input": "y" * 80}, **{"x-request-id": rid}).status_code
        == 200
    )
    row = the_row(rid)
    assert row.prompt_tokens == 20
    assert float(row.cost_usd) == pytest.approx(20 * 0.15 / 1_000_000, rel=1e-9)


def test_a_refused_embeddings_request_is_one_400_row_without_attempts(emb: LiveGateway) -> None:
    rid = _rid()
    assert post(emb, "embeddings", {"model": "small", "input": []}, **{"x-request-id": rid}).status_code == 400
    row = the_row(rid)
    assert (row.inbound, row.status, row.error_code, row.attempts) == ("openai.embeddings", 400, "empty_array", 0)
    assert not Attempt.objects.filter(request_id=rid).exists()


def test_a_legacy_completion_is_recorded_under_its_inbound_api(emb: LiveGateway) -> None:
    rid = _rid()
    body = {"model": "instruct", "prompt": "Say hi", "max_tokens": 5}
    assert post(emb, "completions", body, **{"x-request-id": rid}).status_code == 200
    row = the_row(rid)
    assert (row.inbound, row.status, row.model) == ("openai.completions", 200, "instruct")
    assert row.prompt_tokens and row.completion_tokens == 5

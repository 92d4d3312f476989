"""The attempt log records each answer's cost: usage times the serving deployment's price."""

from __future__ import annotations

import pytest

from gateway.conf.domain import Price
from tests.providers.profiles.harness import Gateway, hi


@pytest.mark.parametrize("stream", [False, True])
def test_cost_is_usage_times_the_serving_deployments_price(gw: Gateway, stream: bool) -> None:
    request_id = f"cost-groq-{stream}"
    response = gw.post(hi("llama-3.3-70b", stream=stream), **{"x-request-id": request_id})
    assert response.status_code == 200
    assert response.headers["x-gateway-provider"] == "cat-groq"
    [row] = gw.attempts_logged(request_id, 1)
    assert row.prompt_tokens and row.completion_tokens
    expected = (row.prompt_tokens * 0.59 + row.completion_tokens * 0.79) / 1_000_000
    assert row.cost_usd is not None
    assert float(row.cost_usd) == pytest.approx(expected, rel=1e-9)


def test_cost_uses_the_usage_the_client_was_shown(gw: Gateway) -> None:
    response = gw.post(hi("custom-priced"), **{"x-request-id": "cost-custom"})
    usage = response.json()["usage"]
    [row] = gw.attempts_logged("cost-custom", 1)
    expected = (usage["prompt_tokens"] * 1.5 + usage["completion_tokens"] * 4) / 1_000_000
    assert float(row.cost_usd) == pytest.approx(expected, rel=1e-9)


def test_a_rescued_request_costs_only_the_answer_that_was_served(gw: Gateway) -> None:
    gw.sim.set_fault("cat-groq", status=503)
    response = gw.post(hi("llama-3.3-70b"), **{"x-request-id": "cost-rescued"})
    assert response.headers["x-gateway-provider"] == "cat-together"
    failed, served = gw.attempts_logged("cost-rescued", 2)
    assert failed.cost_usd is None
    expected = (served.prompt_tokens * 0.88 + served.completion_tokens * 0.88) / 1_000_000
    assert float(served.cost_usd) == pytest.approx(expected, rel=1e-9)


def test_an_unpriced_deployment_records_no_cost(gw: Gateway) -> None:
    gw.post(hi("unpriced"), **{"x-request-id": "cost-unpriced"})
    [row] = gw.attempts_logged("cost-unpriced", 1)
    assert row.completion_tokens and row.cost_usd is None


def test_cached_prompt_tokens_are_billed_at_the_cached_rate() -> None:
    price = Price(input=2.5, output=10.0, cached_input=1.25)
    assert price.cost(1000, 100, 400) == pytest.approx((600 * 2.5 + 400 * 1.25 + 100 * 10.0) / 1_000_000)
    assert Price(input=2.0, output=8.0).cost(1000, 0, 400) == pytest.approx(1000 * 2.0 / 1_000_000)

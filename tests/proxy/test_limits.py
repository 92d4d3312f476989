"""Per-key and per-organisation rate limits and budgets on the proxy path."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest

from accounts.services import create_api_key, create_organization
from gateway.limits import Limiter
from tests.proxy.conftest import LiveGateway, hi


def _post(gw: LiveGateway, key: str, model: str = "chat") -> httpx.Response:
    return httpx.post(
        f"{gw.url}/v1/chat/completions", json=hi(model), timeout=10, headers={"authorization": f"Bearer {key}"}
    )


@pytest.fixture
def limited_key(live_gateway: LiveGateway, transactional_db: None) -> str:
    org = create_organization(name="Limited org")
    created = create_api_key(organization=org, name="two-a-minute")
    created.api_key.rpm_limit = 2
    created.api_key.save()
    return created.plaintext


def test_requests_over_the_keys_limit_get_429_with_openai_headers(live_gateway: LiveGateway, limited_key: str) -> None:
    first, second, third = (_post(live_gateway, limited_key) for _ in range(3))
    assert (first.status_code, second.status_code) == (200, 200)
    assert first.headers["x-ratelimit-limit-requests"] == "2"
    assert (first.headers["x-ratelimit-remaining-requests"], second.headers["x-ratelimit-remaining-requests"]) == (
        "1",
        "0",
    )
    assert third.status_code == 429
    error = third.json()["error"]
    assert error["code"] == "rate_limit_exceeded" and "this API key" in error["message"]
    assert 1 <= int(third.headers["retry-after"]) <= 60
    assert third.headers["x-ratelimit-remaining-requests"] == "0"
    assert third.headers["x-ratelimit-reset-requests"].endswith("s")


def test_the_organisations_token_limit_covers_all_its_keys(live_gateway: LiveGateway, transactional_db: None) -> None:
    org = create_organization(name="Token-limited org")
    org.tpm_limit = 50
    org.save()
    keys = [create_api_key(organization=org, name=f"k{i}").plaintext for i in range(2)]
    # Each answer uses ~21 tokens; settlement lands just after each response, so allow some slack.
    responses = [_post(live_gateway, keys[i % 2]) for i in range(6)]
    statuses = [r.status_code for r in responses]
    assert statuses[:2] == [200, 200]
    assert 429 in statuses
    refused = responses[statuses.index(429)]
    assert "your organisation" in refused.json()["error"]["message"]
    assert refused.json()["error"]["type"] == "tokens"


def test_a_spent_monthly_budget_is_a_402(live_gateway: LiveGateway, transactional_db: None) -> None:
    org = create_organization(name="Budgeted org")
    org.monthly_budget_usd = Decimal("10.00")
    org.save()
    key = create_api_key(organization=org, name="spender").plaintext
    assert _post(live_gateway, key, "solo").status_code == 200  # priced at $1 a token: over $10 at once
    refused = _post(live_gateway, key, "solo")
    assert refused.status_code == 402
    assert refused.json()["error"]["code"] == "budget_exceeded"


def test_an_unreachable_redis_never_fails_the_client(live_gateway: LiveGateway, limited_key: str) -> None:
    working = live_gateway.runtime.limiter
    live_gateway.runtime.limiter = Limiter("redis://127.0.0.1:1/0")
    try:
        assert all(_post(live_gateway, limited_key).status_code == 200 for _ in range(4))
    finally:
        live_gateway.runtime.limiter = working

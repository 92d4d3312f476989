"""Limiter accounting: validated budgets, n choices, the charged minute, TTLs, and spend rebuilt
from Postgres when Redis loses it."""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal

import httpx
import pytest
import redis
from django.conf import settings

from accounts.services import create_api_key, create_organization
from gateway.limits import Limiter, Limits, _month
from tests.proxy.conftest import LiveGateway, hi

PREFIX = settings.CACHES["default"].get("KEY_PREFIX", "gw")


def _post(gw: LiveGateway, key: str, body: dict[str, object]) -> httpx.Response:
    headers = {"authorization": f"Bearer {key}"}
    return httpx.post(f"{gw.url}/v1/chat/completions", json=body, timeout=10, headers=headers)


@pytest.mark.parametrize("field", ["max_tokens", "max_completion_tokens"])
@pytest.mark.parametrize(("value", "code"), [(-500, "integer_below_min_value"), (0, "integer_below_min_value"),
                                             (2**40, "integer_above_max_value")])  # fmt: skip
def test_a_negative_zero_or_huge_completion_budget_is_a_400(gw: LiveGateway, field: str, value: int, code: str) -> None:
    response = gw.post(hi(**{field: value}))
    assert response.status_code == 400
    assert response.json()["error"]["param"] == field
    assert response.json()["error"]["code"] == code


def test_every_requested_choice_counts_against_the_token_limit(
    live_gateway: LiveGateway, transactional_db: None
) -> None:
    org = create_organization(name="Choices")
    created = create_api_key(organization=org, name="n-choices")
    created.api_key.tpm_limit = 100
    created.api_key.save()
    refused = _post(live_gateway, created.plaintext, hi(max_tokens=30, n=4))
    assert refused.status_code == 429
    assert refused.json()["error"]["type"] == "tokens"
    assert _post(live_gateway, created.plaintext, hi(max_tokens=30, n=1)).status_code == 200


def _redis() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL)


def test_settling_corrects_the_minute_that_was_charged_and_leaves_no_key_without_ttl() -> None:
    limiter = Limiter(settings.REDIS_URL, prefix=f"{PREFIX}-t{time.time_ns()}")
    scope = Limits("key:settle-test", tpm=1000)

    async def admit_then_settle_next_minute() -> int:
        verdict = await limiter.check([scope], 100)
        # The correction goes to the minute that was charged, and a fresh key gets a TTL too.
        await limiter.settle([scope], verdict.window, 100, 30, 0)
        await limiter.settle([Limits("key:settle-fresh", tpm=1000)], verdict.window + 5, 0, 7, 0)
        await limiter.aclose()
        return verdict.window

    window = asyncio.run(admit_then_settle_next_minute())
    client = _redis()
    assert int(client.get(f"{limiter.prefix}:rl:key:settle-test:{window}:t")) == 30
    fresh = f"{limiter.prefix}:rl:key:settle-fresh:{window + 5}:t"
    assert int(client.get(fresh)) == 7
    assert 0 < client.ttl(fresh) <= 120


def _posts_until_402(gw: LiveGateway, key: str) -> list[int]:
    statuses: list[int] = []
    for _ in range(10):
        statuses.append(_post(gw, key, hi("solo")).status_code)
        if statuses[-1] == 402:
            break
        time.sleep(0.2)  # the attempt row reaches Postgres, the spend reaches Redis
    return statuses


@pytest.mark.parametrize("owner", ["org", "key"])
def test_a_lost_spend_counter_is_rebuilt_from_postgres(
    live_gateway: LiveGateway, transactional_db: None, owner: str
) -> None:
    org = create_organization(name="Redis forgot")
    created = create_api_key(organization=org, name="spender")
    budgeted = org if owner == "org" else created.api_key
    budgeted.monthly_budget_usd = Decimal("50.00")  # "solo" costs $1 a token: about $21 a request
    budgeted.save()
    key = created.plaintext
    first = _posts_until_402(live_gateway, key)
    assert first[-1] == 402 and len(first) >= 3, first
    counter = f"{PREFIX}:spend:{owner}:{budgeted.pk}:{_month(time.time())}"
    client = _redis()
    spent = int(client.get(counter))
    client.delete(counter)  # as a Redis restart without persistence would
    again = _posts_until_402(live_gateway, key)
    # One request may pass while the counter is rebuilt; starting from zero would take as many as before.
    assert again[-1] == 402 and len(again) <= 2, again
    assert int(client.get(counter)) >= spent

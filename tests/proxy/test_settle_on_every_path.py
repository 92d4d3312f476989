"""Spend and tokens are counted on every way a request ends, so no client can dodge its budget."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
import redis
from django.conf import settings

from accounts.models import Organization
from accounts.services import create_api_key, create_organization
from gateway.asgi import GatewayApp
from gateway.conf.loader import parse_config
from gateway.limits import _month
from monitoring.models import Attempt
from gateway.runtime import build_runtime
from tests.live import LiveServer
from tests.proxy import conftest
from tests.proxy.conftest import LiveGateway, hi


def _spend_micros(org: Organization) -> int:
    prefix = settings.CACHES["default"].get("KEY_PREFIX", "gw")
    client = redis.Redis.from_url(settings.REDIS_URL)
    return int(client.get(f"{prefix}:spend:org:{org.pk}:{_month(time.time())}") or 0)


def _logged_cost_micros(org: Organization) -> int:
    total = sum((row.cost_usd or Decimal(0)) for row in Attempt.objects.filter(org_id=org.pk))
    return round(total * 1_000_000)


def _open_and_leave_after_first_chunk(gw: LiveGateway, key: str) -> int:
    with httpx.stream(
        "POST",
        f"{gw.url}/v1/chat/completions",
        json=hi("solo", stream=True),
        headers={"authorization": f"Bearer {key}"},
        timeout=10,
    ) as response:
        if response.status_code != 200:
            response.read()
            return response.status_code
        for _ in response.iter_raw():
            break
    return 200


@pytest.fixture
def budgeted(live_gateway: LiveGateway, transactional_db: None) -> tuple[Organization, str]:
    org = create_organization(name="Leaves early")
    # "solo" costs $1 a token: each abandoned stream costs about $10, so this is a few requests' worth.
    org.monthly_budget_usd = Decimal("40.00")
    org.save()
    return org, create_api_key(organization=org, name="leaver").plaintext


def test_a_client_that_leaves_every_stream_after_the_first_chunk_still_meets_its_budget(
    live_gateway: LiveGateway, budgeted: tuple[Organization, str]
) -> None:
    org, key = budgeted
    live_gateway.sim.set_fault("sim-d", "solo", inter_token=0.2, tokens=100)
    statuses = []
    for _ in range(10):
        statuses.append(_open_and_leave_after_first_chunk(live_gateway, key))
        if statuses[-1] == 402:
            break
        time.sleep(0.3)  # settlement runs just after the disconnect
    live_gateway.sim.clear_faults()
    assert statuses[-1] == 402, statuses
    assert 2 <= len(statuses) <= 8
    deadline = time.monotonic() + 5
    while _spend_micros(org) != _logged_cost_micros(org) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _spend_micros(org) == _logged_cost_micros(org) > 0


class _SendFailsLikeAGoneClient:
    """Some servers (granian) raise from send() once the client is gone; uvicorn drops quietly."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        async def failing_send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                raise OSError("client disconnected")
            await send(message)

        await self.app(scope, receive, failing_send if scope["type"] == "http" else send)


@pytest.fixture
def gone_client_gateway(live_gateway: LiveGateway) -> Iterator[str]:
    runtime = build_runtime(parse_config(conftest.test_config_yaml(live_gateway.sim), source="gone.yaml"))
    server = LiveServer(_SendFailsLikeAGoneClient(GatewayApp(runtime))).start()
    try:
        yield server.url
    finally:
        server.stop()


def test_a_non_streaming_answer_is_counted_when_sending_it_fails(
    gone_client_gateway: str, budgeted: tuple[Organization, str]
) -> None:
    org, key = budgeted
    with contextlib.suppress(httpx.HTTPError):
        httpx.post(
            f"{gone_client_gateway}/v1/chat/completions",
            json=hi("solo"),
            headers={"authorization": f"Bearer {key}"},
            timeout=10,
        )
    deadline = time.monotonic() + 5
    while (_spend_micros(org) == 0 or _spend_micros(org) != _logged_cost_micros(org)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _spend_micros(org) == _logged_cost_micros(org) > 0


def test_a_stream_cut_after_content_is_charged_what_was_generated(
    live_gateway: LiveGateway, budgeted: tuple[Organization, str]
) -> None:
    org, key = budgeted
    live_gateway.sim.set_fault("sim-d", "solo", kind="cut_after", after=3)
    try:
        with httpx.stream(
            "POST",
            f"{live_gateway.url}/v1/chat/completions",
            json=hi("solo", stream=True),
            headers={"authorization": f"Bearer {key}"},
            timeout=10,
        ) as response:
            raw = response.read()
    finally:
        live_gateway.sim.clear_faults()
    assert b"stream_interrupted" in raw
    deadline = time.monotonic() + 5
    while (_spend_micros(org) == 0 or _spend_micros(org) != _logged_cost_micros(org)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _spend_micros(org) == _logged_cost_micros(org) > 0

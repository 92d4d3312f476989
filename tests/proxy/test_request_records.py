"""Every request the gateway accepted gets exactly one request row, with the status its client saw."""

from __future__ import annotations

import time
import uuid
from decimal import Decimal
from typing import Any

import httpx
import pytest

from accounts.services import create_api_key, create_organization
from gateway.events.records import AttemptEvent, RequestEvent
from monitoring.models import Attempt, Request
from tests.proxy.conftest import LiveGateway, hi


def _post(gw: LiveGateway, body: dict[str, Any], key: str | None = None) -> tuple[httpx.Response, str]:
    request_id = f"rec-{uuid.uuid4().hex[:12]}"
    headers = {"authorization": f"Bearer {key or gw.key}", "x-request-id": request_id}
    response = httpx.post(f"{gw.url}/v1/chat/completions", json=body, timeout=20, headers=headers)
    return response, request_id


def _the_row(request_id: str) -> Request:
    deadline = time.monotonic() + 5
    while not Request.objects.filter(request_id=request_id).exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)  # a second row, if one were written, would land in the same flush
    rows = list(Request.objects.filter(request_id=request_id))
    assert len(rows) == 1, rows
    return rows[0]


def test_a_request_that_fails_on_every_deployment_is_one_502_row(gw: LiveGateway) -> None:
    response, request_id = _post(gw, hi("dead/refused-first"))
    assert response.status_code == 502
    row = _the_row(request_id)
    assert (row.status, row.outcome, row.error_code) == (502, "connect_error", "upstream_error")
    # A refused connection is retried once on a lone deployment: two attempts, both failed.
    assert (row.attempts, row.failovers, row.rescued) == (2, 2, False)
    assert (row.model, row.provider, row.inbound) == ("", "", "openai.chat")
    assert Attempt.objects.filter(request_id=request_id).count() == 2


def test_a_request_with_every_deployment_cooling_down_is_a_gateway_429_row_with_no_attempt(gw: LiveGateway) -> None:
    gw.sim.set_fault("sim-d", "solo", status=429, retry_after="30")
    first, first_id = _post(gw, hi("solo"))
    second, second_id = _post(gw, hi("solo"))
    assert (first.status_code, second.status_code) == (429, 429)
    assert (_the_row(first_id).attempts, _the_row(first_id).outcome) == (1, "rate_limited")
    row = _the_row(second_id)
    assert (row.status, row.outcome, row.error_code, row.attempts) == (429, "rate_limited", "rate_limit_exceeded", 0)


def test_a_request_refused_by_the_limiter_is_one_429_row(live_gateway: LiveGateway, transactional_db: None) -> None:
    org = create_organization(name="Records: rpm")
    created = create_api_key(organization=org, name="one-a-minute")
    created.api_key.rpm_limit = 1
    created.api_key.save()
    assert _post(live_gateway, hi(), created.plaintext)[0].status_code == 200
    refused, request_id = _post(live_gateway, hi(), created.plaintext)
    assert refused.status_code == 429
    row = _the_row(request_id)
    assert (row.status, row.outcome, row.error_code, row.attempts) == (429, "limited", "rate_limit_exceeded", 0)
    assert (row.org_id, row.key_id) == (org.pk, created.api_key.pk)


def test_a_request_over_budget_is_one_402_row(live_gateway: LiveGateway, transactional_db: None) -> None:
    org = create_organization(name="Records: budget")
    org.monthly_budget_usd = Decimal("10.00")
    org.save()
    key = create_api_key(organization=org, name="spender").plaintext
    assert _post(live_gateway, hi("solo"), key)[0].status_code == 200  # $1 a token: over $10 at once
    for _ in range(20):  # the spend is settled just after the answer
        time.sleep(0.1)
        refused, request_id = _post(live_gateway, hi("solo"), key)
        if refused.status_code != 200:
            break
    assert refused.status_code == 402
    row = _the_row(request_id)
    assert (row.status, row.outcome, row.error_code, row.attempts) == (402, "limited", "budget_exceeded", 0)


@pytest.mark.parametrize("stream", [False, True])
def test_a_request_rescued_by_failover_is_one_200_row_marked_rescued(gw: LiveGateway, stream: bool) -> None:
    gw.sim.set_fault("sim-a", status=500)
    response, request_id = _post(gw, hi(stream=stream))
    assert response.status_code == 200
    row = _the_row(request_id)
    assert (row.status, row.outcome, row.error_code) == (200, "ok", "")
    assert (row.attempts, row.failovers, row.rescued, row.stream) == (2, 1, True, stream)
    assert (row.model, row.provider) == ("chat", "sim-b")
    assert row.ttft_ms is not None and 0 < row.ttft_ms <= row.latency_ms
    assert row.prompt_tokens and row.completion_tokens
    attempts = Attempt.objects.filter(request_id=request_id).order_by("attempt")
    assert [a.outcome for a in attempts] == ["server_error", "ok"]


def test_an_anthropic_request_is_recorded_with_its_inbound_api(gw: LiveGateway) -> None:
    request_id = f"rec-{uuid.uuid4().hex[:12]}"
    response = httpx.post(
        f"{gw.url}/v1/messages",
        json={"model": "chat", "max_tokens": 50, "messages": [{"role": "user", "content": "hi"}]},
        headers={"x-api-key": gw.key, "x-request-id": request_id},
        timeout=20,
    )
    assert response.status_code == 200
    row = _the_row(request_id)
    assert (row.inbound, row.status, row.outcome, row.provider) == ("anthropic.messages", 200, "ok", "sim-a")


def test_a_request_with_a_bad_key_is_not_an_accepted_request(gw: LiveGateway) -> None:
    response, request_id = _post(gw, hi(), "sk-gw-not-a-key")
    assert response.status_code == 401
    time.sleep(0.5)
    assert not Request.objects.filter(request_id=request_id).exists()


def test_the_event_records_are_the_tables_columns() -> None:
    for event, model in ((AttemptEvent, Attempt), (RequestEvent, Request)):
        # The composite primary key (id, started_at) is made of two of these columns, not a column.
        fields = {f.name for f in model._meta.get_fields() if f.name != "pk"}
        assert set(event.__dataclass_fields__) == fields

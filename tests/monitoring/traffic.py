"""Raw traffic for monitoring tests: request and attempt rows written as the event log writes them."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from gateway.events.outcomes import Outcome
from monitoring.models import Attempt, Request


def request(
    at: datetime,
    *,
    org_id: int = 1,
    key_id: int = 1,
    model: str = "gpt-x",
    outcome: Outcome = Outcome.OK,
    latency_ms: float = 100.0,
    ttft_ms: float | None = None,
    inbound: str = "openai.chat",
    failovers: int = 0,
    rescued: bool = False,
    tokens: tuple[int, int] = (10, 5),
    cost: str = "0.000100",
) -> Request:
    return Request(
        id=uuid.uuid4(),
        request_id=uuid.uuid4().hex,
        started_at=at,
        org_id=org_id,
        key_id=key_id,
        inbound=inbound,
        requested_model=model,
        model=model if outcome is Outcome.OK else "",
        provider="sim",
        stream=ttft_ms is not None,
        status=200 if outcome is Outcome.OK else 502,
        outcome=outcome.value,
        error_code="" if outcome is Outcome.OK else outcome.value,
        attempts=1 + failovers,
        failovers=failovers,
        rescued=rescued,
        latency_ms=latency_ms,
        ttft_ms=ttft_ms,
        prompt_tokens=tokens[0],
        completion_tokens=tokens[1],
        cost_usd=Decimal(cost),
    )


def attempt(
    at: datetime,
    *,
    deployment: str = "dep-a",
    outcome: Outcome = Outcome.OK,
    latency_ms: float = 100.0,
    ttft_ms: float | None = None,
    final: bool | None = None,
    rescued: bool = False,
    org_id: int | None = 1,
) -> Attempt:
    return Attempt(
        id=uuid.uuid4(),
        request_id=uuid.uuid4().hex,
        attempt=1,
        started_at=at,
        org_id=org_id,
        key_id=1,
        requested_model="gpt-x",
        model="gpt-x",
        provider="sim",
        deployment=deployment,
        stream=ttft_ms is not None,
        outcome=outcome.value,
        status_code=200 if outcome is Outcome.OK else 502,
        error="",
        latency_ms=latency_ms,
        ttft_ms=ttft_ms,
        prompt_tokens=10,
        completion_tokens=5,
        cached_tokens=0,
        rescued=rescued,
        final=(outcome is Outcome.OK) if final is None else final,
        malformed_events=0,
        cost_usd=Decimal("0.000100"),
    )


def save(*rows: Request | Attempt) -> None:
    Request.objects.bulk_create([r for r in rows if isinstance(r, Request)])
    Attempt.objects.bulk_create([r for r in rows if isinstance(r, Attempt)])

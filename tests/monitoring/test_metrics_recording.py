"""Finished events become metrics: the hot path only lists them, a drain folds them in per label set."""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import REGISTRY
from pytest_django.fixtures import Settings

from gateway import metrics
from gateway.events.log import EventLog
from gateway.events.records import AttemptEvent, RequestEvent


def _request(provider: str, model: str, **fields: Any) -> RequestEvent:
    values: dict[str, Any] = dict(
        id=uuid.uuid4(), request_id=uuid.uuid4().hex, started_at=time.time(), org_id=1, key_id=1,
        inbound="openai.chat", requested_model=model, model=model, provider=provider, stream=False, status=200,
        outcome="ok", error_code="", attempts=1, failovers=0, rescued=False, latency_ms=100.0, ttft_ms=None,
        prompt_tokens=1, completion_tokens=1, cost_usd=None,
    )  # fmt: skip
    return RequestEvent(**{**values, **fields})


def _attempt(provider: str, model: str, **fields: Any) -> AttemptEvent:
    values: dict[str, Any] = dict(
        id=uuid.uuid4(), request_id=uuid.uuid4().hex, attempt=1, started_at=time.time(), org_id=1, key_id=1,
        requested_model=model, model=model, provider=provider, deployment=f"{provider}/{model}", stream=True,
        outcome="ok", status_code=None, error="", latency_ms=100.0, ttft_ms=None, prompt_tokens=1,
        completion_tokens=1, cached_tokens=None, rescued=False, final=True, malformed_events=0,
    )  # fmt: skip
    return AttemptEvent(**{**values, **fields})


def _value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_latencies_land_in_the_buckets_observe_would_put_them_in() -> None:
    provider = f"p-{uuid.uuid4().hex[:6]}"
    latencies_s = [0.03, 0.05, 0.07, 0.3, 400.0]  # 0.05 is a bucket's upper bound: it belongs to that bucket
    metrics.fold([_request(provider, "m", latency_ms=s * 1000, ttft_ms=s * 500) for s in latencies_s])
    name, labels = "gateway_request_duration_seconds", {"provider": provider, "model": "m"}
    assert [_value(f"{name}_bucket", **labels, le=le) for le in ("0.05", "0.1", "0.5", "300.0", "+Inf")] == [
        2, 3, 4, 4, 5
    ]  # fmt: skip
    assert _value(f"{name}_count", **labels) == 5
    assert _value(f"{name}_sum", **labels) == pytest.approx(sum(latencies_s))
    assert _value("gateway_request_ttft_seconds_count", **labels) == 5
    assert _value("gateway_request_ttft_seconds_sum", **labels) == pytest.approx(sum(latencies_s) / 2)
    assert _value("gateway_requests_total", **labels, outcome="ok") == 5


def test_requests_count_failovers_rescues_and_the_limiters_refusals() -> None:
    provider = f"p-{uuid.uuid4().hex[:6]}"
    before = {reason: _value("gateway_limiter_refusals_total", reason=reason) for reason in ("budget", "rate_limit")}
    metrics.fold(
        [
            _request(provider, "m", failovers=2, rescued=True, attempts=3),
            _request("", "", outcome="server_error", status=502, failovers=1, attempts=1),
            _request("", "", outcome="limited", status=402, error_code="budget_exceeded", attempts=0),
            _request("", "", outcome="limited", status=429, error_code="rate_limit_exceeded", attempts=0),
            _attempt(provider, "m", outcome="server_error", final=False, ttft_ms=None, latency_ms=20.0),
            _attempt(provider, "m", attempt=2, ttft_ms=250.0, latency_ms=900.0),
        ]
    )
    labels = {"provider": provider, "model": "m"}
    assert _value("gateway_failovers_total", **labels) == 2
    assert _value("gateway_rescued_requests_total", **labels) == 1
    assert _value("gateway_limiter_refusals_total", reason="budget") == before["budget"] + 1
    assert _value("gateway_limiter_refusals_total", reason="rate_limit") == before["rate_limit"] + 1
    deployment = f"{provider}/m"
    assert _value("gateway_attempts_total", **labels, deployment=deployment, outcome="server_error") == 1
    assert _value("gateway_attempts_total", **labels, deployment=deployment, outcome="ok") == 1
    assert _value("gateway_attempt_duration_seconds_count", **labels) == 2
    assert _value("gateway_attempt_ttft_seconds_count", **labels) == 1
    assert _value("gateway_attempt_ttft_seconds_sum", **labels) == pytest.approx(0.25)


def test_the_event_log_hands_events_to_the_drain_only_while_metrics_are_on(settings: Settings, tmp_path: Path) -> None:
    log = EventLog(flush_seconds=60, spool_dir=tmp_path)
    provider = f"p-{uuid.uuid4().hex[:6]}"

    async def serve(count: int) -> None:
        metrics.start()
        for _ in range(count):
            log.record(_request(provider, "m"))
        await metrics.stop()  # the last drain happens at shutdown

    settings.METRICS_TOKEN = ""
    asyncio.run(serve(3))
    assert _value("gateway_requests_total", provider=provider, model="m", outcome="ok") == 0
    assert metrics._pending == []
    settings.METRICS_TOKEN = "metrics-token-for-tests-0123456789"
    asyncio.run(serve(4))
    assert _value("gateway_requests_total", provider=provider, model="m", outcome="ok") == 4
    assert metrics.note is metrics._ignore  # stopped: nothing more is kept

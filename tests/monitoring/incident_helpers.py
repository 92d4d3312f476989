"""Test data for incidents and alerts: requests, attempts and deployment state changes at chosen times."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from accounts.models import Organization
from monitoring import rollups
from monitoring.models import Attempt, DeploymentStateChange, Request

# Frozen time: every service takes ``now``, and the tests pass this (far from the real clock, so rows other
# tests commit at the real time never fall in a window).
NOW = datetime(2031, 3, 10, 12, 0, tzinfo=UTC)


def make_request(
    org: Organization,
    at: datetime,
    *,
    outcome: str = "ok",
    rescued: bool = False,
    inbound: str = "openai.chat",
    request_id: str | None = None,
) -> Request:
    return Request.objects.create(
        id=uuid.uuid4(),
        request_id=request_id or uuid.uuid4().hex,
        started_at=at,
        org_id=org.pk,
        key_id=1,
        inbound=inbound,
        requested_model="chat",
        model="chat" if outcome == "ok" else "",
        provider="sim-b" if outcome == "ok" else "",
        stream=False,
        status=200 if outcome == "ok" else 502,
        outcome=outcome,
        error_code="",
        attempts=2 if rescued else 1,
        failovers=1 if rescued else 0,
        rescued=rescued,
        latency_ms=10.0,
        ttft_ms=None,
        prompt_tokens=1,
        completion_tokens=1,
        cost_usd=None,
    )


def make_requests(
    org: Organization, at: datetime, *, ok: int = 0, failed: int = 0, outcome: str = "server_error"
) -> None:
    for i in range(ok):
        make_request(org, at + timedelta(milliseconds=i))
    for i in range(failed):
        make_request(org, at + timedelta(milliseconds=i), outcome=outcome)


def make_attempt(org: Organization, at: datetime, *, deployment: str, request_id: str, outcome: str = "ok") -> Attempt:
    return Attempt.objects.create(
        id=uuid.uuid4(),
        request_id=request_id,
        attempt=1,
        started_at=at,
        org_id=org.pk,
        key_id=1,
        requested_model="chat",
        model="chat",
        provider=deployment.split("/")[0],
        deployment=deployment,
        stream=False,
        outcome=outcome,
        status_code=None if outcome == "ok" else 503,
        latency_ms=5.0,
        final=outcome == "ok",
    )


def routed(org: Organization, at: datetime, *, through: str, rescued_by: str | None = None) -> None:
    """One request with a failed attempt through ``through``; another deployment rescues it if named."""
    request = make_request(org, at, outcome="ok" if rescued_by else "server_error", rescued=rescued_by is not None)
    make_attempt(org, at, deployment=through, request_id=request.request_id, outcome="server_error")
    if rescued_by:
        make_attempt(org, at + timedelta(milliseconds=50), deployment=rescued_by, request_id=request.request_id)


def state_change(deployment: str, at: datetime, old: str, new: str, reason: str = "") -> DeploymentStateChange:
    return DeploymentStateChange.objects.create(
        deployment=deployment, provider=deployment.split("/")[0], at=at, old=old, new=new, reason=reason
    )


def rolled_up(now: datetime) -> datetime:
    """Roll the last 7 hours of raw traffic up (what the minutely rollup job does), then give ``now`` back:
    incidents and burn-rate alerts read the rollups only."""
    rollups.roll_span(start=now - timedelta(hours=7), end=now)
    return now

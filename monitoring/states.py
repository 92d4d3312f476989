"""Deployment health states: up, degraded, down, unknown, and the one machine that moves between them.

The observation comes from probes and live traffic together (``observe``); a new state is taken only
once it has been seen for a confirmation period (worse) or a recovery period (better), so one blip does
not flap it, and the change is then dated from when it was first seen, so uptime stays exact.
``decide`` is pure (time is an argument); ``save`` writes the decision with a conditional UPDATE of the
deployment's current-state row, so two workers evaluating at once write one change row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction

from monitoring.models import DeploymentState, DeploymentStateChange, DeploymentStatus, Probe

State = DeploymentState
_SEVERITY = {State.UP: 0, State.DEGRADED: 1, State.DOWN: 2}


@dataclass(frozen=True)
class Thresholds:
    error_rate: float = 0.25  # failures / attempts in the window, above which a deployment is degraded
    min_requests: int = 5  # fewer live attempts than this say nothing about the error rate
    ttft_ms: float = 10_000.0  # mean time to first token above which it is degraded
    probe_failures: int = 3  # failed probes in a row that make it down
    confirm: timedelta = timedelta(seconds=30)  # a worse state must last this long
    recover: timedelta = timedelta(seconds=60)  # a better one (or no data) this long


THRESHOLDS = Thresholds()


@dataclass(frozen=True)
class Evidence:
    breaker_open: bool  # the shared breaker (gateway.routing.shared) is open
    probe_failures: int  # failed probes in a row, newest first (misconfigured ones skipped)
    probed: bool  # any probe counted in the window
    requests: int  # live attempts in the window that say something about the deployment
    failures: int
    ttft_ms: float | None  # mean over the window's successes


@dataclass(frozen=True)
class Current:
    state: str
    since: datetime
    pending: str
    pending_since: datetime | None


@dataclass(frozen=True)
class Decision:
    state: str
    since: datetime
    reason: str
    pending: str
    pending_since: datetime | None
    changed: bool


def observe(evidence: Evidence, thresholds: Thresholds = THRESHOLDS) -> tuple[State, str]:
    if evidence.breaker_open:
        return State.DOWN, "circuit breaker open"
    if evidence.probe_failures >= thresholds.probe_failures:
        return State.DOWN, f"{evidence.probe_failures} probes failed in a row"
    if evidence.requests >= thresholds.min_requests:
        rate = evidence.failures / evidence.requests
        if rate > thresholds.error_rate:
            return State.DEGRADED, f"error rate {int(rate * 100)}% over {evidence.requests} attempts"
    if evidence.ttft_ms is not None and evidence.ttft_ms > thresholds.ttft_ms:
        return State.DEGRADED, f"time to first token {evidence.ttft_ms / 1000:.1f} s"
    if evidence.requests or evidence.probed:
        return State.UP, "probes and traffic healthy"
    return State.UNKNOWN, "no probe and no traffic"


def _period(old: str, new: State, thresholds: Thresholds) -> timedelta:
    if old == State.UNKNOWN:
        return timedelta(0)  # the first data there is
    if new == State.UNKNOWN or _SEVERITY[new] < _SEVERITY[State(old)]:
        return thresholds.recover
    return thresholds.confirm


def decide(current: Current, evidence: Evidence, now: datetime, thresholds: Thresholds = THRESHOLDS) -> Decision:
    observed, reason = observe(evidence, thresholds)
    if observed == current.state:
        return Decision(current.state, current.since, reason, "", None, changed=False)
    seen_since = current.pending_since if current.pending == observed and current.pending_since else now
    if now - seen_since >= _period(current.state, observed, thresholds):
        return Decision(observed, seen_since, reason, "", None, changed=True)
    return Decision(current.state, current.since, reason, observed, seen_since, changed=False)


def save(*, status: DeploymentStatus, decision: Decision) -> bool:
    """Write the decision if the row is still as read; True if this call recorded a state change."""
    with transaction.atomic():
        updated = DeploymentStatus.objects.filter(
            pk=status.pk, state=status.state, since=status.since, pending=status.pending
        ).update(
            state=decision.state,
            since=decision.since,
            reason=decision.reason[:300] if decision.changed else status.reason,
            pending=decision.pending,
            pending_since=decision.pending_since,
        )
        if updated != 1 or not decision.changed:
            return False
        DeploymentStateChange.objects.create(
            deployment=status.deployment,
            provider=status.provider,
            at=decision.since,
            old=status.state,
            new=decision.state,
            reason=decision.reason[:300],
        )
        return True


@dataclass(frozen=True)
class DeploymentReport:
    deployment: str
    provider: str
    state: str
    since: datetime | None
    reason: str
    last_probe_at: datetime | None
    last_probe_kind: str | None
    last_probe_result: str | None
    last_probe_detail: str
    cooldown_until: datetime | None
    breaker_opens_today: int


def deployment_reports(
    *, deployments: dict[str, str], now: datetime, shared_state: SharedView
) -> list[DeploymentReport]:
    """Each deployment (id -> provider) as the API shows it; a deployment never evaluated is unknown."""
    statuses = {s.deployment: s for s in DeploymentStatus.objects.filter(deployment__in=list(deployments))}
    last = {
        p.deployment: p
        for p in Probe.objects.filter(deployment__in=list(deployments))
        .order_by("deployment", "-at", "-id")
        .distinct("deployment")
    }
    reports = []
    for deployment, provider in sorted(deployments.items()):
        status, probe = statuses.get(deployment), last.get(deployment)
        cooldown = shared_state.cooldowns.get(deployment)
        reports.append(
            DeploymentReport(
                deployment=deployment,
                provider=provider,
                state=status.state if status else State.UNKNOWN,
                since=status.since if status else None,
                reason=status.reason if status else "not evaluated yet",
                last_probe_at=probe.at if probe else None,
                last_probe_kind=probe.kind if probe else None,
                last_probe_result=probe.result if probe else None,
                last_probe_detail=probe.detail if probe else "",
                cooldown_until=cooldown if cooldown and cooldown > now else None,
                breaker_opens_today=shared_state.opens_today.get(deployment, 0),
            )
        )
    return reports


@dataclass(frozen=True)
class SharedView:
    """What the shared health in Redis says (empty when Redis cannot be read)."""

    cooldowns: dict[str, datetime]
    opens_today: dict[str, int]

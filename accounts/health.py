"""Provider health per deployment, as last seen in the attempt log.

Stopgap: each gateway worker keeps its own circuit breaker (gateway.breaker) in memory, which
this process cannot read. Until the breakers share their state, this reports what the attempt log
shows for every deployment: all organisations' traffic, since a breaker sees all of it too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Q
from django.utils import timezone

from accounts.providers import gateway_config
from gateway.models import Attempt

SOURCE = "attempt_log"
WINDOW = timedelta(minutes=5)
LOOKBACK = timedelta(hours=24)
MAX_DEPLOYMENTS = 500
# Outcomes that say nothing about the deployment's health (the client's doing, or ours).
NEUTRAL = ("client_error", "context_length", "cancelled", "client_disconnected")


@dataclass(frozen=True)
class DeploymentHealth:
    deployment: str
    provider: str
    status: str  # ok, degraded (failures in the window), failing (the last attempt failed), unknown
    last_outcome: str | None
    last_attempt_at: datetime | None
    last_success_at: datetime | None
    attempts_5m: int
    failures_5m: int


def _failure() -> Q:
    return ~Q(outcome="ok") & ~Q(outcome__in=NEUTRAL)


def deployment_health(*, now: datetime | None = None) -> list[DeploymentHealth]:
    """The configured deployments (or, without a readable config, those seen in the last hour)."""
    now = now or timezone.now()
    since = now - LOOKBACK
    config = gateway_config()
    if config is not None:
        known = {d.id: d.provider.name for d in config.deployments()}
    else:
        seen = (
            Attempt.objects.filter(started_at__gte=now - timedelta(hours=1))
            .values_list("deployment", "provider")
            .distinct()
        )
        known = dict(seen[:MAX_DEPLOYMENTS])
    window = {
        row["deployment"]: row
        for row in Attempt.objects.filter(deployment__in=list(known), started_at__gte=now - WINDOW)
        .values("deployment")
        .annotate(attempts=Count("id"), failures=Count("id", filter=_failure()))
    }
    report = []
    for deployment, provider in sorted(known.items()):
        recent = Attempt.objects.filter(deployment=deployment, started_at__gte=since).order_by("-started_at")
        last = recent.values("outcome", "started_at").first()
        success = recent.filter(outcome="ok").values_list("started_at", flat=True).first()
        counts = window.get(deployment, {})
        failures = int(counts.get("failures", 0))
        if last is None:
            status = "unknown"
        elif last["outcome"] != "ok" and last["outcome"] not in NEUTRAL:
            status = "failing"
        elif failures:
            status = "degraded"
        else:
            status = "ok"
        report.append(
            DeploymentHealth(
                deployment=deployment,
                provider=provider,
                status=status,
                last_outcome=last["outcome"] if last else None,
                last_attempt_at=last["started_at"] if last else None,
                last_success_at=success,
                attempts_5m=int(counts.get("attempts", 0)),
                failures_5m=failures,
            )
        )
    return report

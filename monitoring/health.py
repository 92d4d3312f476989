"""Provider health per deployment, as last seen in the attempt log.

Stopgap: each gateway worker keeps its own circuit breaker (gateway.routing.health) in memory, which
this process cannot read. Until the breakers share their state, this reports what the attempt log
shows for every deployment. The state (ok, degraded, failing) comes from all traffic, as a breaker
sees it; every count and time shown comes from the asking organisation's own traffic only, so no
member learns another tenant's volumes or activity.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import connection
from django.db.models import Count, Q
from django.utils import timezone

from gateway.events.outcomes import Kind, Outcome, kind_of
from monitoring.models import Attempt
from providers.configured import gateway_config

SOURCE = "attempt_log"
WINDOW = timedelta(minutes=5)
LOOKBACK = timedelta(hours=24)
MAX_DEPLOYMENTS = 500
# Health display counts a rate limit as a failure (the breaker only cools down on one); any
# outcome this vocabulary does not know is a failure too.
NOT_FAILURES = tuple(sorted(o.value for o in Outcome if kind_of(o) in (Kind.SUCCESS, Kind.NEUTRAL)))


@dataclass(frozen=True)
class DeploymentHealth:
    deployment: str
    provider: str
    status: str  # ok, degraded (failures in the window), failing (the last attempt failed), unknown
    # The rest: the organisation's own traffic.
    last_outcome: str | None
    last_attempt_at: datetime | None
    last_success_at: datetime | None
    attempts_5m: int
    failures_5m: int


def _failure() -> Q:
    return ~Q(outcome__in=NOT_FAILURES)


def is_failure(outcome: str) -> bool:
    return outcome not in NOT_FAILURES


_LATEST = (
    "SELECT d.name, last.outcome, last.started_at, mine.outcome, mine.started_at, ok.started_at"
    " FROM unnest(%(names)s::text[]) AS d(name)"
    " LEFT JOIN LATERAL (SELECT outcome, started_at FROM {table} a WHERE a.deployment = d.name"
    "   AND a.started_at >= %(since)s ORDER BY a.started_at DESC LIMIT 1) last ON true"
    " LEFT JOIN LATERAL (SELECT outcome, started_at FROM {table} a WHERE a.deployment = d.name"
    "   AND a.started_at >= %(since)s AND a.org_id = %(org)s ORDER BY a.started_at DESC LIMIT 1) mine ON true"
    " LEFT JOIN LATERAL (SELECT started_at FROM {table} a WHERE a.deployment = d.name"
    "   AND a.started_at >= %(since)s AND a.org_id = %(org)s AND a.outcome = 'ok'"
    "   ORDER BY a.started_at DESC LIMIT 1) ok ON true"
)


def _known_deployments(now: datetime) -> dict[str, str]:
    config = gateway_config()
    if config is not None:
        return {d.id: d.provider.name for d in config.deployments()}
    seen = (
        Attempt.objects.filter(started_at__gte=now - timedelta(hours=1))
        .values_list("deployment", "provider")
        .distinct()
    )
    return dict(seen[:MAX_DEPLOYMENTS])


def _latest(names: list[str], organization_id: int, since: datetime) -> dict[str, tuple[Any, ...]]:
    """Per deployment, in one query: the last outcome of all traffic, and the organisation's own
    last attempt and last success."""
    with connection.cursor() as cursor:
        cursor.execute(
            _LATEST.format(table=Attempt._meta.db_table), {"names": names, "since": since, "org": organization_id}
        )
        return {row[0]: row[1:] for row in cursor.fetchall()}


def _status(last_outcome: str | None, failures: int) -> str:
    if last_outcome is None:
        return "unknown"
    if is_failure(last_outcome):
        return "failing"
    return "degraded" if failures else "ok"


def deployment_health(*, organization_id: int, now: datetime | None = None) -> list[DeploymentHealth]:
    """The configured deployments (or, without a readable config, those seen in the last hour)."""
    now = now or timezone.now()
    known = _known_deployments(now)
    recent = Attempt.objects.filter(deployment__in=list(known), started_at__gte=now - WINDOW)
    failures = dict(
        recent.filter(_failure()).values("deployment").annotate(n=Count("id")).values_list("deployment", "n")
    )
    mine = {
        row["deployment"]: row
        for row in recent.filter(org_id=organization_id)
        .values("deployment")
        .annotate(attempts=Count("id"), failures=Count("id", filter=_failure()))
    }
    latest = _latest(sorted(known), organization_id, now - LOOKBACK)
    report = []
    for deployment, provider in sorted(known.items()):
        last_outcome, _, my_outcome, my_last_at, my_success_at = latest.get(deployment, (None,) * 5)
        counts = mine.get(deployment, {})
        report.append(
            DeploymentHealth(
                deployment=deployment,
                provider=provider,
                status=_status(last_outcome, int(failures.get(deployment, 0))),
                last_outcome=my_outcome,
                last_attempt_at=my_last_at,
                last_success_at=my_success_at,
                attempts_5m=int(counts.get("attempts", 0)),
                failures_5m=int(counts.get("failures", 0)),
            )
        )
    return report

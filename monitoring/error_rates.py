"""An organisation's recent effective error rate: the one place incidents and burn-rate alerts read it.

It reads the raw request table for now; once 5-minute uptime windows land, only this function changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Q

from gateway.events.outcomes import DOWNTIME_OUTCOMES
from gateway.events.records import LOCAL_INBOUNDS
from monitoring.models import Request


@dataclass(frozen=True)
class ErrorCounts:
    requests: int
    failures: int  # requests whose client saw the service fail (gateway.events.outcomes.counts_as_downtime)

    @property
    def rate(self) -> float:
        return self.failures / self.requests if self.requests else 0.0


NO_REQUESTS = ErrorCounts(0, 0)


def error_counts_by_organization(
    *, now: datetime, windows: Sequence[timedelta], organization_id: int | None = None
) -> dict[int, dict[timedelta, ErrorCounts]]:
    """Per organisation with traffic, its requests and failures in each window [now - window, now), in one scan."""
    query = Request.objects.filter(started_at__gte=now - max(windows), started_at__lt=now).exclude(
        inbound__in=LOCAL_INBOUNDS
    )
    if organization_id is not None:
        query = query.filter(org_id=organization_id)
    aggregates = {}
    for i, window in enumerate(windows):
        recent = Q(started_at__gte=now - window)
        aggregates[f"r{i}"] = Count("id", filter=recent)
        aggregates[f"f{i}"] = Count("id", filter=recent & Q(outcome__in=DOWNTIME_OUTCOMES))
    return {
        row["org_id"]: {w: ErrorCounts(row[f"r{i}"], row[f"f{i}"]) for i, w in enumerate(windows)}
        for row in query.values("org_id").annotate(**aggregates)
    }


def first_failure_since(*, organization_id: int, since: datetime, now: datetime) -> datetime | None:
    return (
        Request.objects.filter(
            org_id=organization_id, started_at__gte=since, started_at__lt=now, outcome__in=DOWNTIME_OUTCOMES
        )
        .exclude(inbound__in=LOCAL_INBOUNDS)
        .order_by("started_at")
        .values_list("started_at", flat=True)
        .first()
    )

"""An organisation's recent effective error rate: the one place incidents and burn-rate alerts read it.

It reads the 5-minute uptime windows (monitoring.rollups), never raw requests, so an alert's cost does not
grow with traffic. A span of N windows of 5 minutes is the N most recent complete windows plus the current, partial
one (what has been rolled up of it so far): it covers between 5N and 5N + 5 minutes, so a short
window never starts out empty right after a boundary. Rollups run every minute: the freshest minute may
not be in them yet, and an alert may be up to about a minute late. docs/uptime.md ("Alerts").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db.models import DateTimeField, Exists, ExpressionWrapper, OuterRef, Q, Sum

from monitoring.models import MaintenanceWindow, RequestMinute, UptimeWindow

WINDOW = timedelta(minutes=5)


@dataclass(frozen=True)
class ErrorCounts:
    requests: int
    failures: int  # requests whose client saw the service fail (gateway.events.outcomes.counts_as_downtime)

    @property
    def rate(self) -> float:
        return self.failures / self.requests if self.requests else 0.0


NO_REQUESTS = ErrorCounts(0, 0)


def current_window(now: datetime) -> datetime:
    """The start of the 5-minute window ``now`` is in (windows are aligned to :00, :05 … UTC)."""
    now = now.astimezone(UTC)
    return now.replace(minute=now.minute - now.minute % 5, second=0, microsecond=0)


def span_start(*, now: datetime, window: timedelta) -> datetime:
    """Where a span of ``window`` (a multiple of 5 minutes) starts: ``window`` before the current window."""
    if window % WINDOW or not window:
        raise ValueError(f"alert windows are multiples of 5 minutes, not {window}")
    return current_window(now) - window


def under_maintenance() -> Exists:
    """An uptime window overlapping a maintenance window that applies to its organisation's effective uptime
    (the operator's or its own, for every deployment), as docs/uptime.md leaves such windows out."""
    window_end = ExpressionWrapper(OuterRef("window_start") + WINDOW, output_field=DateTimeField())
    return Exists(
        MaintenanceWindow.objects.filter(
            Q(organization__isnull=True) | Q(organization_id=OuterRef("org_id")),
            deployment="",
            starts_at__lt=window_end,
            ends_at__gt=OuterRef("window_start"),
        )
    )


def error_counts_by_organization(
    *,
    now: datetime,
    windows: Sequence[timedelta],
    organization_id: int | None = None,
    skip_maintenance: bool = False,
) -> dict[int, dict[timedelta, ErrorCounts]]:
    """Per organisation with traffic, its requests and downtime failures over each span, in one query."""
    current = current_window(now)
    query = UptimeWindow.objects.filter(
        model="", window_start__gte=span_start(now=now, window=max(windows)), window_start__lte=current
    )
    if organization_id is not None:
        query = query.filter(org_id=organization_id)
    if skip_maintenance:
        query = query.exclude(under_maintenance())
    aggregates = {}
    for i, window in enumerate(windows):
        recent = Q(window_start__gte=span_start(now=now, window=window))
        aggregates[f"r{i}"] = Sum("requests", filter=recent, default=0)
        aggregates[f"f{i}"] = Sum("downtime_failures", filter=recent, default=0)
    return {
        row["org_id"]: {w: ErrorCounts(row[f"r{i}"], row[f"f{i}"]) for i, w in enumerate(windows)}
        for row in query.values("org_id").annotate(**aggregates)
    }


def first_failure_since(*, organization_id: int, since: datetime, now: datetime) -> datetime | None:
    """The start of the first minute since ``since`` with a downtime failure (from the minute rollups)."""
    return (
        RequestMinute.objects.filter(org_id=organization_id, bucket__gte=since, bucket__lt=now, downtime_failures__gt=0)
        .order_by("bucket")
        .values_list("bucket", flat=True)
        .first()
    )

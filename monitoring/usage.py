"""Usage and cost per organisation and per key, by day and by model, from the attempt log.

A request is counted once, for the attempt that answered it: only ``final`` attempts (the one the
failover loop served from; a request failed and then rescued by another deployment has one) and
only outcomes that delivered an answer. Partial answers (a stream cut after content reached the
client, or a client that left mid-answer) are counted too, since the provider billed them.
Days are UTC days.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Count, DecimalField, IntegerField, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from accounts.models import ApiKey
from gateway.events.outcomes import Outcome
from monitoring.models import Attempt

MAX_RANGE_DAYS = 366
DEFAULT_RANGE_DAYS = 30
EARLIEST = date(2000, 1, 1)
LATEST = date(2999, 12, 31)
GROUPS = ("day", "model", "key")
COST_PLACES = Decimal("0.000001")

# Outcomes of a final attempt that delivered (some of) an answer; anything else was not served.
DELIVERING = (
    Outcome.OK,
    Outcome.CLIENT_DISCONNECTED,
    Outcome.STALL_AFTER_CONTENT,
    Outcome.STREAM_CUT_AFTER_CONTENT,
    Outcome.SERVER_ERROR_AFTER_CONTENT,
)
DELIVERED = Q(outcome__in=[o.value for o in DELIVERING])


@dataclass(frozen=True)
class DateRange:
    start: date  # inclusive
    end: date  # inclusive

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def default_range(*, today: date | None = None) -> DateRange:
    end = today or timezone.now().astimezone(UTC).date()
    return DateRange(end - timedelta(days=DEFAULT_RANGE_DAYS - 1), end)


def range_problems(*, start: date | None, end: date | None) -> dict[str, str]:
    """Field name ("from" or "to") -> what is wrong; empty when the range is usable."""
    problems: dict[str, str] = {}
    for name, day in (("from", start), ("to", end)):
        if day is not None and not EARLIEST <= day <= LATEST:
            problems[name] = f"Choose a date from {EARLIEST.isoformat()} to {LATEST.isoformat()}."
    if problems or start is None or end is None:
        return problems
    if start > end:
        problems["to"] = "The end date must be on or after the start date."
    elif (end - start).days + 1 > MAX_RANGE_DAYS:
        problems["from"] = f"The range is at most {MAX_RANGE_DAYS} days."
    return problems


def billed_attempts(*, organization_id: int, period: DateRange, key_id: int | None = None) -> QuerySet[Attempt]:
    """The attempts a usage report counts: one per answered request, in the period."""
    since = datetime.combine(period.start, time.min, tzinfo=UTC)
    until = datetime.combine(period.end, time.min, tzinfo=UTC) + timedelta(days=1)
    attempts = Attempt.objects.filter(
        org_id=organization_id, started_at__gte=since, started_at__lt=until, final=True
    ).filter(DELIVERED)
    if key_id is not None:
        attempts = attempts.filter(key_id=key_id)
    return attempts


_TOTALS = {
    "requests": Count("id"),
    "prompt_tokens": Coalesce(Sum("prompt_tokens"), Value(0), output_field=IntegerField()),
    "completion_tokens": Coalesce(Sum("completion_tokens"), Value(0), output_field=IntegerField()),
    "cached_tokens": Coalesce(Sum("cached_tokens"), Value(0), output_field=IntegerField()),
    "cost_usd": Coalesce(
        Sum("cost_usd"), Value(Decimal(0)), output_field=DecimalField(max_digits=30, decimal_places=12)
    ),
}
_COLUMNS = {"day": "day", "model": "model", "key": "key_id"}


def usage_rows(
    *,
    organization_id: int,
    period: DateRange,
    group_by: Sequence[str] = GROUPS,
    key_id: int | None = None,
) -> list[dict[str, Any]]:
    """Requests, tokens and cost per group (any of day, model, key, in that order), sorted.

    Rows grouped by key carry ``key_id`` and ``key_name`` (None for requests without a key).
    Costs are Decimals rounded to a millionth of a dollar.
    """
    groups = [g for g in GROUPS if g in group_by]
    columns = [_COLUMNS[g] for g in groups]
    attempts = billed_attempts(organization_id=organization_id, period=period, key_id=key_id)
    if "day" in groups:
        attempts = attempts.annotate(day=TruncDate("started_at", tzinfo=UTC))
    rows = [dict(row) for row in attempts.values(*columns).annotate(**_TOTALS).order_by(*columns)]
    if "key" in groups:
        names = key_names(organization_id=organization_id, key_ids={row["key_id"] for row in rows})
        for row in rows:
            row["key_name"] = names.get(row["key_id"])
    for row in rows:
        row["cost_usd"] = Decimal(row["cost_usd"]).quantize(COST_PLACES)
    return rows


def usage_totals(*, organization_id: int, period: DateRange, key_id: int | None = None) -> dict[str, Any]:
    totals = billed_attempts(organization_id=organization_id, period=period, key_id=key_id).aggregate(**_TOTALS)
    totals["cost_usd"] = Decimal(totals["cost_usd"]).quantize(COST_PLACES)
    return totals


def key_names(*, organization_id: int, key_ids: set[Any]) -> dict[int, str]:
    ids = [key_id for key_id in key_ids if key_id is not None]
    if not ids:
        return {}
    # Scoped to the organisation: a key id in the log never names another organisation's key.
    return dict(ApiKey.objects.filter(organization_id=organization_id, pk__in=ids).values_list("pk", "name"))

"""The two uptimes, computed exactly as docs/uptime.md defines them, from stored windows and state
changes only (never raw traffic, so that their cost does not grow with it).

- ``effective_uptime``: what an organisation's clients saw, from its 5-minute uptime windows (S3's SLA).
- ``provider_uptime``: a deployment's own, from its state intervals (weighted down/degraded time).
- ``daily_*``: the same per day of a timezone (days of 23 or 25 hours across DST included).
- ``truncate_percent``: how every percentage is shown (truncated, never rounded up).
Percentages are exact (fractions) until they are cut to 12 decimals, so truncation is never fooled
by a float's 99.8999…; None means "no data", never 100 %.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_DOWN, Decimal
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection
from django.db.models import Q

from monitoring.models import DeploymentState, DeploymentStateChange, MaintenanceWindow

WINDOW = timedelta(minutes=5)
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)
Span = tuple[datetime, datetime]


def truncate_percent(value: Decimal | Fraction | float | int, decimals: int = 2) -> str:
    """A percentage as shown everywhere: cut to ``decimals`` places, never rounded up (99.996 → "99.99")."""
    if isinstance(value, Fraction):
        exact = Decimal(value.numerator) / Decimal(value.denominator)
    else:
        exact = value if isinstance(value, Decimal) else Decimal(str(value))  # a float as it prints
    return str(exact.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_DOWN))


def _percent(good: Fraction) -> Decimal:
    """A share as a percentage cut (never rounded) to 12 decimals."""
    scaled = good * 100 * 10**12
    return Decimal(scaled.numerator // scaled.denominator).scaleb(-12)


def day_spans(*, first: date, last: date, tz: ZoneInfo) -> list[tuple[date, datetime, datetime]]:
    """Each day of ``tz`` from first to last, as [local midnight, next local midnight) in UTC."""
    days = []
    day = first
    while day <= last:
        following = day + timedelta(days=1)
        start = datetime.combine(day, time.min, tzinfo=tz).astimezone(UTC)
        days.append((day, start, datetime.combine(following, time.min, tzinfo=tz).astimezone(UTC)))
        day = following
    return days


def _merge(spans: Sequence[Span]) -> list[Span]:
    merged: list[Span] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _maintenance_of(
    *, organization_id: int | None, deployments: Sequence[str], start: datetime, end: datetime
) -> dict[str, list[Span]]:
    """Per deployment, the merged maintenance spans in scope: the operator's and (given one) the
    organisation's, for every deployment or for that one ("" : for every deployment only). One query."""
    scope = Q(organization__isnull=True)
    if organization_id is not None:
        scope |= Q(organization_id=organization_id)
    windows = list(
        MaintenanceWindow.objects.filter(
            scope, deployment__in={"", *deployments}, starts_at__lt=end, ends_at__gt=start
        ).values_list("deployment", "starts_at", "ends_at")
    )
    return {d: _merge([(s, e) for scoped, s, e in windows if scoped in ("", d)]) for d in deployments}


def _maintenance(*, organization_id: int | None, deployment: str, start: datetime, end: datetime) -> list[Span]:
    return _maintenance_of(organization_id=organization_id, deployments=[deployment], start=start, end=end)[deployment]


# Effective uptime ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class EffectiveUptime:
    start: datetime  # the first counted window's start
    end: datetime  # the end of the period, or now for a period in progress
    percent: Decimal | None  # None: no window counted, or no request in them ("no data")
    windows: int  # 5-minute windows counted (empty ones included, maintenance left out)
    maintenance_windows: int  # windows left out because maintenance overlapped them
    requests: int
    failures: int  # requests that counted as downtime (gateway.events.outcomes.counts_as_downtime)
    downtime_minutes: int  # minutes whose error rate exceeded 5 %


def _floor(moment: datetime) -> datetime:
    return moment - (moment - _EPOCH) % WINDOW


def _ceil(moment: datetime) -> datetime:
    floor = _floor(moment)
    return floor if floor == moment else floor + WINDOW


def _windows(span: Span) -> int:
    return max(0, (span[1] - span[0]) // WINDOW)


# Totals read the coarsest sums that fit: whole UTC days, then hours, clear of maintenance, then windows.
_LEVELS = (
    (timedelta(days=1), "monitoring_uptimeday", "day"),
    (timedelta(hours=1), "monitoring_uptimehour", "hour"),
    (WINDOW, "monitoring_uptimewindow", "window_start"),
)
_LEVEL_SQL = """
    SELECT t.model, p.i, sum(t.requests) r, sum(t.downtime_failures) f, sum(t.downtime_minutes) m
    FROM unnest(%(s{n})s::timestamptz[], %(e{n})s::timestamptz[], %(i{n})s::int[]) p(s, e, i)
    JOIN {table} t ON t.{column} >= p.s AND t.{column} < p.e
    WHERE t.org_id = %(org)s AND t.model = ANY(%(models)s) {maintenance}
    GROUP BY t.model, p.i"""
# Error rates summed exactly: failing windows (a partial index holds them), grouped by their request count.
_RATES_SQL = """
    SELECT t.model, p.i, t.requests, sum(t.downtime_failures)
    FROM unnest(%(starts)s::timestamptz[], %(ends)s::timestamptz[]) WITH ORDINALITY p(s, e, i)
    JOIN monitoring_uptimewindow t ON t.window_start >= p.s AND t.window_start < p.e
    WHERE t.org_id = %(org)s AND t.model = ANY(%(models)s) AND t.downtime_failures > 0 {maintenance}
    GROUP BY t.model, p.i, t.requests"""
# A window any part of which is under maintenance is left out whole.
_NOT_MAINTENANCE = """AND NOT EXISTS (
    SELECT 1 FROM unnest(%(off_starts)s::timestamptz[], %(off_ends)s::timestamptz[]) o(s, e)
    WHERE t.window_start >= o.s AND t.window_start < o.e)"""


def _totals_sql(maintenance: str) -> str:
    branches = [
        _LEVEL_SQL.format(n=n, table=table, column=column, maintenance=maintenance if step == WINDOW else "")
        for n, (step, table, column) in enumerate(_LEVELS)
    ]
    return f"SELECT model, i, sum(r), sum(f), sum(m) FROM ({' UNION ALL '.join(branches)}) x GROUP BY model, i"


def _cut(moment: datetime, step: timedelta, *, up: bool) -> datetime:
    floor = moment - (moment - _EPOCH) % step
    return floor + step if up and floor != moment else floor


def _pieces(start: datetime, end: datetime, off: Sequence[Span], level: int = 0) -> list[tuple[int, Span]]:
    """A window-aligned span as (level, piece)s of _LEVELS covering the same windows: no piece but a window
    one touches maintenance."""
    if start >= end:
        return []
    step = _LEVELS[level][0]
    if step == WINDOW:
        return [(level, (start, end))]
    first, last = _cut(start, step, up=True), _cut(end, step, up=False)
    if first >= last:
        return _pieces(start, end, off, level + 1)
    pieces = _pieces(start, first, off, level + 1)
    unit = first
    while unit < last:
        if any(s < unit + step and e > unit for s, e in off):
            pieces += _pieces(unit, unit + step, off, level + 1)
        elif pieces and pieces[-1][0] == level and pieces[-1][1][1] == unit:
            pieces[-1] = (level, (pieces[-1][1][0], unit + step))
        else:
            pieces.append((level, (unit, unit + step)))
        unit += step
    return pieces + _pieces(last, end, off, level + 1)


def _totals_params(spans: Sequence[Span], off: Sequence[Span]) -> dict[str, list[Any]]:
    params: dict[str, list[Any]] = {f"{k}{n}": [] for n in range(len(_LEVELS)) for k in "sei"}
    for i, (start, end) in enumerate(spans, start=1):
        for level, (piece_start, piece_end) in _pieces(start, end, off):
            params[f"s{level}"].append(piece_start)
            params[f"e{level}"].append(piece_end)
            params[f"i{level}"].append(i)
    return params


def _effective(
    *, organization_id: int, models: Sequence[str], periods: Sequence[Span], now: datetime
) -> dict[str, list[EffectiveUptime]]:
    """Per model ("": all models), the effective uptime of each period: three queries, whatever their number."""
    spans = [(_floor(start), _ceil(min(end, now))) for start, end in periods]
    lower, upper = min(s for s, _ in spans), max(e for _, e in spans)
    # Rounded out to whole windows, two maintenance spans may share one: merged again, it counts once.
    off = _merge(
        [
            (_floor(s), _ceil(e))
            for s, e in _maintenance(organization_id=organization_id, deployment="", start=lower, end=upper)
        ]
    )
    params: dict[str, Any] = {
        "starts": [s for s, _ in spans],
        "ends": [e for _, e in spans],
        "org": organization_id,
        "models": list(models),
        "off_starts": [s for s, _ in off],
        "off_ends": [e for _, e in off],
        **_totals_params(spans, off),
    }
    maintenance = _NOT_MAINTENANCE if off else ""
    with connection.cursor() as cursor:
        cursor.execute(_totals_sql(maintenance), params)
        totals = {(model, i): (int(r), int(f), int(m)) for model, i, r, f, m in cursor.fetchall()}
        cursor.execute(_RATES_SQL.format(maintenance=maintenance), params)
        rates: dict[tuple[str, int], Fraction] = {}
        for model, i, requests, failures in cursor.fetchall():
            rates[model, i] = rates.get((model, i), Fraction(0)) + Fraction(int(failures), int(requests))
    results: dict[str, list[EffectiveUptime]] = {model: [] for model in models}
    for i, (start, end) in enumerate(spans, start=1):
        skipped = sum(_windows((max(s, start), min(e, end))) for s, e in off)
        counted = _windows((start, end)) - skipped
        shown_end = min(periods[i - 1][1], now)
        for model in models:
            requests, failures, minutes = totals.get((model, i), (0, 0, 0))
            rate = rates.get((model, i), Fraction(0))
            percent = _percent(1 - rate / counted) if counted and requests else None
            results[model].append(
                EffectiveUptime(start, shown_end, percent, max(counted, 0), skipped, requests, failures, minutes)
            )
    return results


def effective_uptime(
    *, organization_id: int, start: datetime, end: datetime, now: datetime, model: str | None = None
) -> EffectiveUptime:
    """100 % minus the mean error rate of the period's 5-minute windows, for the organisation (or one of
    its models); see docs/uptime.md for every rule."""
    return _effective(organization_id=organization_id, models=[model or ""], periods=[(start, end)], now=now)[
        model or ""
    ][0]


def effective_uptimes(
    *, organization_id: int, models: Sequence[str], periods: Sequence[Span], now: datetime
) -> dict[str, list[EffectiveUptime]]:
    """``effective_uptime`` of several models ("": all of them) and periods at once (the dashboard's 24 h,
    7 d, 30 d, 90 d): three queries."""
    return _effective(organization_id=organization_id, models=models, periods=periods, now=now)


def daily_effective_uptimes(
    *, organization_id: int, models: Sequence[str], first: date, last: date, tz: ZoneInfo, now: datetime
) -> dict[str, list[tuple[date, EffectiveUptime]]]:
    """Effective uptime of each day of ``tz``, per model ("": all models): three queries, whatever the
    number of days and models."""
    days = day_spans(first=first, last=last, tz=tz)
    periods = [(start, end) for _, start, end in days]
    results = _effective(organization_id=organization_id, models=models, periods=periods, now=now)
    return {
        model: [(day, result) for (day, _, _), result in zip(days, daily, strict=True)]
        for model, daily in results.items()
    }


def daily_effective_uptime(
    *, organization_id: int, first: date, last: date, tz: ZoneInfo, now: datetime, model: str | None = None
) -> list[tuple[date, EffectiveUptime]]:
    """Effective uptime of each day of ``tz`` for the organisation, or one of its models."""
    return daily_effective_uptimes(
        organization_id=organization_id, models=[model or ""], first=first, last=last, tz=tz, now=now
    )[model or ""]


# Provider uptime ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProviderUptime:
    start: datetime
    end: datetime  # the end of the period, or now for a period in progress
    percent: Decimal | None  # None: no counted time at all ("no data")
    up_seconds: float
    degraded_seconds: float
    down_seconds: float
    downtime_seconds: float  # down and degraded time, weighted
    maintenance_seconds: float  # left out of the denominator
    no_data_seconds: float  # unknown state, or before the first record: left out of the denominator


def weights() -> dict[str, Fraction]:
    """The share of each state's time counted as downtime (settings; docs/uptime.md)."""
    return {
        DeploymentState.UP: Fraction(0),
        DeploymentState.DEGRADED: Fraction(str(settings.MONITORING_DEGRADED_WEIGHT)),
        DeploymentState.DOWN: Fraction(str(settings.MONITORING_DOWN_WEIGHT)),
    }


def _states(
    *, deployments: Sequence[str], start: datetime, end: datetime
) -> dict[str, tuple[list[datetime], list[str]]]:
    """Per deployment, when each state began, from the last change before ``start`` on; unknown before the
    first record. One query."""
    changes = DeploymentStateChange.objects.filter(deployment__in=list(deployments))
    before = changes.filter(at__lte=start).order_by("deployment", "-at", "-id").distinct("deployment").values("pk")
    rows = changes.filter(Q(at__gt=start, at__lt=end) | Q(pk__in=before)).order_by("at", "id")
    timelines = {d: ([_EPOCH.replace(year=1)], [DeploymentState.UNKNOWN.value]) for d in deployments}
    for deployment, at, new in rows.values_list("deployment", "at", "new"):
        timelines[deployment][0].append(at)
        timelines[deployment][1].append(new)
    return timelines


def _seconds(span: Span) -> int:
    return max(0, (span[1] - span[0]) // _US)


def _provider(
    span: Span, states: tuple[list[datetime], list[str]], off: list[Span], weight: dict[str, Fraction]
) -> ProviderUptime:
    start, end = span
    times, names = states
    cuts = sorted(
        {start, end, *(t for t in times if start < t < end), *(t for s, e in off for t in (s, e) if start < t < end)}
    )
    spent: dict[str, int] = {}
    for left, right in itertools.pairwise(cuts):
        slot = bisect.bisect_right(off, (left, datetime.max.replace(tzinfo=UTC))) - 1
        in_maintenance = slot >= 0 and off[slot][0] <= left < off[slot][1]
        state = "maintenance" if in_maintenance else names[bisect.bisect_right(times, left) - 1]
        spent[state] = spent.get(state, 0) + _seconds((left, right))
    counted = sum(spent.get(s, 0) for s in (DeploymentState.UP, DeploymentState.DEGRADED, DeploymentState.DOWN))
    downtime = sum(spent.get(s, 0) * w for s, w in weight.items())
    percent = _percent(1 - Fraction(downtime) / counted) if counted else None
    return ProviderUptime(
        start=start,
        end=end,
        percent=percent,
        up_seconds=spent.get(DeploymentState.UP, 0) / 1e6,
        degraded_seconds=spent.get(DeploymentState.DEGRADED, 0) / 1e6,
        down_seconds=spent.get(DeploymentState.DOWN, 0) / 1e6,
        downtime_seconds=float(downtime / 10**6),
        maintenance_seconds=spent.get("maintenance", 0) / 1e6,
        no_data_seconds=spent.get(DeploymentState.UNKNOWN, 0) / 1e6,
    )


def _providers(
    *, deployments: Sequence[str], periods: Sequence[Span], now: datetime, organization_id: int | None
) -> dict[str, list[ProviderUptime]]:
    spans = [(start, max(start, min(end, now))) for start, end in periods]
    lower, upper = min(s for s, _ in spans), max(e for _, e in spans)
    states = _states(deployments=deployments, start=lower, end=upper)
    off = _maintenance_of(organization_id=organization_id, deployments=deployments, start=lower, end=upper)
    weight = weights()
    return {d: [_provider(span, states[d], off[d], weight) for span in spans] for d in deployments}


def provider_uptime(
    *, deployment: str, start: datetime, end: datetime, now: datetime, organization_id: int | None = None
) -> ProviderUptime:
    """The deployment's own uptime from its state intervals (maintenance of the operator's, and of the
    organisation when given, left out)."""
    return _providers(deployments=[deployment], periods=[(start, end)], now=now, organization_id=organization_id)[
        deployment
    ][0]


def provider_uptimes(
    *, deployments: Sequence[str], periods: Sequence[Span], now: datetime, organization_id: int | None = None
) -> dict[str, list[ProviderUptime]]:
    """``provider_uptime`` of several deployments and periods at once (the dashboard's): two queries."""
    return _providers(deployments=deployments, periods=periods, now=now, organization_id=organization_id)


def daily_provider_uptimes(
    *,
    deployments: Sequence[str],
    first: date,
    last: date,
    tz: ZoneInfo,
    now: datetime,
    organization_id: int | None = None,
) -> dict[str, list[tuple[date, ProviderUptime]]]:
    """Each deployment's own uptime for each day of ``tz``: two queries, whatever their number."""
    days = day_spans(first=first, last=last, tz=tz)
    periods = [(start, end) for _, start, end in days]
    results = _providers(deployments=deployments, periods=periods, now=now, organization_id=organization_id)
    return {
        deployment: [(day, result) for (day, _, _), result in zip(days, daily, strict=True)]
        for deployment, daily in results.items()
    }


def daily_provider_uptime(
    *, deployment: str, first: date, last: date, tz: ZoneInfo, now: datetime, organization_id: int | None = None
) -> list[tuple[date, ProviderUptime]]:
    return daily_provider_uptimes(
        deployments=[deployment], first=first, last=last, tz=tz, now=now, organization_id=organization_id
    )[deployment]

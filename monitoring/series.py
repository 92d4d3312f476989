"""Time series for the dashboard's charts, read from the rollups only and bucketed in a timezone.

The bucket size is chosen by the range (about 200 points at most): under an hour they are read from
minute rows (kept MONITORING_MINUTE_ROLLUP_DAYS), from an hour on from hour rows. A bucket is a span of
local wall-clock time (``date_bin`` over the local time of each row), so a local day is a day even across
DST. Quantiles of a bucket come from its rows' sketches merged (monitoring.sketch), like every other
quantile (docs/uptime.md). Buckets without rows are kept, with no quantile, so that a chart shows a gap.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection

from gateway.events.outcomes import FailureClass
from monitoring import sketch
from monitoring.models.rollups import FAILURE_COLUMNS
from monitoring.stats import QUANTILES

STEPS = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=15),
    timedelta(hours=1),
    timedelta(hours=3),
    timedelta(hours=6),
    timedelta(days=1),
)
MAX_POINTS = 200
_ORIGIN = datetime(2000, 1, 1)  # a local midnight: buckets of a day or less start at local midnights
_SUMS = ("requests", "successes", *FAILURE_COLUMNS.values(), "rescued", "prompt_tokens", "completion_tokens")
_TABLES = {
    "request": ("monitoring_requestminute", "monitoring_requesthour"),
    "deployment": ("monitoring_deploymentminute", "monitoring_deploymenthour"),
}


@dataclass(frozen=True)
class Series:
    step: timedelta
    starts: list[datetime]  # each bucket's start, local wall-clock time (naive), oldest first
    requests: list[int]
    successes: list[int]
    failures: dict[FailureClass, list[int]]
    rescued: list[int]
    completion_tokens: list[int]
    latency_ms: dict[float, list[float | None]] = field(default_factory=dict)  # quantile -> per bucket
    ttft_ms: dict[float, list[float | None]] = field(default_factory=dict)


def choose_step(*, start: datetime, end: datetime, now: datetime) -> timedelta:
    """The smallest step giving at most MAX_POINTS buckets, from hour rows once minute rows are gone."""
    minutes_kept_since = now - timedelta(days=settings.MONITORING_MINUTE_ROLLUP_DAYS)
    for step in STEPS:
        if step < timedelta(hours=1) and start < minutes_kept_since:
            continue
        if (end - start) / step <= MAX_POINTS:
            return step
    return STEPS[-1]


def _local(moment: datetime, tz: ZoneInfo) -> datetime:
    return moment.astimezone(tz).replace(tzinfo=None)


def _bin(moment: datetime, step: timedelta) -> datetime:
    return moment - (moment - _ORIGIN) % step


def bucket_starts(*, start: datetime, end: datetime, step: timedelta, tz: ZoneInfo) -> list[datetime]:
    first, last = _bin(_local(start, tz), step), _local(end, tz)
    starts = []
    cursor = first
    while cursor < last:
        starts.append(cursor)
        cursor += step
    return starts


def _query(table: str, where: str) -> tuple[str, str]:
    rows = f"""SELECT date_bin(%(step)s, bucket AT TIME ZONE %(tz)s, %(origin)s) AS b, *
        FROM {table} WHERE {where} AND bucket >= %(start)s AND bucket < %(end)s"""
    sums = ", ".join(f"sum({column})" for column in _SUMS)
    totals = f"WITH r AS ({rows}) SELECT b, {sums} FROM r GROUP BY b"
    hists = f"""WITH r AS ({rows})
        SELECT 'latency', b, e.key, sum(e.value::bigint) FROM r, jsonb_each_text(r.latency_hist) e GROUP BY b, e.key
        UNION ALL
        SELECT 'ttft', b, e.key, sum(e.value::bigint) FROM r, jsonb_each_text(r.ttft_hist) e GROUP BY b, e.key"""
    return totals, hists


def _series(
    kind: str, where: str, values: dict[str, Any], *, start: datetime, end: datetime, tz: ZoneInfo, now: datetime
) -> Series:
    step = choose_step(start=start, end=end, now=now)
    table = _TABLES[kind][0 if step < timedelta(hours=1) else 1]
    resolution = timedelta(minutes=1) if step < timedelta(hours=1) else timedelta(hours=1)
    floor = start - (start - datetime(2000, 1, 1, tzinfo=UTC)) % resolution
    params = values | {"step": step, "tz": tz.key, "origin": _ORIGIN, "start": floor, "end": end}
    totals_sql, hists_sql = _query(table, where)
    with connection.cursor() as cursor:
        cursor.execute(totals_sql, params)
        totals = {row[0]: [int(v) for v in row[1:]] for row in cursor.fetchall()}
        cursor.execute(hists_sql, params)
        hists: dict[tuple[str, datetime], sketch.Sketch] = {}
        for name, b, key, count in cursor.fetchall():
            hists.setdefault((name, b), {})[key] = int(count)
    starts = bucket_starts(start=floor, end=end, step=step, tz=tz)
    known = set(starts)
    starts += sorted(b for b in totals if b not in known)  # a DST fold can bin a row before the first start
    starts.sort()
    empty = [0] * len(_SUMS)
    column = {name: [totals.get(b, empty)[i] for b in starts] for i, name in enumerate(_SUMS)}
    return Series(
        step=step,
        starts=starts,
        requests=column["requests"],
        successes=column["successes"],
        failures={cls: column[name] for cls, name in FAILURE_COLUMNS.items()},
        rescued=column["rescued"],
        completion_tokens=column["completion_tokens"],
        latency_ms={q: [sketch.quantile(hists.get(("latency", b), {}), q) for b in starts] for q in QUANTILES},
        ttft_ms={q: [sketch.quantile(hists.get(("ttft", b), {}), q) for b in starts] for q in QUANTILES},
    )


def request_series(
    *, organization_id: int, start: datetime, end: datetime, tz: ZoneInfo, now: datetime, model: str | None = None
) -> Series:
    """An organisation's requests (or one model's) per bucket: two queries."""
    where, values = "org_id = %(org)s", dict[str, Any](org=organization_id)
    if model is not None:
        where, values = where + " AND model = %(model)s", values | {"model": model}
    return _series("request", where, values, start=start, end=end, tz=tz, now=now)


def deployment_series(*, deployment: str, start: datetime, end: datetime, tz: ZoneInfo, now: datetime) -> Series:
    """A deployment's attempts per bucket (``requests`` counts attempts): two queries."""
    return _series("deployment", "deployment = %(dep)s", {"dep": deployment}, start=start, end=end, tz=tz, now=now)


def failure_share(series: Series) -> dict[FailureClass, list[float | None]]:
    """Each failure class as a percentage of the bucket's requests (None: no request in the bucket)."""
    return {
        cls: [100 * n / total if total else None for n, total in zip(counts, series.requests, strict=True)]
        for cls, counts in series.failures.items()
    }


def per_minute(values: Sequence[int], step: timedelta) -> list[float]:
    minutes = step / timedelta(minutes=1)
    return [v / minutes for v in values]

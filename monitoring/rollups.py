"""Rolling raw traffic up into minutes, minutes into hours, hours into UTC days, and minutes into the
5-minute uptime windows: set-based upserts, so that pages and reports never read raw rows.

Safety, as docs/uptime.md promises:
- idempotent: each statement recomputes whole buckets from their source and upserts them; a re-run
  writes the same rows (and skips rows that did not change);
- late events: every run re-rolls a trailing horizon (``MONITORING_ROLLUP_LATENESS_SECONDS``), and
  ``mark_late`` queues an older span (the spool loader's) for the next run;
- concurrent runs: each bucket's chunk (an hour of minutes, a day of hours, a day, an hour of windows)
  is rolled in its own transaction under a transaction-level advisory lock, taken before the statement
  that reads the source, so the later of two workers reads everything the earlier one read.
Rows are never deleted here except by retention: a re-roll after the raw rows are gone leaves the
rollup as it was, and nothing older than the minute retention is re-rolled (a partial source would
overwrite a complete sum).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction

from gateway.events.outcomes import DOWNTIME_OUTCOMES, FailureClass, Outcome, failure_class
from gateway.events.records import ATTEMPT_TABLE, LOCAL_INBOUNDS, REQUEST_TABLE
from monitoring.models import (
    DeploymentDay,
    DeploymentHour,
    DeploymentMinute,
    RequestDay,
    RequestHour,
    RequestMinute,
    RollupBacklog,
    UptimeDay,
    UptimeHour,
    UptimeWindow,
)
from monitoring.models.rollups import COUNT_COLUMNS, FAILURE_COLUMNS
from monitoring.sketch import bucket_sql

MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
WINDOW = timedelta(minutes=5)
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)

_COUNTS = COUNT_COLUMNS
_HISTS = {"latency_hist": "latency_ms", "ttft_hist": "ttft_ms"}


@dataclass(frozen=True)
class _Dimension:
    dims: tuple[str, ...]
    tables: tuple[str, str, str]  # minute, hour, day
    raw: str  # SELECT of the raw rows of a span: bucket, dims, counted, outcome, failovers, rescued, ...
    extra: dict[str, str]  # counts of raw rows beyond _COUNTS: column -> aggregate


_DEPLOYMENT = _Dimension(
    dims=("deployment", "provider"),
    tables=("monitoring_deploymentminute", "monitoring_deploymenthour", "monitoring_deploymentday"),
    raw=f"""SELECT date_trunc('minute', started_at, 'UTC') AS bucket, deployment, provider, true AS counted,
        outcome, (NOT final)::int AS failovers, rescued, prompt_tokens, completion_tokens, cost_usd,
        latency_ms, ttft_ms FROM {ATTEMPT_TABLE} WHERE started_at >= %(start)s AND started_at < %(end)s""",
    extra={},
)
_REQUEST = _Dimension(
    dims=("org_id", "model", "key_id"),
    tables=("monitoring_requestminute", "monitoring_requesthour", "monitoring_requestday"),
    raw=f"""SELECT date_trunc('minute', started_at, 'UTC') AS bucket, org_id, requested_model AS model, key_id,
        NOT (inbound = ANY(%(local)s)) AS counted, outcome, failovers, rescued, prompt_tokens,
        completion_tokens, cost_usd, latency_ms, ttft_ms
        FROM {REQUEST_TABLE} WHERE started_at >= %(start)s AND started_at < %(end)s""",
    extra={"local_requests": "count(*) FILTER (WHERE NOT counted)"},
)
_DIMENSIONS = (_DEPLOYMENT, _REQUEST)
# Advisory lock class per table: a lock is (class, chunk number).
_LOCKED = [*_DEPLOYMENT.tables, *_REQUEST.tables, "uptimewindow", "uptimehour", "uptimeday"]
_LOCK_CLASS = {table: 7100 + n for n, table in enumerate(_LOCKED)}


def _outcomes(cls: FailureClass) -> list[str]:
    return [o.value for o in Outcome if failure_class(o) is cls]


def _params(start: datetime, end: datetime) -> dict[str, Any]:
    params: dict[str, Any] = {"start": start, "end": end, "local": sorted(LOCAL_INBOUNDS)}
    params["downtime"] = sorted(DOWNTIME_OUTCOMES)
    params.update({column: _outcomes(cls) for cls, column in FAILURE_COLUMNS.items()})
    return params


def _raw_counts(dim: _Dimension) -> dict[str, str]:
    counted = "count(*) FILTER (WHERE counted{})"
    counts = {"requests": counted.format(""), "successes": counted.format(f" AND outcome = '{Outcome.OK.value}'")}
    counts.update({column: counted.format(f" AND outcome = ANY(%({column})s)") for column in FAILURE_COLUMNS.values()})
    counts["downtime_failures"] = counted.format(" AND outcome = ANY(%(downtime)s)")
    counts["rescued"] = counted.format(" AND rescued")
    for column in ("failovers", "prompt_tokens", "completion_tokens", "cost_usd"):
        counts[column] = f"coalesce(sum({column}) FILTER (WHERE counted), 0)"
    return counts | dim.extra


def _upsert(table: str, keys: tuple[str, ...], columns: list[str], select: str) -> str:
    values = [c for c in columns if c not in keys]
    assignments = ", ".join(f"{c} = EXCLUDED.{c}" for c in values)
    old = ", ".join(f"{table}.{c}" for c in values)
    new = ", ".join(f"EXCLUDED.{c}" for c in values)
    return f"""INSERT INTO {table} ({", ".join(columns)}) {select}
        ON CONFLICT ({", ".join(keys)}) DO UPDATE SET {assignments} WHERE ({old}) IS DISTINCT FROM ({new})"""


def _rollup_sql(dim: _Dimension, level: int) -> str:
    """The statement rolling a span [start, end) of level ``level`` (0 minute, 1 hour, 2 day)."""
    dims = ", ".join(dim.dims)
    if level == 0:
        source = dim.raw
        counts = _raw_counts(dim)
        hists = {
            name: f"""SELECT bucket, {dims}, {bucket_sql(raw)} AS k, count(*) AS n FROM src
                WHERE counted AND outcome = '{Outcome.OK.value}' AND {raw} IS NOT NULL GROUP BY bucket, {dims}, k"""
            for name, raw in _HISTS.items()
        }
    else:
        unit = ("hour", "day")[level - 1]
        values = ", ".join([*_COUNTS, *dim.extra, *_HISTS])
        source = f"""SELECT date_trunc('{unit}', bucket, 'UTC') AS bucket, {dims}, {values}
            FROM {dim.tables[level - 1]} WHERE bucket >= %(start)s AND bucket < %(end)s"""
        counts = {c: f"sum({c})" for c in _COUNTS} | {c: f"sum({c})" for c in dim.extra}
        hists = {
            name: f"""SELECT bucket, {dims}, e.key AS k, sum(e.value::bigint) AS n
                FROM src, jsonb_each_text(src.{name}) e GROUP BY bucket, {dims}, k"""
            for name in _HISTS
        }
    aggregates = ", ".join(f"{expr} AS {column}" for column, expr in counts.items())
    ctes = [f"src AS ({source})", f"counts AS (SELECT bucket, {dims}, {aggregates} FROM src GROUP BY bucket, {dims})"]
    for name, select in hists.items():
        ctes.append(
            f"{name} AS (SELECT bucket, {dims}, jsonb_object_agg(k, n) AS h FROM ({select}) x GROUP BY bucket, {dims})"
        )
    joins = " ".join(f"LEFT JOIN {name} USING (bucket, {dims})" for name in _HISTS)
    hist_values = ", ".join(f"coalesce({name}.h, '{{}}'::jsonb)" for name in _HISTS)
    select = f"SELECT bucket, {dims}, {', '.join([*_COUNTS, *dim.extra])}, {hist_values} FROM counts {joins}"
    return "WITH " + ",\n".join(ctes) + "\n" + _upsert(dim.tables[level], ("bucket", *dim.dims), _columns(dim), select)


def _columns(dim: _Dimension) -> list[str]:
    return ["bucket", *dim.dims, *_COUNTS, *dim.extra, *_HISTS]


_WINDOWS_SQL = _upsert(
    "monitoring_uptimewindow",
    ("org_id", "model", "window_start"),
    ["org_id", "model", "window_start", "requests", "downtime_failures", "downtime_minutes"],
    # A downtime minute: more than 5 % of its requests failed (20 f > r, in integers).
    """WITH m AS (
        SELECT org_id, model, bucket, sum(requests) AS r, sum(downtime_failures) AS f FROM monitoring_requestminute
        WHERE bucket >= %(start)s AND bucket < %(end)s AND requests > 0 GROUP BY org_id, model, bucket
    ), scoped AS (
        SELECT org_id, model, bucket, r, f FROM m WHERE model <> ''
        UNION ALL SELECT org_id, '', bucket, sum(r), sum(f) FROM m GROUP BY org_id, bucket
    )
    SELECT org_id, model, date_bin('5 minutes', bucket, %(epoch)s), sum(r), sum(f), count(*) FILTER (WHERE 20 * f > r)
    FROM scoped GROUP BY 1, 2, 3""",
)


def _sums_sql(table: str, column: str, unit: str, source: str, source_column: str) -> str:
    """Re-sum the ``unit``s (hour, day) of ``source``'s uptime rows over [start, end) into ``table``."""
    return _upsert(
        table,
        ("org_id", "model", column),
        ["org_id", "model", column, "requests", "downtime_failures", "downtime_minutes"],
        f"""SELECT org_id, model, date_trunc('{unit}', {source_column}, 'UTC'), sum(requests),
            sum(downtime_failures), sum(downtime_minutes)
        FROM {source} WHERE {source_column} >= %(start)s AND {source_column} < %(end)s GROUP BY 1, 2, 3""",
    )


_HOURS_SQL = _sums_sql("monitoring_uptimehour", "hour", "hour", "monitoring_uptimewindow", "window_start")
_DAYS_SQL = _sums_sql("monitoring_uptimeday", "day", "day", "monitoring_uptimehour", "hour")


def _floor(moment: datetime, step: timedelta) -> datetime:
    return moment - (moment - _EPOCH) % step


def _ceil(moment: datetime, step: timedelta) -> datetime:
    floor = _floor(moment, step)
    return floor if floor == moment else floor + step


def _chunks(start: datetime, end: datetime, size: timedelta) -> Iterator[tuple[datetime, datetime, int]]:
    """[start, end) cut at multiples of ``size``, each with its chunk number (the advisory lock's key)."""
    cursor = start
    while cursor < end:
        chunk_end = min(_floor(cursor, size) + size, end)
        yield cursor, chunk_end, int((cursor - _EPOCH) // size)
        cursor = chunk_end


def _run(table: str, sql: str, start: datetime, end: datetime, chunk: timedelta) -> None:
    for chunk_start, chunk_end, number in _chunks(start, end, chunk):
        params = _params(chunk_start, chunk_end) | {"epoch": _EPOCH}
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_LOCK_CLASS[table], number])
            cursor.execute(sql, params)


def roll_span(*, start: datetime, end: datetime) -> None:
    """Roll [start, end) of raw traffic into minutes, and the hours, days and windows that contain it."""
    start, end = _floor(start, MINUTE), _ceil(end, MINUTE)
    for dim in _DIMENSIONS:
        _run(dim.tables[0], _rollup_sql(dim, 0), start, end, HOUR)
        _run(dim.tables[1], _rollup_sql(dim, 1), _floor(start, HOUR), _ceil(end, HOUR), DAY)
        _run(dim.tables[2], _rollup_sql(dim, 2), _floor(start, DAY), _ceil(end, DAY), DAY)
    _run("uptimewindow", _WINDOWS_SQL, _floor(start, WINDOW), _ceil(end, WINDOW), HOUR)
    roll_uptime_sums(start=start, end=end)


def roll_uptime_sums(*, start: datetime, end: datetime) -> None:
    """Re-sum the hours and days of uptime windows over [start, end) (after windows were written)."""
    _run("uptimehour", _HOURS_SQL, _floor(start, HOUR), _ceil(end, HOUR), DAY)
    _run("uptimeday", _DAYS_SQL, _floor(start, DAY), _ceil(end, DAY), DAY)


def rerollable_since(*, now: datetime) -> datetime:
    """The oldest moment still re-rolled: minute rows are kept from here on, so an hour's source is whole."""
    return _floor(now, DAY) - timedelta(days=settings.MONITORING_MINUTE_ROLLUP_DAYS)


def mark_late(*, start: datetime, end: datetime) -> None:
    """Queue [start, end) for the next run: raw events of that span arrived after it was rolled."""
    RollupBacklog.objects.create(starts_at=start, ends_at=end)


def roll_up(*, now: datetime) -> int:
    """One rollup run: the trailing lateness horizon, then every queued late span. Returns spans rolled."""
    oldest = rerollable_since(now=now)
    horizon = timedelta(seconds=settings.MONITORING_ROLLUP_LATENESS_SECONDS)
    roll_span(start=max(now - horizon, oldest), end=now)
    backlog = list(RollupBacklog.objects.order_by("starts_at").values_list("pk", "starts_at", "ends_at")[:100])
    for _, start, end in backlog:
        if max(start, oldest) < end:
            roll_span(start=max(start, oldest), end=end)
    RollupBacklog.objects.filter(pk__in=[pk for pk, _, _ in backlog]).delete()
    return 1 + len(backlog)


def prune_rollups(*, now: datetime) -> int:
    """Retention: minute rows as long as they can be re-rolled, the rest MONITORING_ROLLUP_DAYS."""
    minutes = rerollable_since(now=now)
    kept = _floor(now, DAY) - timedelta(days=settings.MONITORING_ROLLUP_DAYS)
    deleted = 0
    for minute in (DeploymentMinute, RequestMinute):
        deleted += minute.objects.filter(bucket__lt=minutes).delete()[0]
    for model in (DeploymentHour, DeploymentDay, RequestHour, RequestDay):
        deleted += model.objects.filter(bucket__lt=kept).delete()[0]
    deleted += UptimeWindow.objects.filter(window_start__lt=kept).delete()[0]
    deleted += UptimeHour.objects.filter(hour__lt=kept).delete()[0]
    deleted += UptimeDay.objects.filter(day__lt=kept).delete()[0]
    deleted += RollupBacklog.objects.filter(ends_at__lt=minutes).delete()[0]
    return deleted

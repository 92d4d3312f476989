"""Traffic totals and latency/TTFT quantiles over any range, read from the rollups only.

A range is covered by the coarsest rows that fit: whole UTC days from day rows, whole hours from hour
rows, the minutes at its edges from minute rows (bounds are cut to the minute). Minute rows are kept
MONITORING_MINUTE_ROLLUP_DAYS, so older ranges are exact to the hour. Quantiles are nearest-rank,
within monitoring.sketch.ALPHA (1 %) of the exact value (docs/uptime.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection

from gateway.events.outcomes import FailureClass
from monitoring import sketch
from monitoring.models.rollups import COUNT_COLUMNS, FAILURE_COLUMNS

QUANTILES = (0.5, 0.95, 0.99)
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
_LEVELS = (timedelta(minutes=1), timedelta(hours=1), timedelta(days=1))
_REQUEST_TABLES = ("monitoring_requestminute", "monitoring_requesthour", "monitoring_requestday")
_DEPLOYMENT_TABLES = ("monitoring_deploymentminute", "monitoring_deploymenthour", "monitoring_deploymentday")
_SUMS = COUNT_COLUMNS


@dataclass(frozen=True)
class TrafficStats:
    requests: int
    successes: int
    failures: dict[FailureClass, int]
    downtime_failures: int
    failovers: int
    rescued: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: Decimal
    latency_ms: dict[float, float | None] = field(default_factory=dict)  # quantile -> ms (None: no sample)
    ttft_ms: dict[float, float | None] = field(default_factory=dict)


def _floor(moment: datetime, step: timedelta) -> datetime:
    return moment - (moment - _EPOCH) % step


def _ceil(moment: datetime, step: timedelta) -> datetime:
    floor = _floor(moment, step)
    return floor if floor == moment else floor + step


def cover(start: datetime, end: datetime) -> list[tuple[int, datetime, datetime]]:
    """The minutes whose start lies in [start, end) (the first one rounded down: the rule of effective uptime's
    windows, so that a range ending now counts the current minute as far as it is rolled up), as
    (level, start, end) pieces: days inside, hours, then minutes at the edges."""
    start, end = _floor(start, _LEVELS[0]), _ceil(end, _LEVELS[0])
    if start >= end:
        return []
    for level in (2, 1):
        inner_start, inner_end = _ceil(start, _LEVELS[level]), _floor(end, _LEVELS[level])
        if inner_start < inner_end:
            return [*cover(start, inner_start), (level, inner_start, inner_end), *cover(inner_end, end)]
    return [(0, start, end)]


def _stats(
    tables: Sequence[str], where: str, values: list[Any], start: datetime, end: datetime, *, quantiles: bool = True
) -> TrafficStats:
    pieces = cover(start, end)
    if not pieces:
        return _empty()
    union = " UNION ALL ".join(
        f"SELECT {', '.join(_SUMS)}, latency_hist, ttft_hist FROM {tables[level]} "
        f"WHERE {where} AND bucket >= %s AND bucket < %s"
        for level, _, _ in pieces
    )
    params: list[Any] = []
    for _, piece_start, piece_end in pieces:
        params += [*values, piece_start, piece_end]
    sums = ", ".join(f"coalesce(sum({column}), 0)" for column in _SUMS)
    with connection.cursor() as cursor:
        cursor.execute(f"WITH r AS ({union}) SELECT {sums} FROM r", params)
        totals = dict(zip(_SUMS, cursor.fetchone() or (), strict=True))
        hists: dict[str, dict[str, int]] = {"latency": {}, "ttft": {}}
        if quantiles:
            cursor.execute(
                f"""WITH r AS ({union})
                SELECT 'latency', e.key, sum(e.value::bigint) FROM r, jsonb_each_text(r.latency_hist) e GROUP BY e.key
                UNION ALL
                SELECT 'ttft', e.key, sum(e.value::bigint) FROM r, jsonb_each_text(r.ttft_hist) e GROUP BY e.key""",
                params,
            )
            for name, key, count in cursor.fetchall():
                hists[name][key] = int(count)
    return _from_rows(totals, hists)


def _batched(
    tables: Sequence[str],
    column: str,
    keys: Sequence[Any],
    periods: Sequence[tuple[datetime, datetime]],
    *,
    quantiles: bool = True,
) -> dict[Any, list[TrafficStats]]:
    """``_stats`` of each key of ``column`` over each period, in two queries (one without ``quantiles``)
    whatever their number."""
    # One branch per piece, each with constant bounds that the indexes can use: a join of the rows to an
    # array of ranges makes Postgres scan every row of the key and compare it with every range.
    params: dict[str, Any] = {"keys": list(keys)}
    branches: list[str] = []
    for i, (start, end) in enumerate(periods):
        for level, piece_start, piece_end in cover(start, end):
            n = len(branches)
            params[f"s{n}"], params[f"e{n}"] = piece_start, piece_end
            branches.append(
                f"""SELECT t.{column} AS dim, {i} AS i, {", ".join(f"t.{c}" for c in _SUMS)}, t.latency_hist,
                t.ttft_hist FROM {tables[level]} t
                WHERE t.{column} = ANY(%(keys)s) AND t.bucket >= %(s{n})s AND t.bucket < %(e{n})s"""
            )
    if not branches:
        return {key: [_empty() for _ in periods] for key in keys}
    union = " UNION ALL ".join(branches)
    sums = ", ".join(f"sum({c})" for c in _SUMS)
    totals: dict[tuple[Any, int], dict[str, Any]] = {}
    hists: dict[tuple[Any, int], dict[str, dict[str, int]]] = {}
    with connection.cursor() as cursor:
        cursor.execute(f"WITH r AS ({union}) SELECT dim, i, {sums} FROM r GROUP BY dim, i", params)
        for key, i, *values in cursor.fetchall():
            totals[key, i] = dict(zip(_SUMS, values, strict=True))
        if quantiles:
            cursor.execute(
                f"""WITH r AS ({union})
                SELECT dim, i, 'latency', e.key, sum(e.value::bigint) FROM r, jsonb_each_text(r.latency_hist) e
                GROUP BY dim, i, e.key
                UNION ALL
                SELECT dim, i, 'ttft', e.key, sum(e.value::bigint) FROM r, jsonb_each_text(r.ttft_hist) e
                GROUP BY dim, i, e.key""",
                params,
            )
            for key, i, name, bucket, count in cursor.fetchall():
                hists.setdefault((key, i), {"latency": {}, "ttft": {}})[name][bucket] = int(count)
    return {
        key: [
            _from_rows(totals[key, i], hists.get((key, i), {"latency": {}, "ttft": {}}))
            if (key, i) in totals
            else _empty()
            for i in range(len(periods))
        ]
        for key in keys
    }


def _from_rows(totals: dict[str, Any], hists: dict[str, dict[str, int]]) -> TrafficStats:
    return TrafficStats(
        requests=int(totals["requests"]),
        successes=int(totals["successes"]),
        failures={cls: int(totals[column]) for cls, column in FAILURE_COLUMNS.items()},
        downtime_failures=int(totals["downtime_failures"]),
        failovers=int(totals["failovers"]),
        rescued=int(totals["rescued"]),
        prompt_tokens=int(totals["prompt_tokens"]),
        completion_tokens=int(totals["completion_tokens"]),
        cost_usd=Decimal(totals["cost_usd"]),
        latency_ms={q: sketch.quantile(hists["latency"], q) for q in QUANTILES},
        ttft_ms={q: sketch.quantile(hists["ttft"], q) for q in QUANTILES},
    )


def _empty() -> TrafficStats:
    none: dict[float, float | None] = dict.fromkeys(QUANTILES)
    return TrafficStats(0, 0, dict.fromkeys(FailureClass, 0), 0, 0, 0, 0, 0, Decimal(0), none, dict(none))


def request_stats(
    *,
    organization_id: int,
    start: datetime,
    end: datetime,
    model: str | None = None,
    key_id: int | None = None,
    quantiles: bool = True,
) -> TrafficStats:
    """An organisation's traffic (or one model's, or one key's) over [start, end): two queries, or one
    without ``quantiles`` (totals only; every quantile is then None)."""
    where = ["org_id = %s"]
    values: list[Any] = [organization_id]
    if model is not None:
        where.append("model = %s")
        values.append(model)
    if key_id is not None:
        where.append("key_id = %s")
        values.append(key_id)
    return _stats(_REQUEST_TABLES, " AND ".join(where), values, start, end, quantiles=quantiles)


def deployment_stats(*, deployment: str, start: datetime, end: datetime) -> TrafficStats:
    """A deployment's attempts over [start, end): ``requests`` counts attempts. Two queries."""
    return _stats(_DEPLOYMENT_TABLES, "deployment = %s", [deployment], start, end)


def request_stats_by_period(
    *, organization_id: int, periods: Sequence[tuple[datetime, datetime]], quantiles: bool = True
) -> list[TrafficStats]:
    """``request_stats`` of the organisation over each period: two queries (one without ``quantiles``),
    whatever their number."""
    return _batched(_REQUEST_TABLES, "org_id", [organization_id], periods, quantiles=quantiles)[organization_id]


def deployment_stats_by_period(
    *, deployments: Sequence[str], periods: Sequence[tuple[datetime, datetime]], quantiles: bool = True
) -> dict[str, list[TrafficStats]]:
    """``deployment_stats`` of each deployment over each period: two queries (one without ``quantiles``),
    whatever their number."""
    return _batched(_DEPLOYMENT_TABLES, "deployment", deployments, periods, quantiles=quantiles)

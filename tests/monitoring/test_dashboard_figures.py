"""The dashboard's figures, each checked against an independent computation from the raw request,
attempt and state-change rows of the same period. Time is frozen: every call is given NOW."""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from gateway.events.outcomes import Outcome, counts_as_downtime
from monitoring import dashboard, series
from monitoring.models import DeploymentStateChange, MaintenanceWindow, Request
from monitoring.uptime import truncate_percent
from tests.conftest import Accounts
from tests.monitoring.dashboard_helpers import BACKUP, MODEL, NOW, PRIMARY, states, traffic, write_config

BERLIN = ZoneInfo("Europe/Berlin")
START = NOW - timedelta(hours=3)
WINDOW = timedelta(minutes=5)


@pytest.fixture(autouse=True)
def _config(tmp_path: Path, settings: object) -> None:
    settings.GATEWAY_CONFIG = str(write_config(tmp_path))  # type: ignore[attr-defined]


@pytest.fixture
def busy(accounts: Accounts) -> Accounts:
    traffic(accounts.org.pk, start=START, minutes=180, failing=set(range(60, 70)))
    states(START)
    MaintenanceWindow.objects.create(
        organization=accounts.org,
        starts_at=START - timedelta(hours=1),
        ends_at=START - timedelta(minutes=30),
        title="m",
    )
    return accounts


def _raw_effective(org_id: int, start: datetime, end: datetime) -> Fraction | None:
    """Effective uptime from raw requests: 100 % minus the mean error rate of the period's 5-minute windows
    (empty ones included, those touching maintenance left out)."""
    epoch = datetime(2000, 1, 1, tzinfo=start.tzinfo)
    first = start - (start - epoch) % WINDOW
    off = list(MaintenanceWindow.objects.values_list("starts_at", "ends_at"))
    windows = []
    cursor = first
    while cursor < end:
        if not any(s < cursor + WINDOW and e > cursor for s, e in off):
            windows.append(cursor)
        cursor += WINDOW
    totals: dict[datetime, list[int]] = defaultdict(lambda: [0, 0])
    for at, outcome in Request.objects.filter(org_id=org_id).values_list("started_at", "outcome"):
        window = at - (at - epoch) % WINDOW
        totals[window][0] += 1
        totals[window][1] += counts_as_downtime(Outcome(outcome))
    if not windows or not any(totals[w][0] for w in windows):
        return None
    errors = sum((Fraction(totals[w][1], totals[w][0]) for w in windows if totals[w][0]), Fraction(0))
    return 100 * (1 - errors / len(windows))


def _raw_provider(deployment: str, start: datetime, end: datetime) -> Fraction | None:
    changes = list(DeploymentStateChange.objects.filter(deployment=deployment).order_by("at").values_list("at", "new"))
    counted = down = timedelta(0)
    for (at, state), following in zip(changes, [*changes[1:], (end, "")], strict=True):
        left, right = max(at, start), min(following[0], end)
        if right > left and state in {"up", "down", "degraded"}:
            counted += right - left
            down += (right - left) if state == "down" else timedelta(0)
    return (
        None
        if not counted
        else 100 * (1 - Fraction(down // timedelta(microseconds=1), counted // timedelta(microseconds=1)))
    )


def test_headline_uptimes_equal_an_independent_computation_from_raw_rows(busy: Accounts) -> None:
    headline = dashboard.headline(organization_id=busy.org.pk, models=[MODEL], now=NOW)
    for (_, _, length), overall, model_uptime, primary, backup in zip(
        dashboard.PERIODS,
        headline.overall,
        headline.models[0].uptimes,
        headline.models[0].deployments[0].uptimes,
        headline.models[0].deployments[1].uptimes,
        strict=True,
    ):
        expected = _raw_effective(busy.org.pk, NOW - length, NOW)
        assert expected is not None
        assert truncate_percent(overall.percent) == truncate_percent(expected)
        assert model_uptime.percent == overall.percent  # one model: the organisation's figure
        assert truncate_percent(primary.percent) == truncate_percent(_raw_provider(PRIMARY, NOW - length, NOW))
        assert backup.percent == 100
    # The 24 h figure by hand: windows 12 and 13 of the traffic fail half their requests; 288 windows in
    # 24 h, 6 of them under maintenance: 100 x (1 - 1/282) = 99.645390…
    assert truncate_percent(headline.overall[0].percent) == "99.64"
    assert truncate_percent(headline.models[0].deployments[0].uptimes[0].percent) == "94.44"


def test_rescued_requests_and_their_share_equal_the_raw_count(busy: Accounts) -> None:
    headline = dashboard.headline(organization_id=busy.org.pk, models=[MODEL], now=NOW)
    raw = Request.objects.filter(org_id=busy.org.pk)
    for rescue in headline.rescues:
        assert rescue.stats.requests == raw.count() == 720
        assert rescue.stats.rescued == raw.filter(rescued=True).count() == 20
        assert rescue.share == Decimal(20 * 100) / Decimal(720)
        assert truncate_percent(rescue.share) == "2.77"  # 2.777…, never rounded up to 2.78


def test_periods_without_traffic_are_no_data_never_100(accounts: Accounts) -> None:
    long_ago = NOW - timedelta(days=40)
    traffic(accounts.org.pk, start=long_ago, minutes=10)
    states(long_ago)
    DeploymentStateChange.objects.all().delete()  # no state recorded at all: provider uptime has no data
    headline = dashboard.headline(organization_id=accounts.org.pk, models=[MODEL], now=NOW)
    assert [u.percent for u in headline.overall[:3]] == [None, None, None]
    assert headline.overall[3].percent == 100
    assert all(u.percent is None for row in headline.models[0].deployments for u in row.uptimes)
    assert [r.share for r in headline.rescues[:3]] == [None, None, None]


def test_deployments_are_those_configured_for_the_models_the_organisation_asked_for(busy: Accounts) -> None:
    assert dashboard.models_of(organization_id=busy.org.pk) == [MODEL]
    assert dashboard.deployments_by_model([MODEL, "unknown", "sim-b/chat"]) == {
        MODEL: [(PRIMARY, "sim-a"), (BACKUP, "sim-b")],
        "unknown": [],
        "sim-b/chat": [(BACKUP, "sim-b")],  # a pinned deployment serves only itself
    }


def _nearest_rank(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(1, math.ceil(Fraction(str(q)) * len(ordered))) - 1]


def test_series_buckets_local_time_and_takes_quantiles_from_sketches(busy: Accounts) -> None:
    points = series.request_series(organization_id=busy.org.pk, start=START, end=NOW, tz=BERLIN, now=NOW, model=MODEL)
    assert points.step == timedelta(minutes=1)
    raw = list(Request.objects.filter(org_id=busy.org.pk).values_list("started_at", "outcome", "latency_ms", "rescued"))
    by_bucket: dict[datetime, list[tuple[str, float, bool]]] = defaultdict(list)
    for at, outcome, latency, rescued in raw:
        local = at.astimezone(BERLIN).replace(tzinfo=None, second=0, microsecond=0)
        by_bucket[local].append((outcome, latency, rescued))
    assert points.starts[0] == START.astimezone(BERLIN).replace(tzinfo=None)  # 14:00 in Berlin (summer time)
    for i, start in enumerate(points.starts):
        rows = by_bucket.get(start, [])
        assert points.requests[i] == len(rows)
        assert points.rescued[i] == sum(r for _, _, r in rows)
        assert sum(counts[i] for counts in points.failures.values()) == sum(o != "ok" for o, _, _ in rows)
        latencies = [latency for outcome, latency, _ in rows if outcome == "ok"]
        for q, column in points.latency_ms.items():
            if not latencies:
                assert column[i] is None
            else:
                exact = _nearest_rank(latencies, q)
                assert abs(column[i] - exact) <= 0.01 * exact  # type: ignore[operator]


def test_series_over_a_dst_change_keeps_every_request_in_local_days(accounts: Accounts) -> None:
    # Berlin moves to summer time at 02:00 on 29 March 2026: that local day has 23 hours.
    for day in (28, 29, 30):
        traffic(accounts.org.pk, start=datetime(2026, 3, day, 0, 30, tzinfo=BERLIN), minutes=120, per_minute=1)
    start = datetime(2026, 3, 1, tzinfo=BERLIN)
    points = series.request_series(organization_id=accounts.org.pk, start=start, end=NOW, tz=BERLIN, now=NOW)
    assert points.step == timedelta(hours=6)
    assert sum(points.requests) == Request.objects.filter(org_id=accounts.org.pk).count() == 360
    assert points.starts[0] == datetime(2026, 3, 1)
    by_day: dict[int, int] = defaultdict(int)
    for start_at, n in zip(points.starts, points.requests, strict=True):
        by_day[start_at.day] += n
    assert [by_day[d] for d in (28, 29, 30)] == [120, 120, 120]
    assert all(s.hour in {0, 6, 12, 18} for s in points.starts)  # local wall-clock buckets, even on the 29th


def test_bucket_size_follows_the_range() -> None:
    def step(length: timedelta) -> timedelta:
        return series.choose_step(start=NOW - length, end=NOW, now=NOW)

    assert step(timedelta(hours=2)) == timedelta(minutes=1)
    assert step(timedelta(hours=24)) == timedelta(minutes=15)
    assert step(timedelta(days=7)) == timedelta(hours=1)
    assert step(timedelta(days=30)) == timedelta(hours=6)
    assert step(timedelta(days=90)) == timedelta(days=1)
    assert step(timedelta(days=366)) == timedelta(days=1)
    # Minute rows are gone after MONITORING_MINUTE_ROLLUP_DAYS: an old short range reads hour rows.
    assert series.choose_step(start=NOW - timedelta(days=60), end=NOW - timedelta(days=59), now=NOW) == timedelta(
        hours=1
    )

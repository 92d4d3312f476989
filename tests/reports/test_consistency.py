"""Every figure of an SLA report equals an independent computation from the raw request records and the
state intervals of the same period: October 2025 in Europe/Berlin (its last Sunday has 25 hours), with
outages, failures inside a maintenance window, client errors, a day with no traffic and incidents. The
report reads rollups only (rolled up here with monitoring.rollups.roll_span). Time is frozen: ``NOW``."""

from __future__ import annotations

import math
import random
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from accounts.models import Organization
from gateway.events.outcomes import Outcome
from monitoring import rollups
from monitoring.models import (
    Attempt,
    DeploymentStateChange,
    Incident,
    IncidentImpact,
    IncidentScope,
    IncidentStatus,
    MaintenanceWindow,
    Request,
)
from reports import figures, outputs
from reports.models import ReportSettings
from reports.periods import Period
from tests.conftest import Accounts
from tests.monitoring.traffic import attempt, request, save

BERLIN = ZoneInfo("Europe/Berlin")
PERIOD = Period(date(2025, 10, 1), date(2025, 10, 31), BERLIN)
START = datetime(2025, 9, 30, 22, 0, tzinfo=UTC)  # 1 October, 00:00 CEST
END = datetime(2025, 10, 31, 23, 0, tzinfo=UTC)  # 1 November, 00:00 CET
NOW = datetime(2025, 11, 3, 9, 30, tzinfo=UTC)
DOWN = {Outcome.SERVER_ERROR.value, Outcome.TIMEOUT.value}  # the only downtime outcomes this history uses
DEPLOYMENT, SILENT = "sim-a/chat", "sim-b/chat"
ORG_MAINTENANCE = (datetime(2025, 10, 15, 3, tzinfo=UTC), datetime(2025, 10, 15, 4, tzinfo=UTC))
DEPLOYMENT_MAINTENANCE = (datetime(2025, 10, 12, 10, tzinfo=UTC), datetime(2025, 10, 12, 11, tzinfo=UTC))
NO_TRAFFIC_DAY = date(2025, 10, 18)
TIERS = [{"below": "99.95", "credit": "5"}, {"below": "99.9", "credit": "10"}, {"below": "99", "credit": "30"}]
FIVE = timedelta(minutes=5)


def _utc(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2025, month, day, hour, minute, tzinfo=UTC)


def _traffic(org_id: int, rng: random.Random) -> list[Request]:
    rows: list[Request] = []

    def add(at: datetime, outcome: Outcome = Outcome.OK, **extra: Any) -> None:
        latency = rng.uniform(80, 2000) if outcome is Outcome.OK else rng.uniform(5, 50)
        ttft = rng.uniform(20, 400) if outcome is Outcome.OK and rng.random() < 0.5 else None
        tokens = (rng.randint(1, 900), rng.randint(1, 400))
        rows.append(
            request(at, org_id=org_id, outcome=outcome, latency_ms=latency, ttft_ms=ttft, tokens=tokens, **extra)
        )

    at = START - timedelta(hours=2)  # traffic before and after the period too: never counted
    while at < END + timedelta(hours=2):
        if at.astimezone(BERLIN).date() != NO_TRAFFIC_DAY:
            for n in range(3):
                roll = rng.random()
                outcome = Outcome.CLIENT_ERROR if roll < 0.03 else Outcome.OK
                add(
                    at + timedelta(seconds=7 * n + rng.randint(0, 5)),
                    outcome,
                    rescued=roll > 0.97,
                    failovers=int(roll > 0.97),
                )
        at += timedelta(minutes=20)
    # Outage: 14:00-14:40 UTC on 7 October, 6 of 10 requests fail each minute.
    for minute in range(40):
        for n in range(10):
            add(_utc(10, 7, 14, minute) + timedelta(seconds=n * 5), Outcome.SERVER_ERROR if n < 6 else Outcome.OK)
    # The 25-hour day: timeouts in the repeated hour (02:30-03:00 CEST is 00:30-01:00 UTC), 1 of 4 each minute.
    for minute in range(30, 60):
        for n in range(4):
            add(_utc(10, 26, 0, minute) + timedelta(seconds=n * 10), Outcome.TIMEOUT if n == 0 else Outcome.OK)
    # A minute with 1 failure in 30: counts in the error rate, not as a downtime minute (3.3 % ≤ 5 %).
    for n in range(30):
        add(_utc(10, 21, 9, 12) + timedelta(seconds=n), Outcome.SERVER_ERROR if n == 0 else Outcome.OK)
    # Everything fails inside the organisation's maintenance window: left out.
    for minute in range(0, 60, 3):
        add(ORG_MAINTENANCE[0] + timedelta(minutes=minute), Outcome.SERVER_ERROR)
    # The first and last minutes of the local month, and just outside it.
    for at in (START, START + timedelta(seconds=59), END - timedelta(seconds=1), END, START - timedelta(seconds=1)):
        add(at, Outcome.SERVER_ERROR)
    return rows


def _states() -> None:
    changes = [
        (_utc(9, 20, 0), "unknown", "up"),
        (_utc(10, 7, 14), "up", "down"),
        (_utc(10, 7, 14, 30), "down", "up"),
        (_utc(10, 10, 8), "up", "degraded"),
        (_utc(10, 10, 9), "degraded", "up"),
        (_utc(10, 12, 10, 30), "up", "down"),  # inside the deployment's maintenance: left out
        (_utc(10, 12, 10, 50), "down", "up"),
        (_utc(10, 20, 0), "up", "unknown"),
        (_utc(10, 20, 6), "unknown", "up"),
        (_utc(10, 26, 0, 40), "up", "down"),
        (_utc(10, 26, 1, 10), "down", "up"),
    ]
    DeploymentStateChange.objects.bulk_create(
        [DeploymentStateChange(deployment=DEPLOYMENT, provider="sim-a", at=at, old=o, new=n) for at, o, n in changes]
    )


def _incidents(org: Organization, other: Organization) -> None:
    def make(opened: datetime, resolved: datetime | None, **fields: Any) -> Incident:
        status = IncidentStatus.RESOLVED if resolved else IncidentStatus.OPEN
        return Incident.objects.create(opened_at=opened, resolved_at=resolved, status=status, **fields)

    org_fields = {"scope": IncidentScope.ORGANIZATION, "organization": org}
    make(_utc(10, 7, 14, 1), _utc(10, 7, 14, 41), title="errors over 5 %", affected_requests=240, **org_fields)
    make(_utc(9, 30, 21), _utc(9, 30, 23), title="across the start", affected_requests=4, **org_fields)
    make(_utc(9, 29, 0), _utc(9, 29, 1), title="before the period", affected_requests=9, **org_fields)
    make(_utc(10, 31, 22, 30), None, title="still open", affected_requests=1, **org_fields)
    shared = make(
        _utc(10, 26, 0, 40),
        _utc(10, 26, 1, 10),
        scope=IncidentScope.DEPLOYMENT,
        deployment=DEPLOYMENT,
        title="sim-a/chat down",
        affected_requests=99,
        rescued_requests=50,
    )
    IncidentImpact.objects.create(incident=shared, organization=org, affected_requests=30, rescued_requests=12)
    IncidentImpact.objects.create(incident=shared, organization=other, affected_requests=69, rescued_requests=38)
    make(_utc(10, 9, 0), _utc(10, 9, 5), scope=IncidentScope.ORGANIZATION, organization=other, title="not ours")


@pytest.fixture
def history(accounts: Accounts) -> Organization:
    org = accounts.org
    org.timezone = "Europe/Berlin"
    org.save(update_fields=["timezone"])
    ReportSettings.objects.create(
        organization=org, sla_target=Decimal("99.95"), credit_tiers=TIERS, monthly_fee=Decimal("1000.00")
    )
    rng = random.Random(12)
    save(*_traffic(org.pk, rng), *_traffic(accounts.other_org.pk, random.Random(13))[:500])
    save(*[attempt(_utc(10, d, 12), deployment=DEPLOYMENT, latency_ms=100.0 + d) for d in range(1, 32)])
    save(attempt(_utc(10, 3, 12), deployment=SILENT))
    _states()
    MaintenanceWindow.objects.create(
        organization=org, starts_at=ORG_MAINTENANCE[0], ends_at=ORG_MAINTENANCE[1], title="ours"
    )
    MaintenanceWindow.objects.create(
        deployment=DEPLOYMENT,
        starts_at=DEPLOYMENT_MAINTENANCE[0],
        ends_at=DEPLOYMENT_MAINTENANCE[1],
        title="operator's",
    )
    _incidents(org, accounts.other_org)
    rollups.roll_span(start=START - timedelta(hours=3), end=END + timedelta(hours=3))
    return org


# The independent computation: from raw rows and the intervals above, by definition (docs/uptime.md).


def _cut(value: Fraction, decimals: int) -> str:
    scaled = math.floor(value * 10**decimals)
    return f"{Decimal(scaled).scaleb(-decimals):.{decimals}f}"


def _in_maintenance(window: datetime) -> bool:
    return window < ORG_MAINTENANCE[1] and window + FIVE > ORG_MAINTENANCE[0]


def _effective(rows: list[tuple[datetime, str]], start: datetime, end: datetime) -> dict[str, Any]:
    windows: dict[datetime, list[str]] = defaultdict(list)
    minutes: dict[datetime, list[str]] = defaultdict(list)
    for at, outcome in rows:
        if start <= at < end:
            windows[at - (at - START) % FIVE].append(outcome)
            minutes[at.replace(second=0, microsecond=0)].append(outcome)
    counted = [start + FIVE * i for i in range((end - start) // FIVE) if not _in_maintenance(start + FIVE * i)]
    rates = sum(
        (Fraction(sum(o in DOWN for o in windows[w]), len(windows[w])) for w in counted if windows[w]), Fraction(0)
    )
    requests = sum(len(windows[w]) for w in counted)
    down_minutes = sum(
        1
        for m, outcomes in minutes.items()
        if not _in_maintenance(m - (m - START) % FIVE) and 20 * sum(o in DOWN for o in outcomes) > len(outcomes)
    )
    percent = 100 * (1 - rates / len(counted)) if requests else None
    return {"percent": percent, "windows": len(counted), "requests": requests, "downtime_minutes": down_minutes}


def _provider_seconds() -> dict[str, float]:
    """Seconds of each state in October (local), outside the maintenance windows, from the intervals above."""
    changes = list(DeploymentStateChange.objects.filter(deployment=DEPLOYMENT).order_by("at").values_list("at", "new"))
    off = [DEPLOYMENT_MAINTENANCE, ORG_MAINTENANCE]
    spent: dict[str, float] = defaultdict(float)
    second = timedelta(seconds=1)
    at = START
    while at < END:  # second by second would be slow: step to the next boundary
        state = [new for when, new in changes if when <= at][-1]
        maint = any(s <= at < e for s, e in off)
        boundaries = [t for t in [*(w for w, _ in changes), *(x for s, e in off for x in (s, e)), END] if t > at]
        following = min(boundaries)
        spent["maintenance" if maint else state] += (following - at) / second
        at = following
    return spent


def _nearest_rank(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def test_every_figure_equals_an_independent_computation(history: Organization) -> None:
    org = history
    raw = list(
        Request.objects.filter(org_id=org.pk).values_list(
            "started_at", "outcome", "latency_ms", "ttft_ms", "prompt_tokens", "completion_tokens", "rescued"
        )
    )
    report = figures.sla_report(organization=org, period=PERIOD, now=NOW)
    shown = outputs.figures(report)

    # Effective uptime, downtime minutes, maintenance and error budget.
    expected = _effective([(r[0], r[1]) for r in raw], START, END)
    assert expected["windows"] == (31 * 24 + 1) * 12 - 12  # the 25-hour day, less one hour of maintenance
    assert report.effective.windows == expected["windows"]
    assert report.effective.percent == Decimal(_cut(expected["percent"], 12))
    assert shown["effective_uptime_percent"] == _cut(expected["percent"], 3)
    assert shown["downtime_minutes"] == expected["downtime_minutes"] == 40 + 30 + 2  # + the month's edges
    assert shown["maintenance_minutes"] == 60
    assert shown["counted_minutes"] == expected["windows"] * 5
    target = Fraction(9995, 100)
    counted_minutes = Fraction(expected["windows"] * 5)
    used = (100 - expected["percent"]) / 100 * counted_minutes
    allowed = (100 - target) / 100 * counted_minutes
    assert shown["error_budget"] == {
        "allowed_minutes": _cut(allowed, 1),
        "used_minutes": _cut(used, 1),
        "left_minutes": _cut(max(Fraction(0), allowed - used), 1),
        "used_percent": _cut(used / allowed * 100, 2),
        "left_percent": _cut(max(Fraction(0), 100 - used / allowed * 100), 2),
    }
    assert shown["target_met"] is (expected["percent"] >= target)

    # Service credit: the lowest threshold the uptime is below.
    credit = next(
        (Decimal(t["credit"]) for t in reversed(TIERS) if expected["percent"] < Fraction(t["below"])), Decimal(0)
    )
    assert Decimal(shown["service_credit"]["percent"]) == credit == Decimal(5)
    assert shown["service_credit"]["amount"] == "50.00"

    # Traffic: counts, tokens and nearest-rank quantiles (within the sketch's 1 %).
    inside = [r for r in raw if START <= r[0] < END]
    traffic = shown["traffic"]
    assert traffic["requests"] == len(inside)
    assert traffic["prompt_tokens"] == sum(r[4] for r in inside)
    assert traffic["completion_tokens"] == sum(r[5] for r in inside)
    assert traffic["rescued"] == sum(1 for r in inside if r[6])
    assert traffic["downtime_failures"] == sum(1 for r in inside if r[1] in DOWN)
    ok = [r for r in inside if r[1] == Outcome.OK.value]
    for q, name in ((0.5, "p50"), (0.95, "p95"), (0.99, "p99")):
        exact_latency = _nearest_rank([r[2] for r in ok], q)
        exact_ttft = _nearest_rank([r[3] for r in ok if r[3] is not None], q)
        assert abs(traffic["latency_ms"][name] - exact_latency) <= exact_latency * 0.01 + 0.05
        assert abs(traffic["ttft_ms"][name] - exact_ttft) <= exact_ttft * 0.01 + 0.05

    # Each local day: its uptime, downtime minutes and requests; 26 October has 25 hours.
    days = {row["day"]: row for row in shown["days"] if row["component"] == "effective"}
    assert len(days) == 31
    for day, day_start, day_end in _local_days():
        got = days[day.isoformat()]
        want = _effective([(r[0], r[1]) for r in raw], day_start, day_end)
        assert got["uptime_percent"] == (None if want["percent"] is None else _cut(want["percent"], 3)), day
        assert got["downtime_minutes"] == (None if want["percent"] is None else want["downtime_minutes"]), day
        assert got["requests"] == sum(1 for r in raw if day_start <= r[0] < day_end), day
    assert days["2025-10-18"]["uptime_percent"] is None  # no traffic: no data, never 100 %
    assert shown["no_data_days"] == 1
    assert days["2025-10-26"]["uptime_percent"] != "100.000"

    # The provider's own uptime, from its state intervals (maintenance of the operator's and the org's out).
    spent = _provider_seconds()
    provider = {p["deployment"]: p for p in shown["providers"]}
    sim_a = provider[DEPLOYMENT]
    counted = spent["up"] + spent["degraded"] + spent["down"]
    assert sim_a["uptime_percent"] == _cut(100 * (1 - Fraction(spent["down"]) / Fraction(counted)), 3)
    assert sim_a["downtime_seconds"] == spent["down"] == 30 * 60 + 30 * 60
    assert sim_a["maintenance_seconds"] == spent["maintenance"] == 2 * 3600
    assert sim_a["no_data_seconds"] == spent["unknown"] == 6 * 3600
    assert (
        sim_a["traffic"]["requests"]
        == Attempt.objects.filter(deployment=DEPLOYMENT, started_at__gte=START, started_at__lt=END).count()
        == 31
    )
    assert provider[SILENT]["uptime_percent"] is None  # traffic but no recorded state: no data
    assert provider[SILENT]["traffic"]["requests"] == 1
    # Each of its local days carries that day's attempts too.
    provider_days = {row["day"]: row for row in shown["days"] if row["component"] == DEPLOYMENT}
    for day, day_start, day_end in _local_days():
        attempts = Attempt.objects.filter(deployment=DEPLOYMENT, started_at__gte=day_start, started_at__lt=day_end)
        assert provider_days[day.isoformat()]["requests"] == attempts.count(), day

    # Incidents: ours (and the shared one's own counts), open at some time of the period.
    incidents = shown["incidents"]
    durations = [40 * 60, 2 * 3600, (NOW - _utc(10, 31, 22, 30)).total_seconds(), 30 * 60]
    assert incidents["count"] == 4
    assert {row["title"] for row in incidents["list"]} == {
        "errors over 5 %",
        "across the start",
        "still open",
        "sim-a/chat down",
    }
    assert incidents["longest_seconds"] == int(max(durations))
    assert incidents["mean_duration_seconds"] == int(sum(durations) / 4)
    assert incidents["mttr_seconds"] == int((40 * 60 + 2 * 3600 + 30 * 60) / 3)
    assert incidents["affected_requests"] == 240 + 4 + 1 + 30
    assert incidents["rescued_requests"] == 12


def _local_days() -> list[tuple[date, datetime, datetime]]:
    days = []
    for n in range(31):
        day = date(2025, 10, 1) + timedelta(days=n)
        start = datetime(day.year, day.month, day.day, tzinfo=BERLIN).astimezone(UTC)
        following = day + timedelta(days=1)
        days.append(
            (day, start, datetime(following.year, following.month, following.day, tzinfo=BERLIN).astimezone(UTC))
        )
    return days


def test_the_api_json_holds_the_same_figures(history: Organization, client: Any, accounts: Accounts) -> None:
    client.force_login(accounts.member)
    response = client.get(f"/api/orgs/{history.pk}/reports/sla/", {"start": "2025-10-01", "end": "2025-10-31"})
    assert response.status_code == 200
    body = response.json()
    direct = outputs.figures(figures.sla_report(organization=history, period=PERIOD, now=NOW))
    for key in (
        "effective_uptime_percent",
        "downtime_minutes",
        "error_budget",
        "service_credit",
        "traffic",
        "providers",
        "days",
        "no_data_days",
        "maintenance_minutes",
    ):
        assert body[key] == direct[key], key
    assert body["period"]["timezone"] == "Europe/Berlin"  # the organisation's, by default
    assert {k: v for k, v in body["incidents"].items() if "seconds" not in k and k != "list"} == {
        k: v for k, v in direct["incidents"].items() if "seconds" not in k and k != "list"
    }

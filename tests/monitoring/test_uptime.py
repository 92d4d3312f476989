"""Both uptimes and downtime minutes, to the second, for known outages, maintenance and no-data time,
against a computation written here from the raw records; month ends, DST days, periods in progress.
Time is frozen by passing ``now`` to every selector."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from accounts.models import Organization
from gateway.events.outcomes import Outcome, counts_as_downtime
from gateway.events.records import LOCAL_INBOUNDS
from monitoring import rollups, uptime
from monitoring.models import Attempt, DeploymentStateChange, MaintenanceWindow, Request
from tests.monitoring.traffic import request, save

DAY = datetime(2026, 3, 1, tzinfo=UTC)
FIVE = timedelta(minutes=5)
MINUTE = timedelta(minutes=1)
BERLIN = ZoneInfo("Europe/Berlin")


def at(hh: int, mm: int, ss: int = 0) -> datetime:
    return DAY + timedelta(hours=hh, minutes=mm, seconds=ss)


@dataclass
class Raw:
    at: datetime
    outcome: Outcome
    inbound: str = "openai.chat"


def build_traffic(org: Organization) -> list[Raw]:
    """Six hours of 10 requests a minute with known failures."""
    raw = []
    for minute in range(6 * 60):
        start = DAY + minute * MINUTE
        outcomes = [Outcome.OK] * 10
        if 60 <= minute < 72:  # 01:00-01:12: 3 in 10 fail, 12 downtime minutes
            outcomes[:3] = [Outcome.SERVER_ERROR, Outcome.TIMEOUT, Outcome.RATE_LIMITED]
        if minute == 150:  # 02:30: the clients' own errors are nobody's downtime
            outcomes[:5] = [Outcome.CLIENT_ERROR, Outcome.LIMITED, Outcome.CONTEXT_LENGTH] + [Outcome.CLIENT_ERROR] * 2
        if minute == 180:  # 03:00: 1 in 20 fails: an error rate, but not above 5 %: no downtime minute
            outcomes += [Outcome.OK] * 9 + [Outcome.CONNECT]
        if 240 <= minute < 270:  # 04:00-04:30: a maintenance window, all failing
            outcomes = [Outcome.SERVER_ERROR] * 10
        raw += [Raw(start + timedelta(seconds=n), outcome) for n, outcome in enumerate(outcomes)]
        raw.append(Raw(start, Outcome.SERVER_ERROR, "anthropic.count_tokens"))  # never in uptime math
    save(*(request(r.at, org_id=org.pk, outcome=r.outcome, inbound=r.inbound) for r in raw))
    MaintenanceWindow.objects.create(organization=org, starts_at=at(4, 0), ends_at=at(4, 30), title="upgrade")
    MaintenanceWindow.objects.create(organization=None, starts_at=at(5, 2), ends_at=at(5, 3), title="operator")
    MaintenanceWindow.objects.create(
        organization=org, deployment="dep-a", starts_at=at(2, 0), ends_at=at(2, 5), title="x"
    )
    rollups.roll_span(start=DAY, end=DAY + timedelta(hours=6))
    return raw


def expected_effective(
    raw: list[Raw], start: datetime, end: datetime, maintenance: list[tuple[datetime, datetime]]
) -> Any:
    """S3's mean of 5-minute error rates and Google's downtime minutes, from the raw records."""
    windows = [start + n * FIVE for n in range((end - start) // FIVE)]
    counted = [w for w in windows if not any(s < w + FIVE and e > w for s, e in maintenance)]
    rates, minutes, requests, failures = [], 0, 0, 0
    for window in counted:
        inside = [r for r in raw if window <= r.at < window + FIVE and r.inbound not in LOCAL_INBOUNDS]
        failed = [r for r in inside if counts_as_downtime(r.outcome)]
        rates.append(Fraction(len(failed), len(inside)) if inside else Fraction(0))
        requests, failures = requests + len(inside), failures + len(failed)
        for m in range(5):
            in_minute = [r for r in inside if window + m * MINUTE <= r.at < window + (m + 1) * MINUTE]
            bad = [r for r in in_minute if counts_as_downtime(r.outcome)]
            minutes += bool(in_minute) and len(bad) / len(in_minute) > 0.05
    return 100 * (1 - sum(rates) / len(rates)), minutes, requests, failures, len(counted)


@pytest.mark.django_db
def test_effective_uptime_is_the_mean_of_five_minute_error_rates_with_maintenance_left_out(accounts: Any) -> None:
    raw = build_traffic(accounts.org)
    now = at(12, 0)
    result = uptime.effective_uptime(organization_id=accounts.org.pk, start=DAY, end=at(6, 0), now=now)
    percent, minutes, requests, failures, windows = expected_effective(
        raw, DAY, at(6, 0), [(at(4, 0), at(4, 30)), (at(5, 2), at(5, 3))]
    )
    assert result.percent == Decimal(uptime.truncate_percent(percent, 12))
    assert (
        (result.downtime_minutes, result.requests, result.failures) == (minutes, requests, failures) == (12, 3260, 37)
    )
    assert (result.windows, result.maintenance_windows) == (windows, 7) == (65, 7)
    assert uptime.truncate_percent(result.percent, 3) == "98.866"  # 100 - (0.3 + 0.3 + 6/50 + 1/60) / 65 windows
    by_model = uptime.effective_uptime(organization_id=accounts.org.pk, model="gpt-x", start=DAY, end=at(6, 0), now=now)
    assert by_model == result
    other = uptime.effective_uptime(organization_id=accounts.other_org.pk, start=DAY, end=at(6, 0), now=now)
    assert other.percent is None and other.requests == 0  # no data, never 100 %


@pytest.mark.django_db
def test_uptime_reads_only_rollups_so_raw_rows_can_be_dropped(accounts: Any) -> None:
    build_traffic(accounts.org)
    before = uptime.effective_uptime(organization_id=accounts.org.pk, start=DAY, end=at(6, 0), now=at(12, 0))
    Request.objects.all().delete()
    Attempt.objects.all().delete()
    assert uptime.effective_uptime(organization_id=accounts.org.pk, start=DAY, end=at(6, 0), now=at(12, 0)) == before


@pytest.mark.django_db
def test_a_period_in_progress_counts_only_the_windows_that_have_started(accounts: Any) -> None:
    raw = build_traffic(accounts.org)
    now = at(1, 7, 30)
    result = uptime.effective_uptime(organization_id=accounts.org.pk, start=DAY, end=DAY + timedelta(days=1), now=now)
    # The window in progress counts whole, as far as it has come (the traffic after now stands in for it).
    percent, minutes, requests, _, windows = expected_effective(raw, DAY, at(1, 10), [])
    assert (result.windows, result.end) == (windows, now) == (14, now)
    assert result.percent == Decimal(uptime.truncate_percent(percent, 12))
    assert (result.downtime_minutes, result.requests) == (minutes, requests) == (10, 700)
    before = uptime.effective_uptime(organization_id=accounts.org.pk, start=DAY, end=at(6, 0), now=DAY - MINUTE)
    assert before.percent is None and before.windows == 0


def change(deployment: str, moment: datetime, old: str, new: str) -> None:
    DeploymentStateChange.objects.create(deployment=deployment, provider="sim", at=moment, old=old, new=new)


@pytest.mark.django_db
def test_provider_uptime_weighs_state_time_and_reports_maintenance_and_no_data_apart(
    accounts: Any, settings: Any
) -> None:
    org = accounts.org
    MaintenanceWindow.objects.create(organization=org, starts_at=at(4, 0), ends_at=at(4, 30), title="upgrade")
    MaintenanceWindow.objects.create(organization=None, starts_at=at(5, 2), ends_at=at(5, 3), title="operator")
    MaintenanceWindow.objects.create(
        organization=None, deployment="dep-b", starts_at=at(1, 0), ends_at=at(2, 0), title="b"
    )
    for moment, old, new in [
        (at(0, 30), "unknown", "up"),  # 00:00-00:30: before the first record, no data
        (at(1, 0), "up", "down"),
        (at(1, 12, 30), "down", "degraded"),
        (at(1, 20), "degraded", "up"),
        (at(3, 10), "up", "unknown"),
        (at(3, 20), "unknown", "up"),
        (at(4, 10), "up", "down"),  # inside maintenance until 04:30, then down 10 minutes
        (at(4, 40), "down", "up"),
    ]:
        change("dep-a", moment, old, new)
    result = uptime.provider_uptime(deployment="dep-a", start=DAY, end=at(6, 0), now=at(12, 0), organization_id=org.pk)
    no_data, maintenance, down, degraded = 30 * 60 + 10 * 60, 30 * 60 + 60, 12.5 * 60 + 10 * 60, 7.5 * 60
    counted = 6 * 3600 - no_data - maintenance
    assert (result.no_data_seconds, result.maintenance_seconds) == (no_data, maintenance)
    assert (result.down_seconds, result.degraded_seconds) == (down, degraded)
    assert result.up_seconds == counted - down - degraded
    assert result.percent == Decimal(uptime.truncate_percent(100 * (1 - Fraction(int(down), int(counted))), 12))
    settings.MONITORING_DEGRADED_WEIGHT = 0.3  # Statuspage's weight for a partial outage
    weighted = uptime.provider_uptime(
        deployment="dep-a", start=DAY, end=at(6, 0), now=at(12, 0), organization_id=org.pk
    )
    expected = 100 * (1 - (Fraction(int(down)) + Fraction(3, 10) * int(degraded)) / int(counted))
    assert weighted.percent == Decimal(uptime.truncate_percent(expected, 12))
    assert weighted.downtime_seconds == down + 0.3 * degraded
    operator_only = uptime.provider_uptime(deployment="dep-a", start=DAY, end=at(6, 0), now=at(12, 0))
    assert operator_only.maintenance_seconds == 60  # the organisation's own window is not the operator's


@pytest.mark.django_db
def test_a_deployment_without_records_has_no_data_not_full_uptime() -> None:
    result = uptime.provider_uptime(deployment="nothing", start=DAY, end=at(6, 0), now=at(3, 0))
    assert result.percent is None and result.no_data_seconds == 3 * 3600 and result.end == at(3, 0)
    change("dep-u", at(0, 0), "up", "unknown")
    assert uptime.provider_uptime(deployment="dep-u", start=DAY, end=at(6, 0), now=at(9, 0)).percent is None


def test_percentages_are_truncated_never_rounded_up() -> None:
    assert uptime.truncate_percent(99.996, 2) == "99.99"
    assert uptime.truncate_percent(Fraction(99999, 1000), 2) == "99.99"
    assert uptime.truncate_percent(Decimal("99.9999999"), 3) == "99.999"
    assert uptime.truncate_percent(100, 1) == "100.0"


@pytest.mark.django_db
def test_days_across_a_month_end_and_dst_changes_have_their_own_length(accounts: Any) -> None:
    org = accounts.org.pk
    # Berlin: 29 March 2026 has 23 hours, 25 October 2026 has 25.
    for day, hours in ((date(2026, 3, 29), 23), (date(2026, 10, 25), 25)):
        local_midnight = datetime.combine(day, datetime.min.time(), tzinfo=BERLIN).astimezone(UTC)
        save(
            request(local_midnight, org_id=org),  # the first second of the local day
            request(local_midnight - timedelta(seconds=1), org_id=org, outcome=Outcome.SERVER_ERROR),  # the day before
        )
        rollups.roll_span(start=local_midnight - timedelta(hours=1), end=local_midnight + timedelta(hours=1))
        now = local_midnight + timedelta(days=3)
        (_, previous), (_, today) = uptime.daily_effective_uptime(
            organization_id=org, first=day - timedelta(days=1), last=day, tz=BERLIN, now=now
        )
        assert today.windows == hours * 12 and (today.requests, today.failures) == (1, 0)
        assert uptime.truncate_percent(today.percent or 0, 3) == "100.000"
        assert previous.failures == 1 and previous.percent == Decimal(
            uptime.truncate_percent(100 - Fraction(100, 24 * 12), 12)
        )
        change("dep-a", local_midnight - timedelta(days=2), "unknown", "up")
        ((_, provider_day),) = uptime.daily_provider_uptime(deployment="dep-a", first=day, last=day, tz=BERLIN, now=now)
        assert provider_day.up_seconds == hours * 3600
        DeploymentStateChange.objects.all().delete()
    month = uptime.daily_effective_uptime(
        organization_id=org,
        first=date(2026, 3, 31),
        last=date(2026, 4, 1),
        tz=ZoneInfo("UTC"),
        now=datetime(2026, 4, 1, 12, tzinfo=UTC),
    )
    assert [(d, r.windows) for d, r in month] == [(date(2026, 3, 31), 288), (date(2026, 4, 1), 144)]
    assert all(r.percent is None for _, r in month)  # no traffic: no data


@pytest.mark.django_db
def test_long_ranges_read_day_and_hour_sums_and_agree_with_the_windows(accounts: Any) -> None:
    raw = build_traffic(accounts.org)
    next_day = [Raw(DAY + timedelta(days=1, hours=3, seconds=n), Outcome.OK) for n in range(20)]
    next_day += [Raw(DAY + timedelta(days=1, hours=9), Outcome.SERVER_ERROR)]
    save(*(request(r.at, org_id=accounts.org.pk, outcome=r.outcome) for r in next_day))
    rollups.roll_span(start=DAY + timedelta(days=1), end=DAY + timedelta(days=2))
    start, end = DAY - timedelta(hours=1, minutes=5), DAY + timedelta(days=2, minutes=10)
    assert {level for level, _ in uptime._pieces(start, end, [])} == {0, 1, 2}  # days, hours and windows
    result = uptime.effective_uptime(organization_id=accounts.org.pk, start=start, end=end, now=end)
    percent, minutes, requests, failures, windows = expected_effective(
        raw + next_day, start, end, [(at(4, 0), at(4, 30)), (at(5, 0), at(5, 5))]
    )
    assert (result.downtime_minutes, result.requests, result.failures, result.windows) == (
        minutes,
        requests,
        failures,
        windows,
    )
    assert result.percent == Decimal(uptime.truncate_percent(percent, 12))


def test_pieces_cover_the_span_and_leave_every_maintenance_window_to_window_rows() -> None:
    start, end = DAY - timedelta(days=3, minutes=55), DAY + timedelta(days=4, hours=2, minutes=5)
    off = [(at(4, 0), at(4, 30)), (at(5, 0), at(5, 5)), (DAY + timedelta(days=2, hours=23, minutes=55), at(72, 5))]
    pieces = uptime._pieces(start, end, off)
    spans = [span for _, span in pieces]
    assert spans[0][0] == start and spans[-1][1] == end
    assert all(a[1] == b[0] for a, b in itertools.pairwise(spans))  # no gap, no overlap
    for level, (s, e) in pieces:
        step = uptime._LEVELS[level][0]
        assert (s - uptime._EPOCH) % step == (e - uptime._EPOCH) % step == timedelta(0)
        if step != uptime.WINDOW:
            assert not any(os < e and oe > s for os, oe in off)
    assert len(pieces) < 20  # whole days and hours, not 2,200 windows

"""Report figures at their edges: a period in progress counts until now, the credit tier that applies, an
overspent error budget, and incidents without a resolved one. Time is frozen: ``now`` is passed."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from monitoring.uptime import EffectiveUptime
from reports import figures, outputs
from reports.figures import IncidentRow
from reports.periods import Period
from tests.conftest import Accounts
from tests.reports.helpers import january

UTC_ZONE = ZoneInfo("UTC")
JANUARY = Period(date(2026, 1, 1), date(2026, 1, 31), UTC_ZONE)
S3 = [(Decimal("99.9"), Decimal(10)), (Decimal("99.0"), Decimal(25)), (Decimal("95.0"), Decimal(100))]


def test_a_period_in_progress_counts_only_the_time_elapsed(accounts: Accounts) -> None:
    january(accounts.org.pk)
    now = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)
    report = figures.sla_report(organization=accounts.org, period=JANUARY, now=now)
    shown = outputs.figures(report)
    assert shown["period"]["in_progress"] is True
    assert shown["period"]["counted_until"] == now.isoformat()
    assert [d.cell.day for d in report.days][-1] == date(2026, 1, 10)  # no day after today
    assert shown["counted_minutes"] == (9 * 24 + 12) * 60
    # 38 six-hourly batches of 10 requests by 10 January 12:00 (the outage starts at 09:00 that day).
    assert shown["traffic"]["requests"] == 38 * 10 + 60 + 60


def test_the_lowest_threshold_below_which_uptime_lies_gives_the_credit() -> None:
    def credit(percent: str | None) -> Decimal | None:
        value = None if percent is None else Decimal(percent)
        return figures.service_credit(percent=value, tiers=S3, monthly_fee=None, period=JANUARY).percent

    assert credit("99.95") == 0
    assert credit("99.9") == 0  # not below 99.9
    assert credit("99.899999999999") == 10
    assert credit("98.9") == 25
    assert credit("12") == 100
    assert credit(None) is None  # no data: no credit figure, never 0


def test_a_credit_amount_is_for_a_calendar_month_with_a_fee() -> None:
    month = figures.service_credit(percent=Decimal("99.5"), tiers=S3, monthly_fee=Decimal("999.99"), period=JANUARY)
    assert month.amount == Decimal("99.99")  # 10 % of 999.99, cut to the cent
    custom = Period(date(2026, 1, 1), date(2026, 1, 30), UTC_ZONE)
    assert (
        figures.service_credit(percent=Decimal("99.5"), tiers=S3, monthly_fee=Decimal(100), period=custom).amount
        is None
    )


def test_an_overspent_budget_has_nothing_left() -> None:
    now = datetime(2026, 2, 1, tzinfo=UTC)
    effective = EffectiveUptime(now, now, Decimal("99.5"), 8928, 0, 100, 5, 200)
    budget = figures.error_budget(target=Decimal("99.9"), effective=effective)
    assert budget is not None
    assert budget.used_percent == Decimal(500) and budget.left_percent == 0 and budget.left_minutes == 0
    no_data = EffectiveUptime(now, now, None, 8928, 0, 0, 0, 0)
    assert figures.error_budget(target=Decimal("99.9"), effective=no_data) is None


def test_mttr_is_over_resolved_incidents_only() -> None:
    opened = datetime(2026, 1, 1, tzinfo=UTC)
    rows = [
        IncidentRow(
            1, "a", "organization", "", opened, opened + timedelta(minutes=10), timedelta(minutes=10), 1, 0, False
        ),
        IncidentRow(2, "b", "organization", "", opened, None, timedelta(hours=2), 2, 1, False),
    ]
    summary = figures.summarize_incidents(rows)
    assert (summary.count, summary.longest, summary.mttr) == (2, timedelta(hours=2), timedelta(minutes=10))
    assert summary.mean_duration == timedelta(minutes=65)
    assert figures.summarize_incidents(rows[1:]).mttr is None
    assert figures.summarize_incidents([]).longest is None

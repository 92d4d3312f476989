"""Day bars: one cell per local day, coloured by downtime, "No data" never shown as "No downtime", and
each incident on every local day it overlaps (a Berlin DST day included). Time is frozen by ``now``."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from accounts.models import Organization
from gateway.events.outcomes import Outcome
from monitoring import day_bars, rollups
from monitoring.day_bars import DayCell
from monitoring.models import Incident, IncidentScope
from tests.monitoring.incident_helpers import state_change
from tests.monitoring.traffic import request, save

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 3, 31, 12, 0, tzinfo=UTC)


def _local(day: int, hour: int) -> datetime:
    return datetime(2026, 3, day, hour, tzinfo=BERLIN).astimezone(UTC)


def test_cells_say_no_data_no_downtime_minor_and_major_apart() -> None:
    cells = [
        DayCell(date(2026, 3, 1), None, None, ()),
        DayCell(date(2026, 3, 2), Decimal(100), 0, ()),
        DayCell(date(2026, 3, 3), Decimal("99.99999"), 0, ()),
        DayCell(date(2026, 3, 4), Decimal("98.5"), 21, ("sim down",)),
    ]
    assert [c.level for c in cells] == ["nodata", "up", "minor", "major"]
    assert [c.label for c in cells] == [
        "No data",
        "No downtime",
        "99.99 % uptime, 0 min down",  # truncated, never shown as 100
        "98.50 % uptime, 21 min down",
    ]


def test_last_days_end_today_in_the_timezone() -> None:
    late_evening_utc = datetime(2026, 3, 31, 23, 30, tzinfo=UTC)  # already 1 April in Berlin
    assert day_bars.last_days(tz=BERLIN, now=late_evening_utc) == (date(2026, 1, 2), date(2026, 4, 1))
    assert day_bars.last_days(tz=ZoneInfo("UTC"), now=late_evening_utc, days=1) == (date(2026, 3, 31),) * 2


def test_effective_days_from_traffic_with_incidents_on_each_day_they_touch(db: None) -> None:
    org = Organization.objects.create(name="acme", timezone="Europe/Berlin")
    # 28 March: all good; 29 March (23 hours, DST): a quarter of one window's requests fail; 30 March: none.
    ok = [request(_local(28, 10) + timedelta(seconds=n), org_id=org.pk) for n in range(10)]
    mixed = [
        request(
            _local(29, 10) + timedelta(seconds=n), org_id=org.pk, outcome=Outcome.SERVER_ERROR if n < 3 else Outcome.OK
        )
        for n in range(12)
    ]
    save(*ok, *mixed)
    rollups.roll_span(start=_local(28, 0), end=_local(30, 0))
    Incident.objects.create(
        scope=IncidentScope.ORGANIZATION,
        organization=org,
        title="errors over 5 %",
        opened_at=_local(28, 23),
        resolved_at=_local(29, 1),
    )
    cells = day_bars.effective_days(
        organization_id=org.pk, first=date(2026, 3, 28), last=date(2026, 3, 30), tz=BERLIN, now=NOW
    )
    assert [c.day for c in cells] == [date(2026, 3, 28), date(2026, 3, 29), date(2026, 3, 30)]
    assert [c.level for c in cells] == ["up", "minor", "nodata"]
    assert cells[1].downtime_minutes == 1  # the minute of the failures: 3 of 12 is over 5 %
    # 100 % minus one window's error rate (3/12) over the DST day's 276 windows: 99.90942028985507…, cut.
    assert cells[1].percent == Decimal("99.909420289855")
    assert [c.incidents for c in cells] == [("errors over 5 %",), ("errors over 5 %",), ()]
    assert cells[2].label == "No data"


def test_provider_days_round_downtime_up_to_the_minute(db: None) -> None:
    state_change("dep-a", _local(28, 0), "unknown", "up")
    state_change("dep-a", _local(28, 12), "up", "down")
    state_change("dep-a", _local(28, 12) + timedelta(seconds=30), "down", "up")
    Incident.objects.create(
        scope=IncidentScope.DEPLOYMENT, deployment="dep-a", title="dep-a down", opened_at=_local(28, 12)
    )  # still open: on every day since
    cells = day_bars.provider_days(
        deployment="dep-a", first=date(2026, 3, 27), last=date(2026, 3, 29), tz=BERLIN, now=NOW
    )
    assert [c.level for c in cells] == ["nodata", "minor", "up"]
    assert [c.downtime_minutes for c in cells] == [None, 1, 0]
    assert [c.incidents for c in cells] == [(), ("dep-a down",), ("dep-a down",)]

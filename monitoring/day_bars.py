"""One cell per local day of a component's uptime: the 90-day bars of the dashboard and the status page,
and the daily rows of SLA reports. Every figure comes from monitoring.uptime (docs/uptime.md, "Day bars").

A component is either what an organisation's clients saw (effective uptime, for all its models or one)
or one deployment (its provider uptime). Incidents are listed on each local day they overlap.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db.models import Q

from monitoring.incident_selectors import incidents_of
from monitoring.models import Incident, IncidentScope
from monitoring.uptime import day_spans, daily_effective_uptimes, daily_provider_uptimes, truncate_percent

BAR_DAYS = 90
_MINOR_FLOOR = Decimal(99)  # under 100 % down to here: a minor day; below: a major one


@dataclass(frozen=True)
class DayCell:
    day: date
    percent: Decimal | None  # None: no data that day
    downtime_minutes: int | None  # None with no data
    incidents: tuple[str, ...]  # titles of the incidents open at some time of the day

    @property
    def level(self) -> str:
        """ "nodata", "up" (no downtime at all), "minor" (99 % to under 100 %) or "major" (under 99 %)."""
        if self.percent is None:
            return "nodata"
        if self.percent == 100:
            return "up"
        return "minor" if self.percent >= _MINOR_FLOOR else "major"

    @property
    def label(self) -> str:
        """What hovering the cell says; "No data" and "No downtime" are never confused."""
        if self.percent is None:
            return "No data"
        if self.percent == 100:
            return "No downtime"
        return f"{truncate_percent(self.percent)} % uptime, {self.downtime_minutes} min down"


def last_days(*, tz: ZoneInfo, now: datetime, days: int = BAR_DAYS) -> tuple[date, date]:
    """The ``days`` local days ending today (today, in progress, included)."""
    today = now.astimezone(tz).date()
    return today - timedelta(days=days - 1), today


def _by_day(
    incidents: Iterable[Incident], *, first: date, last: date, tz: ZoneInfo, now: datetime
) -> dict[date, tuple[str, ...]]:
    spans = day_spans(first=first, last=last, tz=tz)
    stops = [stop for _, _, stop in spans]
    titles: dict[date, list[str]] = {}
    for incident in sorted(incidents, key=lambda i: (i.opened_at, i.pk)):
        end = incident.resolved_at or now
        # Only the days it overlaps: the first whose end is after its opening, on while they start before its end.
        n = bisect.bisect_right(stops, incident.opened_at)
        while n < len(spans) and spans[n][1] < end:
            titles.setdefault(spans[n][0], []).append(incident.title)
            n += 1
    return {day: tuple(names) for day, names in titles.items()}


def _window(first: date, last: date, tz: ZoneInfo) -> Q:
    """Incidents open at some time between the first day's local midnight and the end of the last day."""
    days = day_spans(first=first, last=last, tz=tz)
    start, end = days[0][1], days[-1][2]
    return Q(opened_at__lt=end) & (Q(resolved_at__isnull=True) | Q(resolved_at__gt=start))


def effective_bars(
    *,
    organization_id: int,
    bars: Sequence[tuple[str | None, Sequence[str] | None]],
    first: date,
    last: date,
    tz: ZoneInfo,
    now: datetime,
) -> list[list[DayCell]]:
    """Several bars of what the organisation's clients saw each day, one per (model or None for all
    models, deployments or None), in four queries whatever their number. A bar's incidents are those the
    organisation sees (its own, and those of deployments it uses), or only those of its deployments."""
    models = sorted({model or "" for model, _ in bars})
    daily = daily_effective_uptimes(
        organization_id=organization_id, models=models, first=first, last=last, tz=tz, now=now
    )
    incidents = list(
        incidents_of(organization_id=organization_id).filter(_window(first, last, tz)).prefetch_related(None)
    )
    cells = []
    for model, deployments in bars:
        chosen = incidents
        if deployments is not None:
            chosen = [i for i in incidents if i.scope == IncidentScope.DEPLOYMENT and i.deployment in deployments]
        titles = _by_day(chosen, first=first, last=last, tz=tz, now=now)
        cells.append(
            [
                DayCell(day, r.percent, r.downtime_minutes if r.percent is not None else None, titles.get(day, ()))
                for day, r in daily[model or ""]
            ]
        )
    return cells


def effective_days(
    *,
    organization_id: int,
    first: date,
    last: date,
    tz: ZoneInfo,
    now: datetime,
    model: str | None = None,
    deployments: Sequence[str] | None = None,
) -> list[DayCell]:
    """One bar of ``effective_bars``."""
    return effective_bars(
        organization_id=organization_id, bars=[(model, deployments)], first=first, last=last, tz=tz, now=now
    )[0]


def provider_bars(
    *,
    deployments: Sequence[str],
    first: date,
    last: date,
    tz: ZoneInfo,
    now: datetime,
    organization_id: int | None = None,
) -> dict[str, list[DayCell]]:
    """Each deployment's own uptime each day, in three queries whatever their number; downtime minutes are
    its weighted downtime, rounded up to the minute (30 s down shows as 1 min, never as 0)."""
    daily = daily_provider_uptimes(
        deployments=deployments, first=first, last=last, tz=tz, now=now, organization_id=organization_id
    )
    incidents = list(
        Incident.objects.filter(_window(first, last, tz), scope=IncidentScope.DEPLOYMENT, deployment__in=deployments)
    )
    bars = {}
    for deployment, days in daily.items():
        titles = _by_day([i for i in incidents if i.deployment == deployment], first=first, last=last, tz=tz, now=now)
        bars[deployment] = [
            DayCell(
                day,
                r.percent,
                math.ceil(r.downtime_seconds / 60) if r.percent is not None else None,
                titles.get(day, ()),
            )
            for day, r in days
        ]
    return bars


def provider_days(
    *, deployment: str, first: date, last: date, tz: ZoneInfo, now: datetime, organization_id: int | None = None
) -> list[DayCell]:
    """One bar of ``provider_bars``."""
    return provider_bars(
        deployments=[deployment], first=first, last=last, tz=tz, now=now, organization_id=organization_id
    )[deployment]

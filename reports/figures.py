"""Every figure of an SLA report, read through monitoring's own selectors (rollups, uptime windows and
state intervals only: never raw traffic). Definitions: docs/uptime.md, "SLA reports".

None means "no data" everywhere: never 100 %, never 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_DOWN, Decimal

from django.db.models import Q

from accounts.models import Organization
from monitoring.day_bars import DayCell, effective_days, provider_bars
from monitoring.incident_selectors import duration, incidents_of, own_counts
from monitoring.models import DeploymentStateChange
from monitoring.models.rollups import DeploymentHour
from monitoring.stats import TrafficStats, deployment_stats_by_period, request_stats, request_stats_by_period
from monitoring.uptime import (
    WINDOW,
    EffectiveUptime,
    ProviderUptime,
    day_spans,
    effective_uptime,
    provider_uptimes,
)
from providers.configured import gateway_config
from reports.models import DEFAULT_TARGET, ReportSettings, default_tiers
from reports.periods import Period

_CENT = Decimal("0.01")
_WINDOW_MINUTES = int(WINDOW.total_seconds() // 60)


@dataclass(frozen=True)
class Budget:
    """The error budget of the period (docs/uptime.md, "Error budget")."""

    allowed_minutes: Decimal  # (100 % - target) of the counted minutes
    used_minutes: Decimal  # (100 % - effective uptime) of the counted minutes
    used_percent: Decimal  # used / allowed, as a percentage of the budget (over 100: overspent)

    @property
    def left_minutes(self) -> Decimal:
        return max(Decimal(0), self.allowed_minutes - self.used_minutes)

    @property
    def left_percent(self) -> Decimal:
        return max(Decimal(0), 100 - self.used_percent)


@dataclass(frozen=True)
class Credit:
    percent: Decimal | None  # of the period's fee; None: no data
    below: Decimal | None  # the threshold of the tier that applies, if any
    amount: Decimal | None  # with a monthly fee, for a calendar month only


@dataclass(frozen=True)
class IncidentRow:
    id: int
    title: str
    scope: str
    deployment: str
    opened_at: datetime
    resolved_at: datetime | None
    duration: timedelta  # until resolved, or until now while open
    affected: int
    rescued: int
    during_maintenance: bool


@dataclass(frozen=True)
class IncidentSummary:
    count: int
    longest: timedelta | None
    mean_duration: timedelta | None
    mttr: timedelta | None  # mean time to resolve, over the resolved ones
    affected: int
    rescued: int


@dataclass(frozen=True)
class Day:
    cell: DayCell  # uptime, downtime minutes and incident titles (monitoring.day_bars)
    traffic: TrafficStats


@dataclass(frozen=True)
class ProviderFigures:
    deployment: str
    uptime: ProviderUptime
    traffic: TrafficStats  # its attempts, all organisations together
    days: list[Day]


@dataclass(frozen=True)
class SlaReport:
    organization_id: int
    organization_name: str
    period: Period
    now: datetime
    counted_end: datetime
    in_progress: bool
    target: Decimal
    tiers: list[tuple[Decimal, Decimal]]
    monthly_fee: Decimal | None
    effective: EffectiveUptime
    budget: Budget | None
    credit: Credit
    traffic: TrafficStats
    incidents: list[IncidentRow]
    incident_summary: IncidentSummary
    days: list[Day]
    providers: list[ProviderFigures]

    @property
    def no_data_days(self) -> int:
        return sum(1 for day in self.days if day.cell.percent is None)

    @property
    def maintenance_minutes(self) -> int:
        return self.effective.maintenance_windows * _WINDOW_MINUTES

    @property
    def counted_minutes(self) -> int:
        return self.effective.windows * _WINDOW_MINUTES


def settings_for(*, organization_id: int) -> ReportSettings:
    """The organisation's report settings, or the defaults (unsaved) if it never changed them."""
    saved = ReportSettings.objects.filter(organization_id=organization_id).first()
    return saved or ReportSettings(
        organization_id=organization_id, sla_target=DEFAULT_TARGET, credit_tiers=default_tiers()
    )


def error_budget(*, target: Decimal, effective: EffectiveUptime) -> Budget | None:
    if effective.percent is None or target >= 100:
        return None
    counted = Decimal(effective.windows * _WINDOW_MINUTES)
    allowed = (100 - target) / 100 * counted
    used = (100 - effective.percent) / 100 * counted
    used_percent = (100 - effective.percent) / (100 - target) * 100
    return Budget(allowed_minutes=allowed, used_minutes=used, used_percent=used_percent)


def service_credit(
    *, percent: Decimal | None, tiers: list[tuple[Decimal, Decimal]], monthly_fee: Decimal | None, period: Period
) -> Credit:
    """The credit of the lowest tier whose threshold the uptime is below (0 % above them all)."""
    if percent is None:
        return Credit(percent=None, below=None, amount=None)
    applying = [(below, credit) for below, credit in tiers if percent < below]
    below, credit = min(applying) if applying else (None, Decimal(0))
    amount = None
    if monthly_fee is not None and period.is_calendar_month:
        amount = (monthly_fee * credit / 100).quantize(_CENT, rounding=ROUND_DOWN)
    return Credit(percent=credit, below=below, amount=amount)


def incident_rows(*, organization_id: int, period: Period, now: datetime) -> list[IncidentRow]:
    """The incidents the organisation sees that were open at some time of the counted period."""
    start, end = period.start, period.counted_end(now)
    incidents = incidents_of(organization_id=organization_id).filter(
        Q(opened_at__lt=end) & (Q(resolved_at__isnull=True) | Q(resolved_at__gt=start))
    )
    rows = []
    for incident in incidents.order_by("opened_at", "id"):
        affected, rescued = own_counts(incident)
        rows.append(
            IncidentRow(
                id=incident.pk,
                title=incident.title,
                scope=incident.scope,
                deployment=incident.deployment,
                opened_at=incident.opened_at,
                resolved_at=incident.resolved_at,
                duration=duration(incident, now=now),
                affected=affected,
                rescued=rescued,
                during_maintenance=incident.during_maintenance,
            )
        )
    return rows


def _mean(spans: list[timedelta]) -> timedelta | None:
    return sum(spans, timedelta()) / len(spans) if spans else None


def summarize_incidents(rows: list[IncidentRow]) -> IncidentSummary:
    durations = [row.duration for row in rows]
    return IncidentSummary(
        count=len(rows),
        longest=max(durations) if durations else None,
        mean_duration=_mean(durations),
        mttr=_mean([row.duration for row in rows if row.resolved_at is not None]),
        affected=sum(row.affected for row in rows),
        rescued=sum(row.rescued for row in rows),
    )


def report_deployments(*, period: Period, now: datetime) -> list[str]:
    """The deployments configured, and those that served traffic or changed state in the period."""
    start, end = period.start, period.counted_end(now)
    config = gateway_config()
    names = {d.id for d in config.deployments()} if config is not None else set()
    names.update(DeploymentStateChange.objects.filter(at__gte=start, at__lt=end).values_list("deployment", flat=True))
    # Hour rows cover every hour of traffic (day rows only whole UTC days).
    names.update(
        DeploymentHour.objects.filter(bucket__gte=start - timedelta(hours=1), bucket__lt=end)
        .values_list("deployment", flat=True)
        .distinct()
    )
    return sorted(names)


def _day_periods(cells: list[DayCell], period: Period, now: datetime) -> list[tuple[datetime, datetime]]:
    spans = {day: (start, end) for day, start, end in day_spans(first=period.first, last=period.last, tz=period.tz)}
    return [(spans[cell.day][0], min(spans[cell.day][1], now)) for cell in cells]


def providers_figures(
    *, deployments: list[str], organization_id: int, period: Period, now: datetime
) -> list[ProviderFigures]:
    """Each deployment's figures and days, their traffic included: a fixed number of queries, whatever the
    number of deployments and days."""
    if not deployments:
        return []
    bars = provider_bars(
        deployments=deployments,
        first=period.first,
        last=period.last_counted_day(now),
        tz=period.tz,
        now=now,
        organization_id=organization_id,
    )
    spans = _day_periods(bars[deployments[0]], period, now)
    # Each day's counts, but quantiles only for the whole period: 2,700 sketches a report cost seconds.
    daily = deployment_stats_by_period(deployments=deployments, periods=spans, quantiles=False)
    whole = deployment_stats_by_period(deployments=deployments, periods=[(period.start, period.counted_end(now))])
    uptimes = provider_uptimes(
        deployments=deployments, periods=[(period.start, period.end)], now=now, organization_id=organization_id
    )
    return [
        ProviderFigures(
            deployment=name,
            uptime=uptimes[name][0],
            traffic=whole[name][0],
            days=[Day(cell, stats) for cell, stats in zip(bars[name], daily[name], strict=True)],
        )
        for name in deployments
    ]


def sla_report(*, organization: Organization, period: Period, now: datetime) -> SlaReport:
    """Every figure of the report of ``period`` as of ``now`` (a period in progress counts until now)."""
    org_id = organization.pk
    options = settings_for(organization_id=org_id)
    target, tiers = Decimal(options.sla_target), options.tiers()
    effective = effective_uptime(organization_id=org_id, start=period.start, end=period.end, now=now)
    cells = effective_days(
        organization_id=org_id, first=period.first, last=period.last_counted_day(now), tz=period.tz, now=now
    )
    incidents = incident_rows(organization_id=org_id, period=period, now=now)
    return SlaReport(
        organization_id=org_id,
        organization_name=organization.name,
        period=period,
        now=now,
        counted_end=period.counted_end(now),
        in_progress=period.in_progress(now),
        target=target,
        tiers=tiers,
        monthly_fee=options.monthly_fee,
        effective=effective,
        budget=error_budget(target=target, effective=effective),
        credit=service_credit(percent=effective.percent, tiers=tiers, monthly_fee=options.monthly_fee, period=period),
        traffic=request_stats(organization_id=org_id, start=period.start, end=period.counted_end(now)),
        incidents=incidents,
        incident_summary=summarize_incidents(incidents),
        days=[
            Day(cell, stats)
            for cell, stats in zip(
                cells,
                request_stats_by_period(organization_id=org_id, periods=_day_periods(cells, period, now)),
                strict=True,
            )
        ],
        providers=providers_figures(
            deployments=report_deployments(period=period, now=now), organization_id=org_id, period=period, now=now
        ),
    )


@dataclass(frozen=True)
class Headline:
    """What the report page shows before a download: the report's first figures, computed the same way."""

    target: Decimal
    effective: EffectiveUptime
    budget: Budget | None
    credit: Credit


def headline(*, organization: Organization, period: Period, now: datetime) -> Headline:
    options = settings_for(organization_id=organization.pk)
    target = Decimal(options.sla_target)
    effective = effective_uptime(organization_id=organization.pk, start=period.start, end=period.end, now=now)
    return Headline(
        target=target,
        effective=effective,
        budget=error_budget(target=target, effective=effective),
        credit=service_credit(
            percent=effective.percent, tiers=options.tiers(), monthly_fee=options.monthly_fee, period=period
        ),
    )

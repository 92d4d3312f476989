"""The uptime dashboard: its headline (the organisation's home page, URL name ``org_home``), one page per
model, one per deployment, and the incidents timeline.

Every page reads rollups, uptime windows and state changes only, for the range and timezone of the
query string (monitoring.dashboard_forms), so that each view has a shareable URL. Members see them;
anyone else gets 404, as for every organisation page.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.defaultfilters import pluralize
from django.utils import timezone
from django.views.decorators.http import require_safe

from accounts import selectors
from accounts.access import gateway_base_url, get_membership_for_user, org_context, user_of
from accounts.models import Membership
from monitoring import charts, dashboard, day_bars, plotly_asset, series
from monitoring.dashboard_forms import (
    DEFAULT_RANGE,
    DashboardControlsForm,
    DashboardRange,
    fallback_range,
    known_timezones,
    timezone_or_utc,
)
from monitoring.incident_selectors import own_counts, windows_of
from monitoring.models import DeploymentStateChange, DeploymentStatus
from monitoring.stats import deployment_stats, request_stats
from monitoring.uptime import EffectiveUptime, ProviderUptime, effective_uptime, provider_uptime, provider_uptimes

STATE_CHANGES_SHOWN = 50
INCIDENTS_SHOWN = 100


def _get_model_for_user(request: HttpRequest, org_id: int, model: str) -> tuple[Membership, list[str]]:
    """The membership, and the organisation's models; 404 for a model its clients never asked for."""
    membership = get_membership_for_user(request, org_id)
    models = dashboard.models_of(organization_id=membership.organization_id)
    if model not in models:
        raise Http404
    return membership, models


def _get_deployment_for_user(
    request: HttpRequest, org_id: int, deployment: str
) -> tuple[Membership, list[str], list[str]]:
    """The membership, its models and the models ``deployment`` serves; 404 for a deployment it does not use."""
    membership = get_membership_for_user(request, org_id)
    models = dashboard.models_of(organization_id=membership.organization_id)
    serving = [m for m, pairs in dashboard.deployments_by_model(models).items() if deployment in dict(pairs)]
    if not serving:
        raise Http404
    return membership, models, serving


def _controls(
    request: HttpRequest, membership: Membership, now: datetime
) -> tuple[DashboardControlsForm, DashboardRange | None]:
    default_tz = timezone_or_utc(membership.organization.timezone).key
    data = request.GET.copy()
    # Shown in the fields: what an address without them means.
    data.setdefault("range", DEFAULT_RANGE)
    data.setdefault("tz", default_tz)
    form = DashboardControlsForm(data, default_tz=default_tz)
    return form, form.dashboard_range(now=now) if form.is_valid() else None


def _context(
    membership: Membership,
    tab: str,
    form: DashboardControlsForm,
    period: DashboardRange | None,
    models: list[str],
    now: datetime,
    **extra: Any,
) -> dict[str, Any]:
    shown = period or fallback_range(now=now, tz_name=membership.organization.timezone)
    return org_context(
        membership,
        "incidents" if tab == "incidents" else "overview",
        dash_tab=tab,
        dash_models=models,
        dash_query=shown.query() if period else "",
        form=form,
        period=period,
        timezones=sorted(known_timezones()),
        plotly_js_url=plotly_asset.url(),
        **extra,
    )


def _shades(incidents: list[Any], now: datetime) -> list[charts.Shade]:
    return [charts.Shade(i.opened_at, i.resolved_at or now, i.title) for i in incidents]


def _step_text(step: timedelta) -> str:
    minutes = int(step / timedelta(minutes=1))
    if minutes % 1440 == 0:
        return "local day" if minutes == 1440 else f"{minutes // 1440} days"
    if minutes % 60 == 0:
        return "hour" if minutes == 60 else f"{minutes // 60} hours"
    return "minute" if minutes == 1 else f"{minutes} minutes"


def _effective_downtime(uptime: EffectiveUptime) -> str:
    if uptime.percent is None:
        return "No requests in this range"
    return f"{uptime.downtime_minutes} downtime minute{pluralize(uptime.downtime_minutes)}"


def _provider_downtime(uptime: ProviderUptime) -> str:
    if uptime.percent is None:
        return "No state recorded in this range"
    return f"{math.ceil(uptime.downtime_seconds / 60)} min of weighted downtime"


@login_required
@require_safe
def overview(request: HttpRequest, org_id: int) -> HttpResponse:
    """The headline (monitoring.dashboard), or how to get started before any traffic."""
    membership = get_membership_for_user(request, org_id)
    org, now = membership.organization, timezone.now()
    models = dashboard.models_of(organization_id=org.pk)
    context = org_context(
        membership,
        "overview",
        active_keys=selectors.active_key_count(organization=org),
        member_count=selectors.members_of(organization=org).count(),
        base_url=gateway_base_url(),
        dash_tab="overview",
        dash_models=models,
        periods=[label for _, label, _ in dashboard.PERIODS],
    )
    if models:
        tz = timezone_or_utc(org.timezone)
        first, last = day_bars.last_days(tz=tz, now=now)
        context.update(
            headline=dashboard.headline(organization_id=org.pk, models=models, now=now),
            bar=day_bars.effective_days(organization_id=org.pk, first=first, last=last, tz=tz, now=now),
            timezone_name=tz.key,
        )
    return render(request, "accounts/org_home.html", context)


@login_required
@require_safe
def model_dashboard(request: HttpRequest, org_id: int, model: str) -> HttpResponse:
    membership, models = _get_model_for_user(request, org_id, model)
    org_pk, now = membership.organization_id, timezone.now()
    form, period = _controls(request, membership, now)
    context = _context(membership, f"model:{model}", form, period, models, now, model=model)
    if period is None:
        return render(request, "monitoring/dashboard_model.html", context, status=400)
    deployments = dashboard.deployments_by_model([model])[model]
    names = [d for d, _ in deployments]
    states = dashboard.deployment_states(names)
    span = [(period.start, period.end)]
    own = provider_uptimes(deployments=names, periods=span, now=now, organization_id=org_pk) if names else {}
    incidents = list(
        dashboard.incidents_between(organization_id=org_pk, start=period.start, end=period.end).prefetch_related(None)
    )
    first, last = day_bars.last_days(tz=period.tz, now=now)
    stats = request_stats(organization_id=org_pk, start=period.start, end=period.end, model=model)
    uptime = effective_uptime(organization_id=org_pk, start=period.start, end=period.end, now=now, model=model)
    traffic = series.request_series(
        organization_id=org_pk, start=period.start, end=period.end, tz=period.tz, now=now, model=model
    )
    context.update(
        uptime=uptime,
        downtime_text=_effective_downtime(uptime),
        stats=stats,
        charts_step=_step_text(traffic.step),
        rescued_share=dashboard.Rescue("", stats).share,
        bar=day_bars.effective_days(
            organization_id=org_pk, first=first, last=last, tz=period.tz, now=now, model=model, deployments=names
        ),
        deployments=[(d, provider, states.get(d), own[d][0]) for d, provider in deployments],
        charts=charts.traffic_charts(
            traffic,
            period.tz,
            _shades([i for i in incidents if i.scope == "organization" or i.deployment in names], now),
        ),
    )
    return render(request, "monitoring/dashboard_model.html", context)


@login_required
@require_safe
def deployment_dashboard(request: HttpRequest, org_id: int, deployment: str) -> HttpResponse:
    membership, models, serving = _get_deployment_for_user(request, org_id, deployment)
    org_pk, now = membership.organization_id, timezone.now()
    form, period = _controls(request, membership, now)
    context = _context(membership, "deployment", form, period, models, now, deployment=deployment, serving=serving)
    if period is None:
        return render(request, "monitoring/dashboard_deployment.html", context, status=400)
    status = DeploymentStatus.objects.filter(deployment=deployment).first()
    incidents = list(
        dashboard.incidents_between(
            organization_id=org_pk, start=period.start, end=period.end, deployments=[deployment]
        ).prefetch_related(None)
    )
    changes = DeploymentStateChange.objects.filter(deployment=deployment, at__gte=period.start, at__lt=period.end)
    first, last = day_bars.last_days(tz=period.tz, now=now)
    # Attempts of every organisation go through a shared deployment: its volume is the operator's to see.
    staff = user_of(request).is_staff
    uptime = provider_uptime(deployment=deployment, start=period.start, end=period.end, now=now, organization_id=org_pk)
    stats = deployment_stats(deployment=deployment, start=period.start, end=period.end)
    traffic = series.deployment_series(deployment=deployment, start=period.start, end=period.end, tz=period.tz, now=now)
    context.update(
        status=status,
        uptime=uptime,
        downtime_text=_provider_downtime(uptime),
        stats=stats,
        rescued_share=dashboard.Rescue("", stats).share,
        charts_step=_step_text(traffic.step),
        changes=list(changes.order_by("-at", "-id")[:STATE_CHANGES_SHOWN]),
        bar=day_bars.provider_days(
            deployment=deployment, first=first, last=last, tz=period.tz, now=now, organization_id=org_pk
        ),
        incidents=incidents,
        show_volume=staff,
        charts=charts.traffic_charts(
            traffic,
            period.tz,
            _shades(incidents, now),
            throughput=staff,
            what="Attempts",
        ),
    )
    return render(request, "monitoring/dashboard_deployment.html", context)


@login_required
@require_safe
def incident_timeline(request: HttpRequest, org_id: int) -> HttpResponse:
    membership = get_membership_for_user(request, org_id)
    org_pk, now = membership.organization_id, timezone.now()
    models = dashboard.models_of(organization_id=org_pk)
    form, period = _controls(request, membership, now)
    context = _context(membership, "incidents", form, period, models, now)
    if period is None:
        return render(request, "monitoring/dashboard_incidents.html", context, status=400)
    incidents = dashboard.incidents_between(organization_id=org_pk, start=period.start, end=period.end)
    windows = windows_of(organization_id=org_pk).filter(starts_at__lt=period.end, ends_at__gt=period.start)
    entries: list[tuple[datetime, str, Any, Any]] = [
        (i.opened_at, "incident", i, own_counts(i)) for i in incidents[:INCIDENTS_SHOWN]
    ]
    entries += [(w.starts_at, "maintenance", w, None) for w in windows[:INCIDENTS_SHOWN]]
    entries.sort(key=lambda entry: entry[0], reverse=True)
    context.update(entries=entries, now=now)
    return render(request, "monitoring/dashboard_incidents.html", context)

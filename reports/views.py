"""Pages: an organisation's SLA reports (a period form, its headline figures, and downloads) and its SLA
settings. Members see both; owners and admins change the settings; anyone else gets a 404."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_safe

from accounts.access import get_membership_for_user, org_context, posted
from reports import figures, outputs
from reports.forms import PeriodForm, ReportSettingsForm

DOWNLOADS = [("pdf", "PDF report"), ("csv", "Daily CSV"), ("incidents", "Incidents CSV"), ("json", "JSON")]


@login_required
@require_safe
def report_page(request: HttpRequest, org_id: int) -> HttpResponse:
    membership = get_membership_for_user(request, org_id)
    org = membership.organization
    now = timezone.now()
    bound = request.GET if "kind" in request.GET else None
    form = PeriodForm(bound, now=now, default_timezone=org.timezone)
    if bound is None:
        form = PeriodForm(form.initial, now=now, default_timezone=org.timezone)
    context = org_context(membership, "reports", form=form, summary=None, downloads=[])
    if form.is_valid() and form.period is not None:
        period = form.period
        context["summary"] = outputs.headline_figures(figures.headline(organization=org, period=period, now=now))
        context["period"] = period
        context["in_progress"] = period.in_progress(now)
        query = {"start": period.first.isoformat(), "end": period.last.isoformat(), "timezone": period.timezone_name}
        api = reverse("api_sla_report", args=[org.pk])
        context["downloads"] = [(label, f"{api}?{urlencode({**query, **_format(name)})}") for name, label in DOWNLOADS]
    status = 400 if form.errors else 200
    return render(request, "reports/page.html", context, status=status)


def _format(name: str) -> dict[str, str]:
    return {"format": "csv", "table": "incidents"} if name == "incidents" else {"format": name}


@login_required
@require_http_methods(["GET", "POST"])
def report_settings(request: HttpRequest, org_id: int) -> HttpResponse:
    membership = get_membership_for_user(request, org_id)
    instance = figures.settings_for(organization_id=membership.organization_id)
    form = ReportSettingsForm(posted(request), instance=instance)
    if request.method == "POST":
        if not membership.can_manage:
            raise PermissionDenied
        if form.is_valid():
            form.save()
            messages.success(request, "SLA settings saved.")
            return redirect("report_settings", org_id)
    context = org_context(membership, "reports", form=form)
    return render(request, "reports/settings.html", context, status=400 if form.errors else 200)

from __future__ import annotations

import logging

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_safe

from accounts.access import get_membership_for_user, org_context
from monitoring import usage
from monitoring.forms import UsageRangeForm
from monitoring.selectors import dependency_problems

log = logging.getLogger(__name__)


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    problems = dependency_problems()
    if problems:
        # Unauthenticated: say which dependency is down, never why (hosts, users, paths); the log has that.
        for name, reason in sorted(problems.items()):
            log.error("readyz: %s is unreachable: %s", name, reason)
        return JsonResponse({"status": "unavailable", **{name: "down" for name in problems}}, status=503)
    return JsonResponse({"status": "ok"})


# Usage and cost


@login_required
@require_safe
def usage_report(request: HttpRequest, org_id: int) -> HttpResponse:
    membership = get_membership_for_user(request, org_id)
    org = membership.organization
    data = request.GET.copy()
    default = usage.default_range()
    if not data.get("from") and not data.get("to"):
        data["from"], data["to"] = default.start.isoformat(), default.end.isoformat()
    form = UsageRangeForm(data, organization=org)
    context = org_context(membership, "usage", form=form)
    if not form.is_valid():
        return render(request, "accounts/usage.html", context, status=400)
    period, key_id = form.period, form.cleaned_data["key"]
    query = {"from": period.start.isoformat(), "to": period.end.isoformat()}
    if key_id is not None:
        query["key"] = str(key_id)
    context.update(
        period=period,
        totals=usage.usage_totals(organization_id=org.pk, period=period, key_id=key_id),
        by_day=usage.usage_rows(organization_id=org.pk, period=period, group_by=["day"], key_id=key_id),
        by_model=usage.usage_rows(organization_id=org.pk, period=period, group_by=["model"], key_id=key_id),
        by_key=usage.usage_rows(organization_id=org.pk, period=period, group_by=["key"], key_id=key_id),
        csv_query=urlencode({**query, "format": "csv"}),
    )
    return render(request, "accounts/usage.html", context)

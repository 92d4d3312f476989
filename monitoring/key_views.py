"""accounts' key list, with each key's spend this month from the usage records (monitoring.usage)."""

from __future__ import annotations

from datetime import UTC
from decimal import Decimal

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_safe

from accounts import views as accounts_views
from accounts.models import Organization
from monitoring import usage


def month_spend_by_key(organization: Organization) -> dict[int, Decimal]:
    """Spend of each key this UTC month: the month the proxy's budgets count in (gateway.limits)."""
    today = timezone.now().astimezone(UTC).date()
    month = usage.DateRange(today.replace(day=1), today)
    rows = usage.usage_rows(organization_id=organization.pk, period=month, group_by=["key"])
    return {row["key_id"]: row["cost_usd"] for row in rows if row["key_id"] is not None}


@login_required
@require_safe
def key_list(request: HttpRequest, org_id: int) -> HttpResponse:
    return accounts_views.key_list(request, org_id, month_spend=month_spend_by_key)

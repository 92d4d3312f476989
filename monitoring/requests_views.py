"""The recent-requests page: an organisation's latest requests, each with its attempt chain
(``sim-azure 503 → sim-openai 200``), so that failover can be seen."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe

from accounts.access import get_membership_for_user, org_context
from gateway.events.outcomes import Outcome
from monitoring import recent_requests as recent

RESCUED_CHOICES = [("", "Any"), ("yes", "Rescued by failover"), ("no", "Not rescued")]


def _outcome_choices() -> list[tuple[str, str]]:
    named = [(o.value, o.value.replace("_", " ")) for o in Outcome if o is not Outcome.OK]
    return [("", "Any"), ("ok", "Succeeded"), ("failed", "Failed (any)"), *named]


class RecentRequestsForm(forms.Form):
    """The page's filter, as query parameters ``outcome`` and ``rescued``."""

    outcome = forms.ChoiceField(
        required=False,
        choices=_outcome_choices,
        error_messages={"invalid_choice": "outcome: “%(value)s” is not an outcome this page knows."},
    )
    rescued = forms.ChoiceField(
        required=False,
        choices=RESCUED_CHOICES,
        label="Failover",
        error_messages={"invalid_choice": "rescued: use yes or no, not “%(value)s”."},
    )

    @property
    def rescued_value(self) -> bool | None:
        return {"yes": True, "no": False}.get(self.cleaned_data.get("rescued") or "")


@login_required
@require_safe
def recent_requests(request: HttpRequest, org_id: int) -> HttpResponse:
    membership = get_membership_for_user(request, org_id)
    form = RecentRequestsForm(request.GET)
    context: dict[str, Any] = org_context(
        membership, "requests", form=form, limit=recent.LIMIT, window_hours=int(recent.WINDOW.total_seconds() // 3600)
    )
    if not form.is_valid():
        return render(request, "monitoring/recent_requests.html", context, status=400)
    context["requests"] = recent.recent_requests(
        organization_id=membership.organization_id,
        now=timezone.now(),
        outcome=form.cleaned_data["outcome"],
        rescued=form.rescued_value,
    )
    return render(request, "monitoring/recent_requests.html", context)

"""Budget alert emails: once per threshold per month, to owners and admins."""

from __future__ import annotations


import uuid
from datetime import date
from decimal import Decimal

from django.core import mail
from django.utils import timezone

from accounts.models import BudgetAlert
from monitoring.alerts import send_budget_alerts
from monitoring.models import Attempt
from tests.conftest import Accounts


def _spend(accounts: Accounts, usd: str) -> None:
    Attempt.objects.create(
        id=uuid.uuid4(),
        request_id=uuid.uuid4().hex,
        attempt=1,
        started_at=timezone.now(),
        org_id=accounts.org.pk,
        key_id=None,
        requested_model="m",
        model="m",
        provider="p",
        deployment="p/m",
        stream=False,
        outcome="ok",
        latency_ms=1.0,
        final=True,
        cost_usd=Decimal(usd),
    )


def test_crossing_thresholds_emails_owners_once_per_threshold(accounts: Accounts) -> None:
    accounts.org.monthly_budget_usd = Decimal("100")
    accounts.org.save()
    _spend(accounts, "55")
    assert send_budget_alerts() == 1
    assert mail.outbox[-1].to == ["owner@example.org"]
    assert "50% of the monthly LLM budget" in mail.outbox[-1].subject
    assert send_budget_alerts() == 0  # rerunning sends nothing new
    _spend(accounts, "50")
    assert send_budget_alerts() == 2  # 80% and 100%
    assert "refused with 402" in mail.outbox[-1].body
    assert sorted(BudgetAlert.objects.values_list("threshold", flat=True)) == [50, 80, 100]


def test_custom_thresholds_and_organisations_without_budget(accounts: Accounts) -> None:
    accounts.org.monthly_budget_usd = Decimal("10")
    accounts.org.budget_alert_thresholds = [90]
    accounts.org.save()
    _spend(accounts, "8")
    assert send_budget_alerts() == 0
    _spend(accounts, "1.5")
    assert send_budget_alerts() == 1
    assert not BudgetAlert.objects.filter(organization=accounts.other_org).exists()


def test_a_new_month_starts_over(accounts: Accounts) -> None:
    accounts.org.monthly_budget_usd = Decimal("1")
    accounts.org.save()
    _spend(accounts, "2")
    assert send_budget_alerts() == 3
    next_month = date(timezone.now().year + 1, 1, 15)
    assert send_budget_alerts(today=next_month) == 0  # no spend recorded in that month

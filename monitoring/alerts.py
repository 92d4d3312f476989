"""Budget alerts: owners and admins are emailed when month-to-date spend crosses a threshold."""

from __future__ import annotations

import logging
import smtplib
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.core.mail import send_mail
from django.utils import timezone

from accounts.models import BudgetAlert, Membership, Organization
from monitoring import usage

log = logging.getLogger(__name__)

DEFAULT_ALERT_THRESHOLDS = (50, 80, 100)


def send_budget_alerts(*, today: date | None = None) -> int:
    """Email owners and admins when month-to-date spend crosses a budget threshold; safe to rerun."""
    day = today or timezone.now().date()
    month = usage.DateRange(day.replace(day=1), day)
    sent = 0
    for org in Organization.objects.filter(monthly_budget_usd__gt=0):
        spend = usage.usage_totals(organization_id=org.pk, period=month)["cost_usd"]
        percent = spend * 100 / org.monthly_budget_usd
        for threshold in sorted(org.budget_alert_thresholds or DEFAULT_ALERT_THRESHOLDS):
            if percent >= threshold and _record_alert(org, f"{day:%Y-%m}", threshold, spend):
                _mail_budget_alert(org, threshold, spend)
                sent += 1
    return sent


def _record_alert(org: Organization, month: str, threshold: int, spend: Decimal) -> bool:
    _, created = BudgetAlert.objects.get_or_create(
        organization=org, month=month, threshold=threshold, defaults={"spend_usd": spend}
    )
    return created


def _mail_budget_alert(org: Organization, threshold: int, spend: Decimal) -> None:
    recipients = list(
        org.memberships.filter(role__in=[Membership.Role.OWNER, Membership.Role.ADMIN]).values_list(
            "user__email", flat=True
        )
    )
    subject = f"{org.name}: {threshold}% of the monthly LLM budget used"
    body = (
        f"Spend this month is ${spend:.2f} of the ${org.monthly_budget_usd:.2f} budget ({threshold}% threshold).\n"
        + (
            "Requests are now refused with 402 until the budget is raised or the month ends.\n"
            if threshold >= 100
            else ""
        )
        + f"\nUsage: {settings.SITE_URL}/orgs/{org.pk}/usage/\n"
    )
    try:
        send_mail(subject, body, None, recipients)
    except (OSError, smtplib.SMTPException) as exc:
        log.warning("budget alert for organisation %s not sent: %s", org.pk, exc.__class__.__name__)

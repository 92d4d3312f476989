"""The monthly report email: last month's report to each organisation's owners, exactly once per
(organisation, month) however many workers run the job at the same time."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.core.mail import EmailMessage
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.urls import reverse

from accounts.models import Membership, Organization
from reports import figures, outputs, periods
from reports.models import MonthlyReport, ReportSettings

logger = logging.getLogger(__name__)
# Rollups fold in events up to 15 minutes late: a month is reported once it has been over this long.
SETTLE = timedelta(hours=1)
Status = MonthlyReport.Status


def _subscribed() -> QuerySet[Organization]:
    opted_out = ReportSettings.objects.filter(monthly_email=False).values("organization_id")
    return Organization.objects.exclude(pk__in=opted_out).order_by("pk")


def last_month(organization: Organization, *, now: datetime) -> periods.Period:
    tz = periods.parse_timezone(organization.timezone) or periods.parse_timezone("UTC")
    assert tz is not None
    first, last = periods.previous_month(now.astimezone(tz).date())
    return periods.Period(first, last, tz)


def claim(*, organization_id: int, month: periods.Period, now: datetime) -> MonthlyReport | None:
    """The (organisation, month) row, if this caller moved it from pending to sending; None if another
    caller has it (or had it)."""
    MonthlyReport.objects.bulk_create(
        [MonthlyReport(organization_id=organization_id, month=month.first)], ignore_conflicts=True
    )
    moved = MonthlyReport.objects.filter(
        organization_id=organization_id, month=month.first, status=Status.PENDING
    ).update(status=Status.SENDING, claimed_at=now)
    if moved != 1:
        return None
    return MonthlyReport.objects.get(organization_id=organization_id, month=month.first)


def _finish(row: MonthlyReport, *, status: str, now: datetime, recipients: int = 0, error: str = "") -> None:
    done = MonthlyReport.objects.filter(pk=row.pk, status=Status.SENDING).update(
        status=status, sent_at=now if status == Status.SENT else None, recipients=recipients, error=error[:300]
    )
    if done != 1:
        logger.warning("monthly report %s of organisation %s was not ours any more", row.month, row.organization_id)


def _owners(organization: Organization) -> list[str]:
    owners = Membership.objects.filter(organization=organization, role=Membership.Role.OWNER, user__is_active=True)
    return sorted(owners.values_list("user__email", flat=True))


def report_url(organization: Organization, month: periods.Period) -> str:
    query = urlencode({"kind": "month", "month": f"{month.first:%Y-%m}", "timezone": month.timezone_name})
    return settings.SITE_URL.rstrip("/") + reverse("reports", args=[organization.pk]) + "?" + query


def _send(organization: Organization, month: periods.Period, now: datetime, row: MonthlyReport) -> None:
    recipients = _owners(organization)
    report = figures.sla_report(organization=organization, period=month, now=now)
    if not recipients or report.effective.requests == 0:
        reason = "no owner to send to" if not recipients else "no traffic in the month"
        _finish(row, status=Status.SKIPPED, now=now, error=reason)
        return
    data = outputs.figures(report)
    context = {"org": organization, "month": month, "f": data, "url": report_url(organization, month)}
    message = EmailMessage(
        subject=f"SLA report {month.first:%B %Y} · {organization.name}",
        body=render_to_string("reports/email/monthly.txt", context),
        to=recipients,
    )
    message.attach(outputs.filename(report, ".pdf"), outputs.pdf(report), "application/pdf")
    message.send()
    _finish(row, status=Status.SENT, now=now, recipients=len(recipients))


def send_monthly_reports(*, now: datetime) -> int:
    """Email last month's report of every subscribed organisation whose month has ended (in its timezone);
    returns how many this call sent. A claimed report is never sent again: a crash while sending leaves it
    ``sending`` (or ``failed``), to be looked at, not retried."""
    sent = 0
    for organization in _subscribed():
        month = last_month(organization, now=now)
        if now < month.end + SETTLE:
            continue
        if (
            MonthlyReport.objects.filter(organization=organization, month=month.first)
            .exclude(status=Status.PENDING)
            .exists()
        ):
            continue
        row = claim(organization_id=organization.pk, month=month, now=now)
        if row is None:
            continue
        try:
            _send(organization, month, now, row)
        except Exception as error:  # one organisation's failure must not stop the others'
            logger.exception("monthly report of organisation %s failed", organization.pk)
            _finish(row, status=Status.FAILED, now=now, error=type(error).__name__)
            continue
        sent += MonthlyReport.objects.filter(pk=row.pk, status=Status.SENT).count()
    return sent

"""The monthly report email: last month's PDF to each organisation's owners once its local month has ended,
never twice, even when two workers run the job at the same moment. Time is frozen: ``now`` is passed."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime

import pytest
from django.core import mail
from django.db import connection

from accounts.models import Membership, Organization, User
from accounts.services import create_organization
from reports import services
from reports.models import MonthlyReport, ReportSettings
from tests.conftest import Accounts
from tests.reports.helpers import NOW, january

Status = MonthlyReport.Status


def test_last_month_goes_to_owners_once_with_the_pdf(accounts: Accounts) -> None:
    january(accounts.org.pk)
    Membership.objects.create(
        organization=accounts.org,
        user=User.objects.create_user("co-owner@example.org", "co-owner-password-1"),
        role=Membership.Role.OWNER,
    )
    assert services.send_monthly_reports(now=NOW) == 1
    (message,) = mail.outbox
    assert sorted(message.to) == ["co-owner@example.org", "owner@example.org"]  # not the member
    assert message.subject == "SLA report January 2026 · Acme"
    assert "Effective uptime: 99.932 % (target 99.900 %, met)" in message.body
    assert f"/orgs/{accounts.org.pk}/reports/?kind=month&month=2026-01&timezone=UTC" in message.body
    ((name, content, kind),) = message.attachments
    assert name == f"sla-{accounts.org.pk}-2026-01-01-2026-01-31.pdf" and kind == "application/pdf"
    assert content.startswith(b"%PDF")
    row = MonthlyReport.objects.get(organization=accounts.org)
    assert (row.month, row.status, row.recipients) == (date(2026, 1, 1), Status.SENT, 2)
    # The other organisation had no traffic: nothing sent, and it is not asked again.
    assert MonthlyReport.objects.get(organization=accounts.other_org).status == Status.SKIPPED

    assert services.send_monthly_reports(now=NOW) == 0
    assert services.send_monthly_reports(now=NOW.replace(day=20)) == 0
    assert len(mail.outbox) == 1


def test_nothing_is_sent_before_the_month_has_settled_in_the_organisations_timezone(accounts: Accounts) -> None:
    january(accounts.org.pk)
    accounts.org.timezone = "America/Los_Angeles"  # January ends at 08:00 UTC on 1 February
    accounts.org.save(update_fields=["timezone"])
    assert services.send_monthly_reports(now=datetime(2026, 2, 1, 8, 30, tzinfo=UTC)) == 0
    assert not MonthlyReport.objects.filter(organization=accounts.org).exists()
    assert services.send_monthly_reports(now=datetime(2026, 2, 1, 9, 1, tzinfo=UTC)) == 1


def test_an_organisation_that_turned_it_off_gets_nothing(accounts: Accounts) -> None:
    january(accounts.org.pk)
    ReportSettings.objects.create(organization=accounts.org, monthly_email=False)
    assert services.send_monthly_reports(now=NOW) == 0
    assert mail.outbox == []
    assert not MonthlyReport.objects.filter(organization=accounts.org).exists()


def test_a_claimed_report_is_never_claimed_again(accounts: Accounts) -> None:
    month = services.last_month(accounts.org, now=NOW)
    assert services.claim(organization_id=accounts.org.pk, month=month, now=NOW) is not None
    assert services.claim(organization_id=accounts.org.pk, month=month, now=NOW) is None
    MonthlyReport.objects.filter(organization=accounts.org).update(status=Status.FAILED)
    assert services.claim(organization_id=accounts.org.pk, month=month, now=NOW) is None


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_send_one_email() -> None:
    owner = User.objects.create_user("solo-owner@example.org", "solo-owner-password-1")
    org = create_organization(name="Race", owner=owner)
    Organization.objects.exclude(pk=org.pk).delete()
    january(org.pk)
    start = threading.Barrier(2)
    results: list[int] = []

    def worker() -> None:
        try:
            start.wait()
            results.append(services.send_monthly_reports(now=NOW))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sorted(results) == [0, 1]
    assert len(mail.outbox) == 1
    assert MonthlyReport.objects.get(organization=org).status == Status.SENT

"""The reports page: a period form (month, quarter, custom; the organisation's timezone by default), the
period's headline figures and download links; form errors for bad input; 404 for outsiders."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests.conftest import Accounts
from tests.reports.helpers import january


def _page(org_id: int) -> str:
    return f"/orgs/{org_id}/reports/"


@pytest.fixture
def member(client: Client, accounts: Accounts) -> Client:
    client.force_login(accounts.member)
    return client


def test_the_page_shows_last_month_by_default_with_downloads(member: Client, accounts: Accounts) -> None:
    response = member.get(_page(accounts.org.pk))
    assert response.status_code == 200
    html = response.content.decode()
    assert "SLA reports" in html
    assert html.count(f'href="/api/orgs/{accounts.org.pk}/reports/sla/?start=') == 4  # PDF, CSVs, JSON
    assert "format=pdf" in html and "table=incidents" in html


def test_a_month_with_traffic_shows_its_headline(
    member: Client, accounts: Accounts, django_assert_num_queries: Any
) -> None:
    january(accounts.org.pk)
    # Pinned: the headline reads settings, maintenance and two uptime-window queries, whatever the traffic.
    with django_assert_num_queries(11):
        response = member.get(_page(accounts.org.pk), {"kind": "month", "month": "2026-01", "timezone": "UTC"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "99.932 %" in html and "60 min" in html
    assert "start=2026-01-01&amp;end=2026-01-31&amp;timezone=UTC&amp;format=pdf" in html


def test_a_quarter_and_a_custom_range(member: Client, accounts: Accounts) -> None:
    quarter = member.get(_page(accounts.org.pk), {"kind": "quarter", "quarter": "2025-Q4", "timezone": "UTC"})
    # Only the last 8 quarters are offered; whichever it is, the form answers, never a 500.
    assert quarter.status_code in (200, 400)
    custom = member.get(
        _page(accounts.org.pk),
        {"kind": "custom", "start": "2026-01-05", "end": "2026-01-20", "timezone": "Asia/Kolkata"},
    )
    assert custom.status_code == 200
    assert "start=2026-01-05&amp;end=2026-01-20&amp;timezone=Asia%2FKolkata" in custom.content.decode()


def test_no_data_is_said_never_100(member: Client, accounts: Accounts) -> None:
    html = member.get(_page(accounts.org.pk), {"kind": "month", "month": "2026-01", "timezone": "UTC"}).content.decode()
    assert "No data" in html
    assert "100.000 %" not in html


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"kind": "custom", "start": "2026-01-31", "end": "2026-01-01", "timezone": "UTC"},
            "The end is before the start.",
        ),
        ({"kind": "custom", "start": "2024-01-01", "end": "2025-06-01", "timezone": "UTC"}, "at most 366 days"),
        ({"kind": "month", "month": "2026-01", "timezone": "Nowhere/Land"}, "Unknown timezone"),
        ({"kind": "month", "month": "2026-13", "timezone": "UTC"}, "Enter a month as YYYY-MM."),
        ({"kind": "month", "month": "2999-01", "timezone": "UTC"}, "has not started yet"),
        ({"kind": "custom", "start": "yesterday", "end": "2026-01-01", "timezone": "UTC"}, "Enter a valid date."),
        ({"kind": "custom", "start": "2026-01-01", "timezone": "UTC"}, "This field is required."),
        ({"kind": "quarter", "quarter": "1999-Q9", "timezone": "UTC"}, "Select a valid choice."),
        ({"kind": "weekly", "timezone": "UTC"}, "Select a valid choice."),
    ],
)
def test_bad_periods_are_form_errors(member: Client, accounts: Accounts, params: dict[str, str], message: str) -> None:
    response = member.get(_page(accounts.org.pk), params)
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html
    assert "/reports/sla/?start=" not in html


def test_an_outsider_gets_a_404(client: Client, accounts: Accounts) -> None:
    client.force_login(accounts.outsider)
    assert client.get(_page(accounts.org.pk)).status_code == 404


def test_anonymous_visitors_are_sent_to_log_in(client: Client, accounts: Accounts) -> None:
    response = client.get(_page(accounts.org.pk))
    assert response.status_code == 302 and "/login" in response["Location"]


def test_a_bad_range_and_a_bad_timezone_are_both_told(member: Client, accounts: Accounts) -> None:
    response = member.get(
        _page(accounts.org.pk), {"kind": "custom", "start": "2026-01-31", "end": "2026-01-01", "timezone": "Mars"}
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "The end is before the start." in html and "Unknown timezone" in html

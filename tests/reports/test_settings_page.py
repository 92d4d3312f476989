"""SLA settings: owners and admins change the target, the credit tiers, the fee and the monthly email;
members read them; outsiders get a 404. Tiers are validated (ordered, 0 to 100, at most 10)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from reports.models import DEFAULT_TIERS, ReportSettings
from tests.conftest import Accounts


def _url(org_id: int) -> str:
    return f"/orgs/{org_id}/reports/settings/"


def _form(**changes: str) -> dict[str, str]:
    return {
        "sla_target": "99.95",
        "tiers": "99.95: 5\n99.9: 10\n99: 50",
        "monthly_fee": "1200",
        "monthly_email": "on",
        **changes,
    }


def test_the_defaults_are_aws_s3s(client: Client, accounts: Accounts) -> None:
    client.force_login(accounts.owner)
    html = client.get(_url(accounts.org.pk)).content.decode()
    assert 'value="99.900"' in html
    assert "99.9: 10\n99.0: 25\n95.0: 100" in html
    assert DEFAULT_TIERS[0] == {"below": "99.9", "credit": "10"}


def test_an_owner_saves_settings(client: Client, accounts: Accounts) -> None:
    client.force_login(accounts.owner)
    response = client.post(_url(accounts.org.pk), _form(tiers="99: 50\n99.95: 5\n99.9 → 10"))
    assert response.status_code == 302
    saved = ReportSettings.objects.get(organization=accounts.org)
    assert saved.sla_target == Decimal("99.95") and saved.monthly_fee == Decimal(1200) and saved.monthly_email
    # Written in any order, kept highest threshold first.
    assert saved.credit_tiers == [
        {"below": "99.95", "credit": "5"},
        {"below": "99.9", "credit": "10"},
        {"below": "99", "credit": "50"},
    ]


def test_no_tiers_means_no_credit(client: Client, accounts: Accounts) -> None:
    client.force_login(accounts.owner)
    assert client.post(_url(accounts.org.pk), _form(tiers="", monthly_email="")).status_code == 302
    saved = ReportSettings.objects.get(organization=accounts.org)
    assert saved.credit_tiers == [] and not saved.monthly_email


def test_a_member_reads_but_cannot_change(client: Client, accounts: Accounts) -> None:
    client.force_login(accounts.member)
    page = client.get(_url(accounts.org.pk))
    assert page.status_code == 200
    assert "<fieldset disabled>" in page.content.decode()
    assert client.post(_url(accounts.org.pk), _form()).status_code == 403
    assert not ReportSettings.objects.filter(organization=accounts.org).exists()


def test_an_outsider_gets_a_404(client: Client, accounts: Accounts) -> None:
    client.force_login(accounts.outsider)
    assert client.get(_url(accounts.org.pk)).status_code == 404
    assert client.post(_url(accounts.org.pk), _form()).status_code == 404


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"tiers": "99.9: 10\n99.9: 20"}, "same threshold"),
        ({"tiers": "99.9: 50\n99: 10"}, "must not earn a smaller credit"),
        ({"tiers": "101: 10"}, "percentages, 0 to 100"),
        ({"tiers": "99.9: -5"}, "percentages, 0 to 100"),
        ({"tiers": "99.9: 150"}, "percentages, 0 to 100"),
        ({"tiers": "ninety-nine: ten"}, "write an uptime threshold and a credit"),
        ({"tiers": "NaN: 10"}, "write an uptime threshold and a credit"),
        ({"tiers": "99.9"}, "write an uptime threshold and a credit"),
        ({"tiers": "99.99999: 1"}, "at most 3 decimals"),
        ({"tiers": "\n".join(f"{99 - n}: {n}" for n in range(11))}, "At most 10 tiers."),
        ({"tiers": "9" * 1200}, "at most 1000 characters"),
        ({"sla_target": "100"}, "under 100"),
        ({"sla_target": "0"}, "over 0"),
        ({"sla_target": "abc"}, "Enter a number."),
        ({"monthly_fee": "-1"}, "cannot be negative"),
    ],
)
def test_bad_settings_are_form_errors(
    client: Client, accounts: Accounts, changes: dict[str, str], message: str
) -> None:
    client.force_login(accounts.owner)
    response = client.post(_url(accounts.org.pk), _form(**changes))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not ReportSettings.objects.filter(organization=accounts.org).exists()


def test_the_settings_page_query_count_is_pinned(
    client: Client, accounts: Accounts, django_assert_num_queries: Any
) -> None:
    client.force_login(accounts.owner)
    with django_assert_num_queries(8):
        assert client.get(_url(accounts.org.pk)).status_code == 200

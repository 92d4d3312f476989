"""The organisation's limits and budget page: owners and admins set them, others cannot."""

from __future__ import annotations

from decimal import Decimal

import pytest

from accounts.models import Organization
from tests.accounts.helpers import assert_login_required, assert_not_found_for, client_for
from tests.conftest import Accounts


def url(accounts: Accounts) -> str:
    return f"/orgs/{accounts.org.pk}/limits/"


def test_owner_sets_limits_budget_and_thresholds(accounts: Accounts) -> None:
    response = client_for(accounts.owner).post(
        url(accounts),
        {
            "rpm_limit": "600",
            "tpm_limit": "100000",
            "monthly_budget_usd": "250.50",
            "budget_alert_thresholds": "90, 50",
        },
    )
    assert response.status_code == 302
    org = Organization.objects.get(pk=accounts.org.pk)
    assert (org.rpm_limit, org.tpm_limit, org.monthly_budget_usd) == (600, 100000, Decimal("250.50"))
    assert org.budget_alert_thresholds == [50, 90]
    page = client_for(accounts.owner).get(url(accounts))
    assert b'value="250.50"' in page.content and b"50, 90" in page.content


def test_empty_fields_remove_the_limits(accounts: Accounts) -> None:
    accounts.org.rpm_limit = 5
    accounts.org.save()
    client_for(accounts.owner).post(url(accounts), {"rpm_limit": "", "tpm_limit": "", "monthly_budget_usd": ""})
    assert Organization.objects.get(pk=accounts.org.pk).rpm_limit is None


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"rpm_limit": "-1"}, "rpm_limit"),
        ({"rpm_limit": "2.5"}, "rpm_limit"),
        ({"tpm_limit": "lots"}, "tpm_limit"),
        ({"monthly_budget_usd": "0"}, "monthly_budget_usd"),
        ({"monthly_budget_usd": "1.234"}, "monthly_budget_usd"),
        ({"budget_alert_thresholds": "50, eighty"}, "budget_alert_thresholds"),
        ({"budget_alert_thresholds": "0"}, "budget_alert_thresholds"),
    ],
)
def test_bad_values_are_field_errors_and_change_nothing(accounts: Accounts, data: dict[str, str], field: str) -> None:
    response = client_for(accounts.owner).post(url(accounts), data)
    assert response.status_code == 400
    assert field in response.context["form"].errors
    org = Organization.objects.get(pk=accounts.org.pk)
    assert (org.rpm_limit, org.tpm_limit, org.monthly_budget_usd) == (None, None, None)


def test_a_member_may_not_change_limits(accounts: Accounts) -> None:
    assert client_for(accounts.member).post(url(accounts), {"rpm_limit": "1"}).status_code == 403
    assert Organization.objects.get(pk=accounts.org.pk).rpm_limit is None


def test_requires_login(accounts: Accounts) -> None:
    assert_login_required(url(accounts))


def test_outsider_gets_404(accounts: Accounts) -> None:
    assert_not_found_for(accounts.outsider, url(accounts))
    assert_not_found_for(accounts.outsider, url(accounts), method="post", data={"rpm_limit": "1"})
    assert Organization.objects.get(pk=accounts.org.pk).rpm_limit is None

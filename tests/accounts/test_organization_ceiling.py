"""The operator's per-organisation ceiling: new organisations start under NEW_ORG_*, their admins may
lower limits but not raise or clear them, keys stay under it, and the proxy never enforces more."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import pytest

from accounts.models import ApiKey, Organization
from accounts.selectors import api_keys_changed_since
from accounts.services import create_api_key
from tests.accounts.helpers import client_for
from tests.accounts.test_proxy_selectors import _AsyncOverTestConnection
from tests.api.helpers import post_json
from tests.conftest import Accounts

PASSWORD = "correct horse battery 42"


def _ceiling(org: Organization, rpm: int | None = 100, tpm: int | None = 10_000, budget: str | None = "50") -> None:
    org.max_rpm, org.max_tpm = rpm, tpm
    org.max_monthly_budget_usd = Decimal(budget) if budget else None
    org.save()


def test_new_organisations_start_at_the_operators_defaults(db: None, settings: Any) -> None:
    settings.NEW_ORG_RPM, settings.NEW_ORG_TPM, settings.NEW_ORG_MONTHLY_BUDGET_USD = 60, 20_000, Decimal("5")
    assert client_for().post("/signup/", {"email": "new@example.com", "password": PASSWORD}).status_code == 302
    org = Organization.objects.get()
    assert (org.rpm_limit, org.tpm_limit, org.monthly_budget_usd) == (60, 20_000, Decimal("5"))
    assert (org.max_rpm, org.max_tpm, org.max_monthly_budget_usd) == (60, 20_000, Decimal("5"))


def test_without_defaults_new_organisations_are_unlimited(db: None) -> None:
    assert client_for().post("/signup/", {"email": "new@example.com", "password": PASSWORD}).status_code == 302
    org = Organization.objects.get()
    assert (org.rpm_limit, org.max_rpm, org.max_monthly_budget_usd) == (None, None, None)


def test_owners_lower_limits_under_the_ceiling(accounts: Accounts) -> None:
    _ceiling(accounts.org)
    data = {"rpm_limit": "50", "tpm_limit": "10000", "monthly_budget_usd": "49.99"}
    assert client_for(accounts.owner).post(f"/orgs/{accounts.org.pk}/limits/", data).status_code == 302
    assert Organization.objects.get(pk=accounts.org.pk).rpm_limit == 50


@pytest.mark.parametrize(
    ("field", "value"),
    [("rpm_limit", "101"), ("tpm_limit", "10001"), ("monthly_budget_usd", "50.01"), ("rpm_limit", "")],
)
def test_owners_cannot_raise_or_clear_a_limit_over_the_ceiling(accounts: Accounts, field: str, value: str) -> None:
    _ceiling(accounts.org)
    data = {"rpm_limit": "10", "tpm_limit": "10", "monthly_budget_usd": "1", field: value}
    response = client_for(accounts.owner).post(f"/orgs/{accounts.org.pk}/limits/", data)
    assert response.status_code == 400
    assert "ceiling" in str(response.context["form"].errors[field])
    assert Organization.objects.get(pk=accounts.org.pk).rpm_limit is None


def test_the_limits_page_names_the_ceiling(accounts: Accounts) -> None:
    _ceiling(accounts.org)
    page = client_for(accounts.owner).get(f"/orgs/{accounts.org.pk}/limits/").content.decode()
    assert "At most 100 (set by the operator)" in page


def test_a_keys_limits_cannot_exceed_the_ceiling_in_the_app(verified: Accounts) -> None:
    _ceiling(verified.org)
    response = client_for(verified.owner).post(f"/orgs/{verified.org.pk}/keys/new/", {"name": "k", "rpm_limit": "101"})
    assert response.status_code == 400 and "ceiling" in str(response.context["form"].errors["rpm_limit"])
    response = client_for(verified.owner).post(f"/orgs/{verified.org.pk}/keys/new/", {"name": "k", "rpm_limit": ""})
    assert response.status_code == 200


def test_a_keys_limits_cannot_exceed_the_ceiling_in_the_api(verified: Accounts) -> None:
    _ceiling(verified.org)
    url = f"/api/orgs/{verified.org.pk}/keys/"
    response = post_json(client_for(verified.owner), url, {"name": "k", "monthly_budget_usd": "50.01"})
    assert response.status_code == 400 and "ceiling" in response.json()["monthly_budget_usd"][0]
    assert not ApiKey.objects.exists()


def test_the_proxy_never_sees_an_organisation_limit_over_the_ceiling(accounts: Accounts) -> None:
    # Stored before the ceiling existed (or written around the forms): the proxy still gets the ceiling.
    accounts.org.rpm_limit, accounts.org.tpm_limit, accounts.org.monthly_budget_usd = 500, None, Decimal("0")
    accounts.org.save()
    _ceiling(accounts.org, rpm=100, tpm=10_000, budget="50")
    key = create_api_key(organization=accounts.org, name="k").api_key
    rows = asyncio.run(api_keys_changed_since(_AsyncOverTestConnection(), None))  # type: ignore[arg-type]
    row = next(row for row in rows if row[0] == key.pk)
    assert row[11:14] == (100, 10_000, Decimal("50.00"))

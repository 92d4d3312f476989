from __future__ import annotations

from accounts.services import create_api_key
from tests.accounts.helpers import assert_login_required, assert_not_found_for, client_for
from tests.conftest import Accounts


def url(accounts: Accounts) -> str:
    return f"/orgs/{accounts.org.pk}/"


def test_owner_sees_the_overview(accounts: Accounts) -> None:
    create_api_key(organization=accounts.org, name="a")
    response = client_for(accounts.owner).get(url(accounts))
    assert response.status_code == 200
    assert response.context["active_keys"] == 1
    assert response.context["member_count"] == 2
    assert b"Acme" in response.content


def test_the_org_switcher_lists_every_organisation_of_the_user(accounts: Accounts) -> None:
    from accounts.services import create_organization

    create_organization(name="Second org", owner=accounts.owner)
    page = client_for(accounts.owner).get(url(accounts)).content.decode()
    assert "Second org" in page
    assert "Other" not in page  # the outsider's organisation


def test_member_sees_the_overview(accounts: Accounts) -> None:
    assert client_for(accounts.member).get(url(accounts)).status_code == 200


def test_requires_login(accounts: Accounts) -> None:
    assert_login_required(url(accounts))


def test_outsider_gets_404(accounts: Accounts) -> None:
    response = assert_not_found_for(accounts.outsider, url(accounts))
    assert b"Acme" not in response.content


def test_a_missing_organisation_is_404(accounts: Accounts) -> None:
    assert client_for(accounts.owner).get("/orgs/999999/").status_code == 404

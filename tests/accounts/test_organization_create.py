from __future__ import annotations

import pytest

from accounts.models import Membership, Organization
from tests.accounts.helpers import assert_login_required, client_for
from tests.conftest import Accounts


def test_the_form_renders(accounts: Accounts) -> None:
    assert client_for(accounts.owner).get("/orgs/new/").status_code == 200


def test_creates_an_organisation_owned_by_its_creator(accounts: Accounts) -> None:
    response = client_for(accounts.member).post("/orgs/new/", {"name": "  Side project "})
    org = Organization.objects.get(name="Side project")
    assert response["Location"] == f"/orgs/{org.pk}/"
    assert Membership.objects.get(organization=org).user == accounts.member
    assert Membership.objects.get(organization=org).role == Membership.Role.OWNER


@pytest.mark.parametrize("name", ["", "   ", "x" * 101])
def test_a_bad_name_is_a_field_error(accounts: Accounts, name: str) -> None:
    response = client_for(accounts.owner).post("/orgs/new/", {"name": name})
    assert response.status_code == 400
    assert "name" in response.context["form"].errors
    assert Organization.objects.count() == 2


def test_requires_login(db: None) -> None:
    assert_login_required("/orgs/new/")
    assert_login_required("/orgs/new/", method="post")
    assert not Organization.objects.exists()

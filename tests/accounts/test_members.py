from __future__ import annotations

from accounts.models import Invitation
from tests.accounts.helpers import assert_login_required, assert_not_found_for, client_for
from tests.conftest import Accounts


def url(accounts: Accounts) -> str:
    return f"/orgs/{accounts.org.pk}/members/"


def test_owner_sees_members_pending_invitations_and_the_invite_form(accounts: Accounts) -> None:
    Invitation.objects.create(organization=accounts.org, email="pending@example.org", invited_by=accounts.owner)
    response = client_for(accounts.owner).get(url(accounts))
    assert response.status_code == 200
    page = response.content.decode()
    assert "owner@example.org" in page and "member@example.org" in page
    assert "pending@example.org" in page
    assert "Send invitation" in page


def test_members_see_the_list_only(accounts: Accounts) -> None:
    Invitation.objects.create(organization=accounts.org, email="pending@example.org")
    response = client_for(accounts.member).get(url(accounts))
    assert response.status_code == 200
    page = response.content.decode()
    assert "owner@example.org" in page
    assert "pending@example.org" not in page
    assert "Send invitation" not in page


def test_requires_login(accounts: Accounts) -> None:
    assert_login_required(url(accounts))


def test_outsider_gets_404(accounts: Accounts) -> None:
    response = assert_not_found_for(accounts.outsider, url(accounts))
    assert b"member@example.org" not in response.content

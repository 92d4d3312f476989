from __future__ import annotations

from accounts.models import Invitation
from tests.accounts.helpers import assert_login_required, assert_not_found_for, client_for
from tests.conftest import Accounts


def make_invitation(accounts: Accounts) -> Invitation:
    return Invitation.objects.create(organization=accounts.org, email="x@example.org", invited_by=accounts.owner)


def url(invitation: Invitation) -> str:
    return f"/orgs/{invitation.organization_id}/invitations/{invitation.pk}/cancel/"


def test_owner_cancels_an_invitation(accounts: Accounts) -> None:
    invitation = make_invitation(accounts)
    assert client_for(accounts.owner).post(url(invitation))["Location"] == f"/orgs/{accounts.org.pk}/members/"
    assert not Invitation.objects.exists()


def test_a_member_cannot_cancel(accounts: Accounts) -> None:
    invitation = make_invitation(accounts)
    assert client_for(accounts.member).post(url(invitation)).status_code == 403
    assert Invitation.objects.exists()


def test_requires_login(accounts: Accounts) -> None:
    invitation = make_invitation(accounts)
    assert_login_required(url(invitation), method="post")
    assert Invitation.objects.exists()


def test_outsider_gets_404(accounts: Accounts) -> None:
    invitation = make_invitation(accounts)
    assert_not_found_for(accounts.outsider, url(invitation), method="post")
    assert Invitation.objects.exists()

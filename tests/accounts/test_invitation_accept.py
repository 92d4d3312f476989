from __future__ import annotations

import re
import time
from urllib.parse import unquote

import pytest
from django.core import signing

from accounts.links import invitation_for_token, invitation_token
from accounts.models import Invitation, Membership, User
from tests.accounts.helpers import client_for
from tests.conftest import Accounts


def invite(accounts: Accounts, email: str = "outsider@example.org", role: str = "admin") -> Invitation:
    return Invitation.objects.create(organization=accounts.org, email=email, role=role, invited_by=accounts.owner)


def url(invitation: Invitation) -> str:
    return f"/invite/{invitation_token(invitation)}/"


def test_logged_in_as_the_invited_address_you_accept_and_join(accounts: Accounts) -> None:
    invitation = invite(accounts)
    client = client_for(accounts.outsider)
    page = client.get(url(invitation))
    assert page.status_code == 200
    assert b"Accept invitation" in page.content
    response = client.post(url(invitation))
    assert response["Location"] == f"/orgs/{accounts.org.pk}/"
    membership = Membership.objects.get(organization=accounts.org, user=accounts.outsider)
    assert membership.role == Membership.Role.ADMIN
    assert User.objects.get(pk=accounts.outsider.pk).email_verified_at is not None
    assert client.get(url(invitation)).status_code == 400  # used up


def test_anonymous_visitors_are_offered_login_or_sign_up(accounts: Accounts) -> None:
    invitation = invite(accounts, email="fresh@example.org")
    response = client_for().get(url(invitation))
    assert response.status_code == 200
    page = response.content.decode()
    # The page signs its own token: read it back rather than sign one here a second later.
    offered = re.search(r'/signup/\?invite=([^"&]+)"', page)
    assert offered is not None
    found = invitation_for_token(unquote(offered.group(1)))
    assert found is not None and found.pk == invitation.pk
    assert "/login/?next=/invite/" in page
    assert client_for().post(url(invitation)).status_code == 200
    assert not Membership.objects.filter(user__email="fresh@example.org").exists()


def test_signing_up_from_the_invitation_joins_the_organisation(accounts: Accounts) -> None:
    invitation = invite(accounts, email="fresh@example.org", role="member")
    client = client_for()
    signup = f"/signup/?invite={invitation_token(invitation)}"
    assert b'value="fresh@example.org"' in client.get(signup).content
    response = client.post(signup, {"email": "fresh@example.org", "password": "correct horse battery 42"})
    assert response.status_code == 302
    user = User.objects.get(email="fresh@example.org")
    assert user.email_verified_at is not None
    assert Membership.objects.filter(organization=accounts.org, user=user, role="member").exists()
    assert Membership.objects.filter(user=user).count() == 1  # no empty organisation of their own
    assert client.get("/")["Location"] == f"/orgs/{accounts.org.pk}/"


def test_signing_up_with_another_address_does_not_use_the_invitation(accounts: Accounts) -> None:
    invitation = invite(accounts, email="fresh@example.org")
    client_for().post(
        f"/signup/?invite={invitation_token(invitation)}",
        {
            "email": "other@example.org",
            "password": "correct horse battery 42",
        },
    )
    assert not Membership.objects.filter(organization=accounts.org, user__email="other@example.org").exists()
    assert Invitation.objects.get().accepted_at is None


def test_a_different_logged_in_account_cannot_accept(accounts: Accounts) -> None:
    invitation = invite(accounts, email="someone.else@example.org")
    client = client_for(accounts.outsider)
    assert b"You are logged in as outsider@example.org" in client.get(url(invitation)).content
    client.post(url(invitation))
    assert not Membership.objects.filter(organization=accounts.org, user=accounts.outsider).exists()
    assert Invitation.objects.get().accepted_at is None


def test_an_expired_invitation_is_refused(accounts: Accounts, monkeypatch: pytest.MonkeyPatch) -> None:
    invitation = invite(accounts)
    eight_days_ago = int(time.time()) - 8 * 86400
    monkeypatch.setattr(signing.TimestampSigner, "timestamp", lambda self: signing.b62_encode(eight_days_ago))
    token = invitation_token(invitation)
    monkeypatch.undo()
    client = client_for(accounts.outsider)
    response = client.post(f"/invite/{token}/")
    assert response.status_code == 400
    assert b"invalid or has expired" in response.content
    assert not Membership.objects.filter(organization=accounts.org, user=accounts.outsider).exists()


@pytest.mark.parametrize("token", ["garbage", "eyJpIjoxfQ:1tAbCd:forged"])
def test_a_forged_invitation_is_refused(accounts: Accounts, token: str) -> None:
    invite(accounts)
    assert client_for(accounts.outsider).post(f"/invite/{token}/").status_code == 400
    assert not Membership.objects.filter(organization=accounts.org, user=accounts.outsider).exists()


def test_a_cancelled_invitation_is_refused(accounts: Accounts) -> None:
    invitation = invite(accounts)
    link = url(invitation)
    invitation.delete()
    assert client_for(accounts.outsider).post(link).status_code == 400


def test_accepting_when_already_a_member_keeps_the_existing_role(accounts: Accounts) -> None:
    invitation = invite(accounts, email="member@example.org", role="admin")
    assert client_for(accounts.member).post(url(invitation)).status_code == 302
    assert Membership.objects.get(organization=accounts.org, user=accounts.member).role == "member"


def test_signing_up_from_the_invitation_lands_in_the_organisation_with_a_you_joined_message(
    accounts: Accounts,
) -> None:
    invitation = invite(accounts, email="fresh@example.org", role="member")
    client = client_for()
    response = client.post(
        f"/signup/?invite={invitation_token(invitation)}",
        {"email": "fresh@example.org", "password": "correct horse battery 42"},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == f"/orgs/{accounts.org.pk}/"
    assert "You joined Acme." in response.content.decode()
    assert not Membership.objects.filter(user__email="fresh@example.org", role="owner").exists()


def test_signing_up_without_an_invitation_still_makes_an_organisation_of_ones_own() -> None:
    client_for().post("/signup/", {"email": "solo@example.org", "password": "correct horse battery 42"})
    assert Membership.objects.filter(user__email="solo@example.org", role="owner").count() == 1

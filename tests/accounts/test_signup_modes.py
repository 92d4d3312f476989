"""SIGNUP=open|invite|closed: who may create an account, and what they get."""

from __future__ import annotations

from typing import Any

from accounts.links import invitation_token
from accounts.models import Invitation, Membership, Organization, User
from tests.accounts.helpers import client_for
from tests.conftest import Accounts

PASSWORD = "correct horse battery 42"


def _invite(accounts: Accounts, email: str = "new@example.com") -> str:
    invitation = Invitation.objects.create(organization=accounts.org, email=email, invited_by=accounts.owner)
    return invitation_token(invitation)


def test_open_sign_up_is_the_default_and_gives_an_organisation(db: None) -> None:
    assert b"Sign up" in client_for().get("/login/").content
    assert client_for().post("/signup/", {"email": "new@example.com", "password": PASSWORD}).status_code == 302
    assert Membership.objects.get(user__email="new@example.com").role == Membership.Role.OWNER


def test_closed_sign_up_has_no_page_and_no_link(db: None, settings: Any) -> None:
    settings.SIGNUP = "closed"
    assert client_for().get("/signup/").status_code == 404
    assert client_for().post("/signup/", {"email": "new@example.com", "password": PASSWORD}).status_code == 404
    assert not User.objects.exists()
    assert b"/signup/" not in client_for().get("/login/").content


def test_closed_sign_up_invitations_say_to_ask_the_operator(accounts: Accounts, settings: Any) -> None:
    settings.SIGNUP = "closed"
    page = client_for().get(f"/invite/{_invite(accounts)}/").content.decode()
    assert "/signup/" not in page and "operator" in page


def test_invite_only_sign_up_refuses_strangers(db: None, settings: Any) -> None:
    settings.SIGNUP = "invite"
    response = client_for().get("/signup/")
    assert response.status_code == 403 and b"invitation only" in response.content
    assert client_for().post("/signup/", {"email": "new@example.com", "password": PASSWORD}).status_code == 403
    assert (
        client_for().post("/signup/?invite=forged", {"email": "new@example.com", "password": PASSWORD}).status_code
        == 403
    )
    assert not User.objects.exists()
    assert b"/signup/" not in client_for().get("/login/").content


def test_invite_only_sign_up_joins_the_inviting_organisation_only(accounts: Accounts, settings: Any) -> None:
    settings.SIGNUP = "invite"
    token = _invite(accounts)
    response = client_for().post(f"/signup/?invite={token}", {"email": "new@example.com", "password": PASSWORD})
    assert response.status_code == 302
    user = User.objects.get(email="new@example.com")
    assert [m.organization_id for m in Membership.objects.filter(user=user)] == [accounts.org.pk]


def test_invite_only_sign_up_must_use_the_invited_address(accounts: Accounts, settings: Any) -> None:
    settings.SIGNUP = "invite"
    token = _invite(accounts)
    response = client_for().post(f"/signup/?invite={token}", {"email": "other@example.com", "password": PASSWORD})
    assert response.status_code == 400 and b"This invitation is for new@example.com" in response.content
    assert not User.objects.filter(email="other@example.com").exists()


def test_outside_open_sign_up_only_staff_create_organisations(accounts: Accounts, settings: Any) -> None:
    settings.SIGNUP = "invite"
    response = client_for(accounts.member).post("/orgs/new/", {"name": "Mine"})
    assert response.status_code == 403
    assert not Organization.objects.filter(name="Mine").exists()
    accounts.member.is_staff = True
    accounts.member.save()
    assert client_for(accounts.member).post("/orgs/new/", {"name": "Mine"}).status_code == 302

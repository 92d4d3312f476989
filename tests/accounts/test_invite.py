from __future__ import annotations

import smtplib

import pytest
from django.core import mail
from django.core.mail.backends import locmem

from accounts.models import Invitation, Membership
from tests.accounts.helpers import assert_login_required, assert_not_found_for, client_for
from tests.conftest import Accounts


def url(accounts: Accounts) -> str:
    return f"/orgs/{accounts.org.pk}/members/invite/"


def test_owner_invites_by_email(verified: Accounts) -> None:
    response = client_for(verified.owner).post(url(verified), {"email": "New@Example.org", "role": "admin"})
    assert response["Location"] == f"/orgs/{verified.org.pk}/members/"
    invitation = Invitation.objects.get()
    assert (invitation.email, invitation.role, invitation.invited_by) == (
        "new@example.org",
        "admin",
        verified.owner,
    )
    assert mail.outbox[0].to == ["new@example.org"]
    assert "http://testserver/invite/" in mail.outbox[0].body
    assert "Acme" in mail.outbox[0].body


def test_an_admin_can_invite(verified: Accounts) -> None:
    Membership.objects.filter(user=verified.member).update(role=Membership.Role.ADMIN)
    response = client_for(verified.member).post(url(verified), {"email": "x@example.org", "role": "member"})
    assert response.status_code == 302


def test_a_member_cannot_invite(verified: Accounts) -> None:
    response = client_for(verified.member).post(url(verified), {"email": "x@example.org", "role": "member"})
    assert response.status_code == 403
    assert not Invitation.objects.exists()
    assert not mail.outbox


def test_inviting_again_replaces_the_earlier_link(verified: Accounts) -> None:
    client = client_for(verified.owner)
    client.post(url(verified), {"email": "x@example.org", "role": "member"})
    first = Invitation.objects.get()
    client.post(url(verified), {"email": "x@example.org", "role": "admin"})
    assert list(Invitation.objects.values_list("role", flat=True)) == ["admin"]
    assert not Invitation.objects.filter(pk=first.pk).exists()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"email": "member@example.org", "role": "member"}, "email"),
        ({"email": "not-an-email", "role": "member"}, "email"),
        ({"email": "x@example.org", "role": "owner"}, "role"),
        ({"email": "x" * 300 + "@example.org", "role": "member"}, "email"),
    ],
)
def test_bad_input_is_a_field_error(verified: Accounts, data: dict[str, str], field: str) -> None:
    response = client_for(verified.owner).post(url(verified), data)
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert not Invitation.objects.exists()
    assert not mail.outbox


def test_unverified_users_cannot_invite(accounts: Accounts) -> None:
    response = client_for(accounts.owner).post(url(accounts), {"email": "x@example.org", "role": "member"})
    assert response.status_code == 400
    assert "Verify your email" in response.context["form"].non_field_errors()[0]
    assert not Invitation.objects.exists()


def test_requires_login_and_post(verified: Accounts) -> None:
    assert_login_required(url(verified), method="post")
    # A GET (a reload of the form's error page) goes back to the members page, never a blank 405.
    response = client_for(verified.owner).get(url(verified))
    assert response.status_code == 302 and response["Location"] == f"/orgs/{verified.org.pk}/members/"


def test_outsider_gets_404(verified: Accounts) -> None:
    data = {"email": "x@example.org", "role": "member"}
    assert_not_found_for(verified.outsider, url(verified), method="post", data=data)
    assert not Invitation.objects.exists()


def test_a_mail_server_failure_is_reported(verified: Accounts, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(self: object, messages: object) -> int:
        raise smtplib.SMTPRecipientsRefused({})

    monkeypatch.setattr(locmem.EmailBackend, "send_messages", refuse)
    data = {"email": "x@example.org", "role": "member"}
    response = client_for(verified.owner).post(url(verified), data, follow=True)
    assert response.status_code == 200
    assert b"could not email x@example.org" in response.content

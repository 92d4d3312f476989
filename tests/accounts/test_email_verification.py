from __future__ import annotations

import time

import pytest
from django.core import mail, signing
from django.utils import timezone

from accounts.links import verification_token
from accounts.models import User
from tests.accounts.helpers import assert_login_required, client_for
from tests.conftest import Accounts


def verified_at(user: User) -> object:
    return User.objects.get(pk=user.pk).email_verified_at


def test_the_emailed_link_verifies_the_address(db: None) -> None:
    client = client_for()
    client.post("/signup/", {"email": "new@example.com", "password": "correct horse battery 42"})
    link = mail.outbox[0].body.split("http://testserver")[1].split()[0]
    response = client.get(link, follow=True)
    assert response.status_code == 200
    assert b"is verified" in response.content
    assert User.objects.get().email_verified_at is not None


def test_the_link_works_without_being_logged_in(accounts: Accounts) -> None:
    response = client_for().get(f"/verify-email/{verification_token(accounts.owner)}/")
    assert response.status_code == 302
    assert verified_at(accounts.owner) is not None


def test_unverified_users_see_a_banner_until_verified(accounts: Accounts) -> None:
    client = client_for(accounts.owner)
    org_page = f"/orgs/{accounts.org.pk}/"
    assert b"Resend email" in client.get(org_page).content
    client.get(f"/verify-email/{verification_token(accounts.owner)}/")
    assert b"Resend email" not in client.get(org_page).content


def test_an_expired_link_is_refused(accounts: Accounts, monkeypatch: pytest.MonkeyPatch) -> None:
    four_days_ago = int(time.time()) - 4 * 86400
    monkeypatch.setattr(signing.TimestampSigner, "timestamp", lambda self: signing.b62_encode(four_days_ago))
    token = verification_token(accounts.owner)
    monkeypatch.undo()
    response = client_for().get(f"/verify-email/{token}/")
    assert response.status_code == 400
    assert b"invalid or has expired" in response.content
    assert verified_at(accounts.owner) is None


@pytest.mark.parametrize("token", ["garbage", "eyJ1IjoxfQ:1tAbCd:forged-signature"])
def test_a_forged_link_is_refused(accounts: Accounts, token: str) -> None:
    assert client_for().get(f"/verify-email/{token}/").status_code == 400
    assert verified_at(accounts.owner) is None


def test_a_link_for_a_changed_address_is_refused(accounts: Accounts) -> None:
    token = verification_token(accounts.owner)
    User.objects.filter(pk=accounts.owner.pk).update(email="changed@example.org")
    assert client_for().get(f"/verify-email/{token}/").status_code == 400


def test_resend_sends_a_new_link_and_is_throttled(accounts: Accounts) -> None:
    client = client_for(accounts.owner)
    for _ in range(4):
        assert client.post("/verify-email/resend/")["Location"] == "/"
    assert len(mail.outbox) == 3
    assert "/verify-email/" in mail.outbox[0].body


def test_resend_does_nothing_once_verified(accounts: Accounts) -> None:
    User.objects.filter(pk=accounts.owner.pk).update(email_verified_at=timezone.now())
    client_for(accounts.owner).post("/verify-email/resend/")
    assert not mail.outbox


def test_resend_requires_login_and_post(accounts: Accounts) -> None:
    assert_login_required("/verify-email/resend/", method="post")
    # A GET (a reload, a link followed by hand) goes home: never a blank 405, and no email.
    response = client_for(accounts.owner).get("/verify-email/resend/")
    assert response.status_code == 302 and response["Location"] == "/"

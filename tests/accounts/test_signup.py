from __future__ import annotations

import smtplib

import pytest
from django.core import mail
from django.core.mail.backends import locmem

from accounts.models import Membership, Organization, User
from tests.accounts.helpers import assert_not_in_logs, capturing_all_logs, client_for
from tests.conftest import Accounts

PASSWORD = "correct horse battery 42"


def test_the_form_renders(db: None) -> None:
    response = client_for().get("/signup/")
    assert response.status_code == 200
    assert b'name="password"' in response.content


def test_sign_up_creates_the_user_their_own_org_and_logs_in(db: None) -> None:
    client = client_for()
    response = client.post("/signup/", {"email": "New.Person@Example.COM", "password": PASSWORD})
    assert response.status_code == 302
    user = User.objects.get()
    assert user.email == "new.person@example.com"
    assert user.check_password(PASSWORD)
    assert user.email_verified_at is None
    membership = Membership.objects.get(user=user)
    assert membership.role == Membership.Role.OWNER
    assert membership.organization.name == "new.person's organisation"
    assert client.get("/", follow=True).context["user"] == user


def test_sign_up_sends_a_verification_link(db: None) -> None:
    client_for().post("/signup/", {"email": "new@example.com", "password": PASSWORD})
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["new@example.com"]
    assert "http://testserver/verify-email/" in mail.outbox[0].body


def test_an_email_already_taken_is_a_field_error(accounts: Accounts) -> None:
    response = client_for().post("/signup/", {"email": "OWNER@example.org", "password": PASSWORD})
    assert response.status_code == 400
    assert "already exists" in response.context["form"].errors["email"][0]
    assert User.objects.count() == 3
    assert Organization.objects.count() == 2


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"email": "a@example.com", "password": "short"}, "password"),
        ({"email": "a@example.com", "password": "password123"}, "password"),
        ({"email": "a@example.com", "password": "12345678901"}, "password"),
        ({"email": "a@example.com", "password": "a@example.com"}, "password"),
        ({"email": "not-an-email", "password": PASSWORD}, "email"),
        ({"email": "x" * 250 + "@example.com", "password": PASSWORD}, "email"),
        ({"email": "", "password": ""}, "password"),
        ({}, "email"),
    ],
)
def test_bad_input_is_a_field_error_and_creates_nothing(db: None, data: dict[str, str], field: str) -> None:
    response = client_for().post("/signup/", data)
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert not User.objects.exists()
    assert not Organization.objects.exists()
    assert not mail.outbox


def test_a_logged_in_user_is_sent_home(accounts: Accounts) -> None:
    assert client_for(accounts.owner).get("/signup/")["Location"] == "/"


def test_the_password_is_never_logged(db: None, caplog: pytest.LogCaptureFixture) -> None:
    with capturing_all_logs(caplog):
        client_for().post("/signup/", {"email": "new@example.com", "password": PASSWORD})
    assert User.objects.exists()
    assert_not_in_logs(caplog, PASSWORD)


def test_a_mail_server_failure_still_signs_up_and_says_so(db: None, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(self: object, messages: object) -> int:
        raise smtplib.SMTPServerDisconnected("down")

    monkeypatch.setattr(locmem.EmailBackend, "send_messages", refuse)
    response = client_for().post("/signup/", {"email": "new@example.com", "password": PASSWORD}, follow=True)
    assert response.status_code == 200
    assert b"could not send the verification email" in response.content
    assert User.objects.filter(email="new@example.com").exists()


def test_an_address_taken_in_a_race_is_a_field_error(accounts: Accounts, monkeypatch: pytest.MonkeyPatch) -> None:
    from accounts.forms import SignUpForm

    # Simulate the other sign-up committing between validation and insert.
    monkeypatch.setattr(SignUpForm, "clean_email", lambda self: self.cleaned_data["email"])
    response = client_for().post("/signup/", {"email": "owner@example.org", "password": PASSWORD})
    assert response.status_code == 400
    assert "already exists" in response.context["form"].errors["email"][0]
    assert Organization.objects.count() == 2

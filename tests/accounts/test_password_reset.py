from __future__ import annotations

import re

from django.core import mail

from accounts.models import User
from tests.accounts.helpers import client_for
from tests.conftest import Accounts


def reset_link() -> str:
    match = re.search(r"http://testserver(/password-reset/\S+/\S+/)", mail.outbox[-1].body)
    assert match is not None
    return match.group(1)


def test_the_form_renders(db: None) -> None:
    assert client_for().get("/password-reset/").status_code == 200


def test_a_known_address_gets_a_link_that_sets_a_new_password(accounts: Accounts) -> None:
    client = client_for()
    response = client.post("/password-reset/", {"email": "Owner@example.org"})
    assert response["Location"] == "/password-reset/sent/"
    assert mail.outbox[0].to == ["owner@example.org"]
    form_page = client.get(reset_link(), follow=True)
    assert form_page.context["validlink"]
    new = "a brand new passphrase 7"
    done = client.post(form_page.redirect_chain[-1][0], {"new_password1": new, "new_password2": new})
    assert done["Location"] == "/password-reset/done/"
    owner = User.objects.get(pk=accounts.owner.pk)
    assert owner.check_password(new)
    assert owner.email_verified_at is not None  # the link proved the inbox


def test_an_unknown_address_looks_the_same_but_sends_nothing(db: None) -> None:
    response = client_for().post("/password-reset/", {"email": "nobody@example.org"})
    assert response["Location"] == "/password-reset/sent/"
    assert not mail.outbox


def test_a_bad_link_is_refused(accounts: Accounts) -> None:
    response = client_for().get("/password-reset/MQ/not-a-token/")
    assert response.status_code == 200
    assert not response.context["validlink"]


def test_a_weak_new_password_is_a_field_error(accounts: Accounts) -> None:
    client = client_for()
    client.post("/password-reset/", {"email": "owner@example.org"})
    form_page = client.get(reset_link(), follow=True)
    response = client.post(form_page.redirect_chain[-1][0], {"new_password1": "123", "new_password2": "123"})
    assert response.status_code == 200
    assert "new_password2" in response.context["form"].errors
    assert User.objects.get(pk=accounts.owner.pk).check_password("owner-password-123")


def test_requests_are_throttled_per_email_and_ip(accounts: Accounts) -> None:
    client = client_for()
    for _ in range(5):
        assert client.post("/password-reset/", {"email": "owner@example.org"}).status_code == 302
    response = client.post("/password-reset/", {"email": "owner@example.org"})
    assert response.status_code == 400
    assert "Too many" in response.context["form"].errors["email"][0]
    assert len(mail.outbox) == 5
    assert client_for().post("/password-reset/", {"email": "owner@example.org"}).status_code == 302


def test_an_invalid_address_is_a_field_error(db: None) -> None:
    response = client_for().post("/password-reset/", {"email": "nope"})
    assert response.status_code == 400
    assert "email" in response.context["form"].errors

from __future__ import annotations

import pytest

from tests.accounts.helpers import assert_not_in_logs, capturing_all_logs, client_for
from tests.conftest import Accounts

OWNER_PASSWORD = "owner-password-123"


def test_the_form_renders(db: None) -> None:
    response = client_for().get("/login/")
    assert response.status_code == 200
    assert b"Forgot your password?" in response.content


def test_login_works_and_goes_home(accounts: Accounts) -> None:
    client = client_for()
    response = client.post("/login/", {"username": "owner@example.org", "password": OWNER_PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.get("/")["Location"] == f"/orgs/{accounts.org.pk}/"


def test_email_case_does_not_matter(accounts: Accounts) -> None:
    response = client_for().post("/login/", {"username": " Owner@EXAMPLE.org", "password": OWNER_PASSWORD})
    assert response.status_code == 302


def test_login_follows_a_safe_next(accounts: Accounts) -> None:
    data = {"username": "owner@example.org", "password": OWNER_PASSWORD, "next": "/orgs/1/keys/"}
    assert client_for().post("/login/", data)["Location"] == "/orgs/1/keys/"
    data["next"] = "https://evil.example/"
    assert client_for().post("/login/", data)["Location"] == "/"


def test_a_wrong_password_is_a_form_error(accounts: Accounts) -> None:
    client = client_for()
    response = client.post("/login/", {"username": "owner@example.org", "password": "nope"})
    assert response.status_code == 200
    assert "correct email and password" in response.context["form"].non_field_errors()[0]
    assert "_auth_user_id" not in client.session


def test_five_failures_lock_out_that_email_from_that_ip(accounts: Accounts) -> None:
    client = client_for()
    for _ in range(5):
        client.post("/login/", {"username": "owner@example.org", "password": "nope"})
    response = client.post("/login/", {"username": "owner@example.org", "password": OWNER_PASSWORD})
    assert response.status_code == 200
    assert "Too many failed attempts" in response.context["form"].non_field_errors()[0]
    assert "_auth_user_id" not in client.session
    # Another address from the same IP, and the same address from another IP, are unaffected.
    other = {"username": "member@example.org", "password": "member-password-123"}
    assert client.post("/login/", other).status_code == 302
    right = {"username": "owner@example.org", "password": OWNER_PASSWORD}
    assert client_for().post("/login/", right).status_code == 302


def test_a_success_clears_earlier_failures(accounts: Accounts) -> None:
    client = client_for()
    for _ in range(4):
        client.post("/login/", {"username": "owner@example.org", "password": "nope"})
    client.post("/login/", {"username": "owner@example.org", "password": OWNER_PASSWORD})
    client.post("/logout/")
    for _ in range(4):
        client.post("/login/", {"username": "owner@example.org", "password": "nope"})
    right = {"username": "owner@example.org", "password": OWNER_PASSWORD}
    assert client.post("/login/", right).status_code == 302


def test_a_logged_in_user_is_sent_home(accounts: Accounts) -> None:
    assert client_for(accounts.owner).get("/login/")["Location"] == "/"


def test_the_password_is_never_logged(accounts: Accounts, caplog: pytest.LogCaptureFixture) -> None:
    with capturing_all_logs(caplog):
        client_for().post("/login/", {"username": "owner@example.org", "password": OWNER_PASSWORD})
        client_for().post("/login/", {"username": "owner@example.org", "password": "wrong-secret-value"})
    assert_not_in_logs(caplog, OWNER_PASSWORD)
    assert_not_in_logs(caplog, "wrong-secret-value")

from __future__ import annotations

from tests.accounts.helpers import client_for
from tests.conftest import Accounts


def test_logout_ends_the_session(accounts: Accounts) -> None:
    client = client_for(accounts.owner)
    response = client.post("/logout/")
    assert response.status_code == 302
    assert response["Location"] == "/login/"
    assert "_auth_user_id" not in client.session
    assert client.get(f"/orgs/{accounts.org.pk}/")["Location"].startswith("/login/")


def test_a_get_asks_before_logging_out(accounts: Accounts) -> None:
    client = client_for(accounts.owner)
    response = client.get("/logout/")
    assert response.status_code == 200
    assert b"Log out?" in response.content
    assert "_auth_user_id" in client.session


def test_a_get_when_logged_out_goes_to_the_login_page() -> None:
    response = client_for().get("/logout/")
    assert response.status_code == 302 and response["Location"] == "/login/"


def test_logout_needs_the_csrf_token(accounts: Accounts) -> None:
    client = client_for(accounts.owner, enforce_csrf_checks=True)
    assert client.post("/logout/").status_code == 403
    assert "_auth_user_id" in client.session

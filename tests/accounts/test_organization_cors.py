"""The organisation's browser origins (CORS), set by owners and admins on the settings page."""

from __future__ import annotations

import pytest

from accounts.models import Membership, Organization
from config.env import ConfigError, env_origins, parse_origin
from tests.accounts.helpers import assert_login_required, assert_not_found_for, client_for
from tests.conftest import Accounts


def url(accounts: Accounts) -> str:
    return f"/orgs/{accounts.org.pk}/limits/cors/"


def stored(accounts: Accounts) -> list[str]:
    return list(Organization.objects.get(pk=accounts.org.pk).cors_allowed_origins)


def test_the_settings_page_shows_the_origins_field_empty_by_default(accounts: Accounts) -> None:
    page = client_for(accounts.owner).get(f"/orgs/{accounts.org.pk}/limits/").content.decode()
    assert "Browser access (CORS)" in page
    assert 'name="cors_allowed_origins"' in page
    assert f'action="/orgs/{accounts.org.pk}/limits/cors/#cors"' in page
    assert stored(accounts) == []


def test_an_owner_sets_origins_normalised_and_deduplicated(accounts: Accounts) -> None:
    posted = "https://App.Example.com/\nhttp://localhost:5173\n\n  https://app.example.com:443  \n"
    response = client_for(accounts.owner).post(url(accounts), {"cors_allowed_origins": posted}, follow=True)
    assert response.redirect_chain[-1][0] == f"/orgs/{accounts.org.pk}/limits/"
    assert "Browser origins saved (2)." in response.content.decode()
    assert stored(accounts) == ["https://app.example.com", "http://localhost:5173"]
    page = client_for(accounts.owner).get(f"/orgs/{accounts.org.pk}/limits/").content.decode()
    assert "https://app.example.com\nhttp://localhost:5173</textarea>" in page


def test_an_admin_may_set_them_and_clearing_them_turns_them_off(accounts: Accounts) -> None:
    Membership.objects.filter(user=accounts.member).update(role=Membership.Role.ADMIN)
    client = client_for(accounts.member)
    assert client.post(url(accounts), {"cors_allowed_origins": "https://a.example"}).status_code == 302
    assert stored(accounts) == ["https://a.example"]
    assert client.post(url(accounts), {"cors_allowed_origins": ""}).status_code == 302
    assert stored(accounts) == []


@pytest.mark.parametrize(
    "value",
    ["*", "https://*.example.com", "example.com", "ftp://example.com", "https://example.com/path",
     "https://example.com?x=1", "https://user:pw@example.com", "https://example.com:99999", "https://exämple.com",
     "javascript:alert(1)", "null", "https://a.example\\evil.example", "https://a b.example",
     "https://" + "a" * 300 + ".com", "x" * 10_000,
     "\n".join(f"https://a{i}.example" for i in range(21))],
)  # fmt: skip
def test_what_is_not_an_origin_is_a_form_error(accounts: Accounts, value: str) -> None:
    response = client_for(accounts.owner).post(url(accounts), {"cors_allowed_origins": value})
    assert response.status_code == 400
    page = response.content.decode()
    assert "has-error" in page
    assert stored(accounts) == []


def test_a_member_cannot_set_them(accounts: Accounts) -> None:
    response = client_for(accounts.member).post(url(accounts), {"cors_allowed_origins": "https://a.example"})
    assert response.status_code == 403
    assert stored(accounts) == []


def test_outsider_gets_404(accounts: Accounts) -> None:
    assert_not_found_for(
        accounts.outsider, url(accounts), method="post", data={"cors_allowed_origins": "https://a.example"}
    )
    assert_not_found_for(accounts.outsider, f"/orgs/{accounts.org.pk}/limits/")
    assert stored(accounts) == []


def test_requires_login(accounts: Accounts) -> None:
    assert_login_required(url(accounts), method="post")


def test_get_goes_back_to_the_settings_page(accounts: Accounts) -> None:
    response = client_for(accounts.owner).get(url(accounts))
    assert (response.status_code, response["Location"]) == (302, f"/orgs/{accounts.org.pk}/limits/")


@pytest.mark.parametrize(
    ("text", "origin"),
    [("https://EXAMPLE.com", "https://example.com"), ("http://127.0.0.1:8000/", "http://127.0.0.1:8000"),
     ("http://[::1]:3000", "http://[::1]:3000"), ("http://example.com:80", "http://example.com")],
)  # fmt: skip
def test_origins_are_written_as_browsers_send_them(text: str, origin: str) -> None:
    assert parse_origin(text) == origin


def test_the_operators_list_from_the_environment_is_checked_at_start_up(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CORS_ALLOWED_ORIGINS", "https://a.example, http://localhost:3000")
    assert env_origins("CORS_ALLOWED_ORIGINS") == ["https://a.example", "http://localhost:3000"]
    monkeypatch.setenv("CORS_ALLOWED_ORIGINS", "https://a.example,*")
    with pytest.raises(ConfigError, match="CORS_ALLOWED_ORIGINS"):
        env_origins("CORS_ALLOWED_ORIGINS")
    monkeypatch.delenv("CORS_ALLOWED_ORIGINS")
    assert env_origins("CORS_ALLOWED_ORIGINS") == []

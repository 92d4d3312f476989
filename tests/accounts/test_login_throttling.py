"""Login throttling per account (across addresses) and per address (across accounts), on the site
and in Django admin; X-Forwarded-For counts only when it comes from a trusted proxy."""

from __future__ import annotations

import ipaddress
import secrets
from collections.abc import Iterator
from typing import Any

import pytest

from django.test import Client, RequestFactory

from accounts.models import User
from accounts.throttle import LOGIN_FAILURES_PER_ACCOUNT, client_ip
from tests.accounts.helpers import client_for

PASSWORD = "a-password-for-throttling-9"


@pytest.fixture
def email(db: None) -> Iterator[str]:
    """Its own address: account-wide counters live in the shared Redis, as other tests' do."""
    address = f"target-{secrets.token_hex(6)}@example.org"
    User.objects.create_user(address, PASSWORD)
    yield address
    LOGIN_FAILURES_PER_ACCOUNT.reset(address)


def _fail(client: Client, email: str, url: str = "/login/") -> None:
    client.post(url, {"username": email, "password": "wrong"})


def _throttled(response: Any) -> bool:
    return b"Too many failed attempts" in response.content


def test_guessing_one_account_from_many_addresses_is_stopped(email: str) -> None:
    for _ in range(20):
        _fail(client_for(), email)  # a fresh address each time
    response = client_for().post("/login/", {"username": email, "password": PASSWORD})
    assert response.status_code == 200 and _throttled(response)


def test_guessing_many_accounts_from_one_address_is_stopped(email: str) -> None:
    client = client_for()
    for n in range(50):
        _fail(client, f"someone{n}@example.org")
    response = client.post("/login/", {"username": email, "password": PASSWORD})
    assert response.status_code == 200 and _throttled(response)
    other = client_for().post("/login/", {"username": email, "password": PASSWORD})
    assert other.status_code == 302  # the account itself was not the target


def test_the_admin_login_is_throttled_like_the_sites(db: None) -> None:
    root = f"root-{secrets.token_hex(6)}@example.org"
    User.objects.create_superuser(root, "root-password-123")
    client = client_for()
    for _ in range(5):
        _fail(client, root, "/admin/login/")
    right = {"username": root, "password": "root-password-123"}
    response = client.post("/admin/login/", right)
    assert response.status_code == 200 and _throttled(response)
    assert "_auth_user_id" not in client.session
    assert client_for().post("/admin/login/", right).status_code == 302


def _request(remote: str, forwarded: str | None = None) -> Any:
    extra = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
    return RequestFactory().get("/", REMOTE_ADDR=remote, **extra)


def test_x_forwarded_for_is_ignored_without_trusted_proxies(settings: Any) -> None:
    settings.TRUSTED_PROXIES = ()
    assert client_ip(_request("203.0.113.9", "198.51.100.1")) == "203.0.113.9"


def test_behind_a_trusted_proxy_the_rightmost_untrusted_address_counts(settings: Any) -> None:
    settings.TRUSTED_PROXIES = (ipaddress.ip_network("10.0.0.0/8"),)
    # The client wrote the first entry itself; our proxies appended the rest.
    assert client_ip(_request("10.0.0.2", "1.2.3.4, 198.51.100.7, 10.0.0.5")) == "198.51.100.7"
    assert client_ip(_request("10.0.0.2", "")) == "10.0.0.2"
    assert client_ip(_request("203.0.113.9", "198.51.100.7")) == "203.0.113.9"  # not from a proxy


def test_behind_a_trusted_proxy_each_client_is_throttled_on_its_own(email: str, settings: Any) -> None:
    settings.TRUSTED_PROXIES = (ipaddress.ip_network("10.0.0.0/8"),)
    n = secrets.randbelow(250) + 1
    attacker = Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=f"198.51.{n}.66")
    for _ in range(5):
        _fail(attacker, email)
    victim = Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=f"198.51.{n}.77")
    response = victim.post("/login/", {"username": email, "password": PASSWORD})
    assert response.status_code == 302

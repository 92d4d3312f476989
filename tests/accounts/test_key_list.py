from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from accounts.services import create_api_key
from tests.accounts.helpers import assert_login_required, assert_not_found_for, client_for
from tests.conftest import Accounts


def url(accounts: Accounts) -> str:
    return f"/orgs/{accounts.org.pk}/keys/"


def test_lists_keys_with_their_status(accounts: Accounts) -> None:
    now = timezone.now()
    create_api_key(organization=accounts.org, name="live", created_by=accounts.owner)
    revoked = create_api_key(organization=accounts.org, name="gone", created_by=accounts.member).api_key
    revoked.revoked_at = now
    revoked.save()
    create_api_key(organization=accounts.org, name="old", expires_at=now - timedelta(days=1))
    response = client_for(accounts.owner).get(url(accounts))
    assert response.status_code == 200
    page = response.content.decode()
    for text in (
        "live",
        "gone",
        "old",
        "status-active",
        "status-revoked",
        "status-expired",
        "owner@example.org",
        "member@example.org",
        revoked.prefix,
    ):
        assert text in page


def test_members_see_the_list_but_manage_only_their_own_keys(accounts: Accounts) -> None:
    own = create_api_key(organization=accounts.org, name="own", created_by=accounts.member).api_key
    other = create_api_key(organization=accounts.org, name="other", created_by=accounts.owner).api_key
    page = client_for(accounts.member).get(url(accounts)).content.decode()
    assert f"/keys/{own.pk}/revoke/" in page
    assert f"/keys/{other.pk}/revoke/" not in page


def test_the_key_itself_is_never_listed(verified: Accounts) -> None:
    client = client_for(verified.owner)
    created = client.post(f"/orgs/{verified.org.pk}/keys/new/", {"name": "ci"})
    assert created.status_code == 200
    page = client.get(url(verified)).content.decode()
    assert "ci" in page
    assert "sk-gw-" in page  # the prefix is shown...
    secret = created.content.decode().split('id="api-key"')[1].split('value="')[1].split('"')[0]
    assert secret.startswith("sk-gw-")
    assert secret not in page  # ...the key is not


def test_other_organisations_keys_are_not_listed(accounts: Accounts) -> None:
    create_api_key(organization=accounts.other_org, name="outsiders-key")
    assert b"outsiders-key" not in client_for(accounts.owner).get(url(accounts)).content


def test_requires_login(accounts: Accounts) -> None:
    assert_login_required(url(accounts))


def test_outsider_gets_404(accounts: Accounts) -> None:
    create_api_key(organization=accounts.org, name="secret-name")
    response = assert_not_found_for(accounts.outsider, url(accounts))
    assert b"secret-name" not in response.content

"""The management scope on API keys, as the key pages offer it."""

from __future__ import annotations

from accounts.models import ApiKey, Membership
from accounts.services import create_api_key, rotate_api_key
from tests.accounts.helpers import client_for
from tests.conftest import Accounts


def url(accounts: Accounts) -> str:
    return f"/orgs/{accounts.org.pk}/keys/new/"


def test_an_owner_creates_a_management_key(verified: Accounts) -> None:
    client = client_for(verified.owner)
    assert b'name="management"' in client.get(url(verified)).content
    assert client.post(url(verified), {"name": "ops", "management": "on"}).status_code == 200
    key = ApiKey.objects.get(name="ops")
    assert key.scopes == ["management"] and key.has_management_scope
    assert b"management</span>" in client.get(f"/orgs/{verified.org.pk}/keys/").content


def test_keys_have_no_scope_by_default(verified: Accounts) -> None:
    client_for(verified.owner).post(url(verified), {"name": "plain"})
    assert ApiKey.objects.get(name="plain").scopes == []


def test_a_member_is_not_offered_the_scope_and_cannot_force_it(verified: Accounts) -> None:
    client = client_for(verified.member)
    assert b'name="management"' not in client.get(url(verified)).content
    assert client.post(url(verified), {"name": "sneaky", "management": "on"}).status_code == 200
    assert ApiKey.objects.get(name="sneaky").scopes == []


def test_an_admin_may_grant_it(verified: Accounts) -> None:
    Membership.objects.filter(user=verified.member).update(role=Membership.Role.ADMIN)
    client_for(verified.member).post(url(verified), {"name": "adm", "management": "on"})
    assert ApiKey.objects.get(name="adm").scopes == ["management"]


def test_rotation_keeps_the_scopes(verified: Accounts) -> None:
    old = create_api_key(organization=verified.org, name="ops", scopes=["management"]).api_key
    assert rotate_api_key(api_key=old, rotated_by=verified.owner).api_key.scopes == ["management"]

"""Management API authentication: session (with CSRF), or a gateway key with the management scope."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import ApiKey, Membership
from accounts.services import create_api_key, revoke_api_key
from tests.accounts.factories import make_credential, make_management_key
from tests.accounts.helpers import client_for
from tests.api.helpers import assert_unauthenticated, key_client, post_json, session_client
from tests.conftest import Accounts


def keys_url(accounts: Accounts) -> str:
    return f"/api/orgs/{accounts.org.pk}/keys/"


def test_no_credentials_is_401(accounts: Accounts) -> None:
    assert_unauthenticated(keys_url(accounts))
    assert_unauthenticated(keys_url(accounts), method="post")


def test_session_works(accounts: Accounts) -> None:
    response = session_client(accounts.owner).get(keys_url(accounts))
    assert response.status_code == 200
    assert response.json() == []


def test_session_writes_need_the_csrf_token(verified: Accounts) -> None:
    client = session_client(verified.owner, enforce_csrf_checks=True)
    response = post_json(client, keys_url(verified), {"name": "no-token"})
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
    assert not ApiKey.objects.filter(name="no-token").exists()
    client.get(f"/orgs/{verified.org.pk}/keys/new/")  # any page sets the cookie
    token = client.cookies["csrftoken"].value
    assert post_json(client, keys_url(verified), {"name": "with-token"}, HTTP_X_CSRFTOKEN=token).status_code == 201


def test_a_management_key_works_without_csrf(verified: Accounts) -> None:
    _, plaintext = make_management_key(verified.org, verified.owner)
    client = client_for(enforce_csrf_checks=True, HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    assert client.get(keys_url(verified)).status_code == 200
    assert post_json(client, keys_url(verified), {"name": "made-by-key"}).status_code == 201
    assert ApiKey.objects.get(name="made-by-key").created_by == verified.owner


def test_a_command_line_management_key_acts_as_an_admin_of_its_org(accounts: Accounts) -> None:
    _, plaintext = make_management_key(accounts.org, None)
    client = key_client(plaintext)
    response = post_json(client, f"/api/orgs/{accounts.org.pk}/providers/",
                         {"provider": "openai-main", "secret": "a-provider-secret-123"})  # fmt: skip
    assert response.status_code == 201
    assert response.json()["created_by"] is None


def test_a_key_without_the_management_scope_is_403(accounts: Accounts) -> None:
    plaintext = create_api_key(organization=accounts.org, name="plain", created_by=accounts.owner).plaintext
    response = key_client(plaintext).get(keys_url(accounts))
    assert response.status_code == 403
    assert "management scope" in response.json()["detail"]


@pytest.mark.parametrize("state", ["revoked", "expired"])
def test_revoked_and_expired_keys_are_401(accounts: Accounts, state: str) -> None:
    key, plaintext = make_management_key(accounts.org, accounts.owner)
    if state == "revoked":
        revoke_api_key(api_key=key)
    else:
        ApiKey.objects.filter(pk=key.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = key_client(plaintext).get(keys_url(accounts))
    assert response.status_code == 401
    assert "revoked or expired" in response.json()["detail"]


@pytest.mark.parametrize(
    "header",
    ["Bearer", "Bearer a b", "Bearer not-a-gateway-key", "Bearer sk-gw-00000000-unknown", "Bearer " + "x" * 300],
)
def test_bad_bearer_tokens_are_401(accounts: Accounts, header: str) -> None:
    response = client_for(HTTP_AUTHORIZATION=header).get(keys_url(accounts))
    assert response.status_code == 401
    assert response.json()["detail"]


def test_non_ascii_bearer_token_is_401(accounts: Accounts) -> None:
    response = client_for(HTTP_AUTHORIZATION="Bearer sk-gw-é".encode().decode("latin-1")).get(keys_url(accounts))
    assert response.status_code == 401


def test_a_key_only_opens_its_own_organisation(accounts: Accounts) -> None:
    # The key's creator is a member of both organisations: the key still only opens its own.
    Membership.objects.create(organization=accounts.other_org, user=accounts.owner, role=Membership.Role.OWNER)
    _, plaintext = make_management_key(accounts.org, accounts.owner)
    make_credential(accounts.other_org, provider="theirs")
    response = key_client(plaintext).get(f"/api/orgs/{accounts.other_org.pk}/providers/")
    assert response.status_code == 404
    assert b"theirs" not in response.content


def test_a_key_acts_with_its_creators_current_role(accounts: Accounts) -> None:
    Membership.objects.filter(user=accounts.member).update(role=Membership.Role.ADMIN)
    _, plaintext = make_management_key(accounts.org, accounts.member)
    url = f"/api/orgs/{accounts.org.pk}/providers/"
    data = {"provider": "openai-main", "secret": "a-provider-secret-123"}
    assert post_json(key_client(plaintext), url, data).status_code == 201
    Membership.objects.filter(user=accounts.member).update(role=Membership.Role.MEMBER)  # demoted
    assert post_json(key_client(plaintext), url, data).status_code == 403


def test_a_removed_creators_key_is_refused(accounts: Accounts) -> None:
    from accounts.services import remove_member

    _, plaintext = make_management_key(accounts.org, accounts.member)
    remove_member(membership=Membership.objects.get(user=accounts.member, organization=accounts.org))
    assert key_client(plaintext).get(keys_url(accounts)).status_code == 401  # their keys were revoked

"""Management API: /api/orgs/<id>/keys/ (list, create) and /keys/<id>/revoke/."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from accounts.models import ApiKey, Membership
from accounts.services import create_api_key
from accounts.tokens import hash_key
from tests.accounts.helpers import assert_not_in_logs, capturing_all_logs
from tests.api.helpers import assert_api_not_found_for, assert_unauthenticated, post_json, session_client
from tests.conftest import Accounts

KEY_RE = re.compile(r"sk-gw-[0-9a-f]{8}-[A-Za-z0-9_-]{20,}")


def url(accounts: Accounts) -> str:
    return f"/api/orgs/{accounts.org.pk}/keys/"


def revoke_url(key: ApiKey) -> str:
    return f"/api/orgs/{key.organization_id}/keys/{key.pk}/revoke/"


def test_owner_lists_keys_without_secrets(accounts: Accounts) -> None:
    created = create_api_key(organization=accounts.org, name="ci", created_by=accounts.member)
    create_api_key(organization=accounts.other_org, name="theirs")
    response = session_client(accounts.owner).get(url(accounts))
    assert response.status_code == 200
    [item] = response.json()
    assert item["name"] == "ci" and item["prefix"] == created.api_key.prefix
    assert item["status"] == "active" and item["created_by"] == "member@example.org"
    assert "key" not in item and "hashed" not in item
    assert (
        created.plaintext not in response.content.decode() and created.api_key.hashed not in response.content.decode()
    )


def test_a_member_lists_keys(accounts: Accounts) -> None:
    assert session_client(accounts.member).get(url(accounts)).status_code == 200


def test_create_returns_the_key_once(verified: Accounts) -> None:
    expires = (timezone.now() + timedelta(days=3)).isoformat()
    data = {"name": "deploy", "expires_at": expires, "allowed_models": [" chat ", "chat", "fast"], "scopes": []}
    response = post_json(session_client(verified.owner), url(verified), data)
    assert response.status_code == 201, response.content
    body = response.json()
    assert KEY_RE.fullmatch(body["key"])
    assert response["Cache-Control"] == "no-store"
    key = ApiKey.objects.get(name="deploy")
    assert key.hashed == hash_key(body["key"]) and key.created_by == verified.owner
    assert key.allowed_models == ["chat", "fast"] and key.expires_at is not None
    assert body["key"] not in session_client(verified.owner).get(url(verified)).content.decode()


def test_an_owner_creates_a_management_key(verified: Accounts) -> None:
    response = post_json(session_client(verified.owner), url(verified), {"name": "ops", "scopes": ["management"]})
    assert response.status_code == 201
    assert ApiKey.objects.get(name="ops").scopes == ["management"]


def test_a_member_creates_a_key_but_not_a_management_one(verified: Accounts) -> None:
    client = session_client(verified.member)
    assert post_json(client, url(verified), {"name": "mine"}).status_code == 201
    response = post_json(client, url(verified), {"name": "ops", "scopes": ["management"]})
    assert response.status_code == 400
    assert "owners and admins" in response.json()["scopes"][0]
    assert not ApiKey.objects.filter(name="ops").exists()


def test_unverified_users_cannot_create_keys(accounts: Accounts) -> None:
    response = post_json(session_client(accounts.owner), url(accounts), {"name": "early"})
    assert response.status_code == 403
    assert "Verify your email" in response.json()["detail"]
    assert not ApiKey.objects.exists()


def test_duplicate_name_is_400(verified: Accounts) -> None:
    client = session_client(verified.owner)
    post_json(client, url(verified), {"name": "ci"})
    response = post_json(client, url(verified), {"name": "ci"})
    assert response.status_code == 400
    assert "already exists" in response.json()["name"][0]
    assert ApiKey.objects.filter(name="ci").count() == 1


def test_name_taken_in_a_race_is_400(verified: Accounts, monkeypatch: pytest.MonkeyPatch) -> None:
    from accounts.api import ApiKeyCreateSerializer

    client = session_client(verified.owner)
    post_json(client, url(verified), {"name": "ci"})
    monkeypatch.setattr(ApiKeyCreateSerializer, "validate_name", lambda self, name: name)
    response = post_json(client, url(verified), {"name": "ci"})
    assert response.status_code == 400
    assert "already exists" in response.json()["name"][0]
    assert ApiKey.objects.count() == 1


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": 12}, None),
        ({"name": ["a"]}, "name"),
        ({"name": "nul\x00"}, "name"),
        ({"name": "ok", "expires_at": "not-a-time"}, "expires_at"),
        ({"name": "ok", "expires_at": "2001-01-01T00:00:00Z"}, "expires_at"),
        ({"name": "ok", "allowed_models": "chat"}, "allowed_models"),
        ({"name": "ok", "allowed_models": [f"m{i}" for i in range(51)]}, "allowed_models"),
        ({"name": "ok", "allowed_models": ["x" * 201]}, "allowed_models"),
        ({"name": "ok", "scopes": ["root"]}, "scopes"),
        ({"name": "ok", "scopes": "management"}, "scopes"),
    ],
)
def test_bad_input_is_400_and_nothing_is_created(verified: Accounts, data: dict[str, Any], field: str | None) -> None:
    response = post_json(session_client(verified.owner), url(verified), data)
    if field is None:  # a number is accepted as a name, as text
        assert response.status_code == 201
        return
    assert response.status_code == 400
    assert field in response.json()
    assert not ApiKey.objects.exists()


def test_not_json_is_400(verified: Accounts) -> None:
    response = session_client(verified.owner).post(url(verified), "{not json", content_type="application/json")
    assert response.status_code == 400
    assert not ApiKey.objects.exists()


def test_requires_authentication(accounts: Accounts) -> None:
    assert_unauthenticated(url(accounts))
    assert_unauthenticated(url(accounts), method="post")


def test_outsider_gets_404_and_nothing_is_created(verified: Accounts) -> None:
    create_api_key(organization=verified.org, name="ours")
    response = assert_api_not_found_for(verified.outsider, url(verified))
    assert b"ours" not in response.content
    assert_api_not_found_for(verified.outsider, url(verified), method="post", data={"name": "sneaky"})
    assert not ApiKey.objects.filter(name="sneaky").exists()


def test_unknown_and_huge_org_ids_are_404(accounts: Accounts) -> None:
    client = session_client(accounts.owner)
    assert client.get("/api/orgs/999999999/keys/").status_code == 404
    assert client.get(f"/api/orgs/{10**30}/keys/").status_code == 404


def test_the_key_is_never_logged(verified: Accounts, caplog: pytest.LogCaptureFixture) -> None:
    with capturing_all_logs(caplog):
        response = post_json(session_client(verified.owner), url(verified), {"name": "ci"})
    plaintext = response.json()["key"]
    assert ApiKey.objects.get().hashed in caplog.text
    assert_not_in_logs(caplog, plaintext[len("sk-gw-12345678-") :])


# Revoke


def test_owner_revokes_any_key(accounts: Accounts) -> None:
    key = create_api_key(organization=accounts.org, name="ci", created_by=accounts.member).api_key
    response = session_client(accounts.owner).post(revoke_url(key))
    assert response.status_code == 200
    assert response.json()["status"] == "revoked"
    key.refresh_from_db()
    assert key.revoked_at is not None


def test_revoking_twice_keeps_the_first_time(accounts: Accounts) -> None:
    key = create_api_key(organization=accounts.org, name="ci").api_key
    client = session_client(accounts.owner)
    first = client.post(revoke_url(key)).json()["revoked_at"]
    assert client.post(revoke_url(key)).json()["revoked_at"] == first


def test_a_member_revokes_their_own_key_only(accounts: Accounts) -> None:
    mine = create_api_key(organization=accounts.org, name="mine", created_by=accounts.member).api_key
    theirs = create_api_key(organization=accounts.org, name="theirs", created_by=accounts.owner).api_key
    client = session_client(accounts.member)
    assert client.post(revoke_url(mine)).status_code == 200
    assert client.post(revoke_url(theirs)).status_code == 403
    theirs.refresh_from_db()
    assert theirs.revoked_at is None


def test_an_admin_revokes_any_key(accounts: Accounts) -> None:
    Membership.objects.filter(user=accounts.member).update(role=Membership.Role.ADMIN)
    key = create_api_key(organization=accounts.org, name="ci", created_by=accounts.owner).api_key
    assert session_client(accounts.member).post(revoke_url(key)).status_code == 200


def test_revoke_requires_authentication(accounts: Accounts) -> None:
    key = create_api_key(organization=accounts.org, name="ci").api_key
    assert_unauthenticated(revoke_url(key), method="post")
    key.refresh_from_db()
    assert key.revoked_at is None


def test_revoke_by_an_outsider_is_404(accounts: Accounts) -> None:
    key = create_api_key(organization=accounts.org, name="ci").api_key
    assert_api_not_found_for(accounts.outsider, revoke_url(key), method="post")
    key.refresh_from_db()
    assert key.revoked_at is None


def test_a_key_of_another_org_is_404_even_under_your_own_org(accounts: Accounts) -> None:
    foreign = create_api_key(organization=accounts.other_org, name="theirs").api_key
    response = session_client(accounts.owner).post(f"/api/orgs/{accounts.org.pk}/keys/{foreign.pk}/revoke/")
    assert response.status_code == 404
    foreign.refresh_from_db()
    assert foreign.revoked_at is None


def test_revoke_with_get_is_405(accounts: Accounts) -> None:
    key = create_api_key(organization=accounts.org, name="ci").api_key
    assert session_client(accounts.owner).get(revoke_url(key)).status_code == 405

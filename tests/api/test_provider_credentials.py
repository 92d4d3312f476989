"""Management API: /api/orgs/<id>/providers/ (list, create or replace) and /providers/<id>/ (delete)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from accounts import crypto
from accounts.models import Membership, ProviderCredential
from tests.accounts.factories import PROVIDER_SECRET, make_credential, write_gateway_config
from tests.accounts.helpers import assert_not_in_logs, capturing_all_logs
from tests.api.helpers import assert_api_not_found_for, assert_unauthenticated, post_json, session_client
from tests.conftest import Accounts


def url(accounts: Accounts) -> str:
    return f"/api/orgs/{accounts.org.pk}/providers/"


def item_url(credential: ProviderCredential) -> str:
    return f"/api/orgs/{credential.organization_id}/providers/{credential.pk}/"


def test_list_shows_last_four_only(accounts: Accounts) -> None:
    make_credential(accounts.org, by=accounts.owner)
    make_credential(accounts.other_org, provider="theirs")
    response = session_client(accounts.member).get(url(accounts))
    assert response.status_code == 200
    [item] = response.json()
    assert item["provider"] == "openai-main" and item["last4"] == PROVIDER_SECRET[-4:]
    assert item["test_status"] == "untested" and item["created_by"] == "owner@example.org"
    assert "secret" not in item and "ciphertext" not in item
    assert PROVIDER_SECRET not in response.content.decode()


def test_create_then_replace(accounts: Accounts) -> None:
    client = session_client(accounts.owner)
    response = post_json(client, url(accounts), {"provider": "openai-main", "secret": "first-secret-1111"})
    assert response.status_code == 201
    assert response.json()["last4"] == "1111" and "secret" not in response.json()
    response = post_json(client, url(accounts), {"provider": "openai-main", "secret": PROVIDER_SECRET})
    assert response.status_code == 200
    assert PROVIDER_SECRET not in response.content.decode()
    raw = ProviderCredential.objects.values_list("ciphertext", flat=True).get()
    assert raw is not None and PROVIDER_SECRET not in raw
    assert crypto.decrypt_secret(raw) == PROVIDER_SECRET


def test_readding_after_a_delete_is_a_create(accounts: Accounts) -> None:
    client = session_client(accounts.owner)
    credential = make_credential(accounts.org)
    assert client.delete(item_url(credential)).status_code == 204
    response = post_json(client, url(accounts), {"provider": "openai-main", "secret": PROVIDER_SECRET})
    assert response.status_code == 201
    assert response.json()["id"] == credential.pk


def test_a_member_cannot_write(accounts: Accounts) -> None:
    credential = make_credential(accounts.org)
    client = session_client(accounts.member)
    response = post_json(client, url(accounts), {"provider": "claude", "secret": PROVIDER_SECRET})
    assert response.status_code == 403
    assert "owners and admins" in response.json()["detail"]
    assert client.delete(item_url(credential)).status_code == 403
    assert ProviderCredential.objects.filter(ciphertext__isnull=False).count() == 1


def test_an_admin_writes(accounts: Accounts) -> None:
    Membership.objects.filter(user=accounts.member).update(role=Membership.Role.ADMIN)
    response = post_json(session_client(accounts.member), url(accounts), {"provider": "x1", "secret": PROVIDER_SECRET})
    assert response.status_code == 201


def test_delete(accounts: Accounts) -> None:
    credential = make_credential(accounts.org)
    client = session_client(accounts.owner)
    assert client.delete(item_url(credential)).status_code == 204
    credential.refresh_from_db()
    assert credential.ciphertext is None
    assert client.delete(item_url(credential)).status_code == 404
    assert client.get(url(accounts)).json() == []


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({}, "provider"),
        ({"provider": "openai-main"}, "secret"),
        ({"provider": "openai-main", "secret": "short"}, "secret"),
        ({"provider": "openai-main", "secret": "   " + "x" * 5 + "   "}, "secret"),
        ({"provider": "openai-main", "secret": "x" * 10_001}, "secret"),
        ({"provider": "openai-main", "secret": 123456789012345}, None),
        ({"provider": "openai-main", "secret": ["a" * 20]}, "secret"),
        ({"provider": "openai-main", "secret": "nul\x00" + "x" * 20}, "secret"),
        ({"provider": "", "secret": PROVIDER_SECRET}, "provider"),
        ({"provider": "p" * 101, "secret": PROVIDER_SECRET}, "provider"),
        ({"provider": "a/b", "secret": PROVIDER_SECRET}, "provider"),
        ({"provider": "bad\x00", "secret": PROVIDER_SECRET}, "provider"),
        ({"provider": {"x": 1}, "secret": PROVIDER_SECRET}, "provider"),
    ],
)
def test_bad_input_is_400_and_nothing_is_created(accounts: Accounts, data: dict[str, Any], field: str | None) -> None:
    response = post_json(session_client(accounts.owner), url(accounts), data)
    if field is None:  # a number is taken as its text
        assert response.status_code == 201
        return
    assert response.status_code == 400
    assert field in response.json()
    assert not ProviderCredential.objects.exists()
    assert PROVIDER_SECRET not in response.content.decode()


def test_providers_are_checked_against_the_gateway_config(accounts: Accounts, settings: object, tmp_path: Path) -> None:
    settings.GATEWAY_CONFIG = str(write_gateway_config(tmp_path))  # type: ignore[attr-defined]
    response = post_json(session_client(accounts.owner), url(accounts), {"provider": "nope", "secret": PROVIDER_SECRET})
    assert response.status_code == 400
    assert "claude" in response.json()["provider"][0]


def test_requires_authentication(accounts: Accounts) -> None:
    credential = make_credential(accounts.org)
    assert_unauthenticated(url(accounts))
    assert_unauthenticated(url(accounts), method="post")
    assert_unauthenticated(item_url(credential), method="delete")
    credential.refresh_from_db()
    assert credential.is_active


def test_outsider_gets_404(accounts: Accounts) -> None:
    credential = make_credential(accounts.org)
    response = assert_api_not_found_for(accounts.outsider, url(accounts))
    assert b"openai-main" not in response.content
    assert_api_not_found_for(accounts.outsider, url(accounts), method="post",
                             data={"provider": "evil", "secret": PROVIDER_SECRET})  # fmt: skip
    assert_api_not_found_for(accounts.outsider, item_url(credential), method="delete")
    credential.refresh_from_db()
    assert credential.is_active
    assert not ProviderCredential.objects.filter(provider="evil").exists()


def test_a_credential_of_another_org_is_404_even_under_your_own_org(accounts: Accounts) -> None:
    foreign = make_credential(accounts.other_org)
    response = session_client(accounts.owner).delete(f"/api/orgs/{accounts.org.pk}/providers/{foreign.pk}/")
    assert response.status_code == 404
    foreign.refresh_from_db()
    assert foreign.is_active


def test_the_secret_is_never_logged(accounts: Accounts, caplog: pytest.LogCaptureFixture) -> None:
    client = session_client(accounts.owner)
    with capturing_all_logs(caplog):
        post_json(client, url(accounts), {"provider": "openai-main", "secret": PROVIDER_SECRET})
        post_json(client, url(accounts), {"provider": "a/b", "secret": PROVIDER_SECRET})  # an error path too
        client.get(url(accounts))
    assert_not_in_logs(caplog, PROVIDER_SECRET)

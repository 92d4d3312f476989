from __future__ import annotations

from pathlib import Path

import pytest

from accounts import crypto
from accounts.models import Membership, ProviderCredential
from tests.accounts.factories import PROVIDER_SECRET, make_credential, write_gateway_config
from tests.accounts.helpers import (
    assert_login_required,
    assert_not_found_for,
    assert_not_in_logs,
    capturing_all_logs,
    client_for,
)
from tests.conftest import Accounts


def url(accounts: Accounts) -> str:
    return f"/orgs/{accounts.org.pk}/providers/new/"


def test_the_form_renders_for_the_owner(accounts: Accounts) -> None:
    response = client_for(accounts.owner).get(url(accounts))
    assert response.status_code == 200
    assert b'name="secret"' in response.content and b'type="password"' in response.content
    assert "no-store" in response["Cache-Control"]


def test_owner_adds_a_key_stored_encrypted(accounts: Accounts) -> None:
    response = client_for(accounts.owner).post(url(accounts), {"provider": "openai-main", "secret": PROVIDER_SECRET})
    assert response.status_code == 302
    assert response["Location"] == f"/orgs/{accounts.org.pk}/providers/"
    credential = ProviderCredential.objects.get()
    assert (credential.organization, credential.provider, credential.created_by) == (
        accounts.org,
        "openai-main",
        accounts.owner,
    )
    assert credential.last4 == PROVIDER_SECRET[-4:]
    # The column holds a Fernet token, not the key.
    raw = ProviderCredential.objects.values_list("ciphertext", flat=True).get()
    assert raw is not None and PROVIDER_SECRET not in raw and raw.startswith("gAAAAA")
    assert crypto.decrypt_secret(raw) == PROVIDER_SECRET


def test_a_second_key_for_the_same_provider_replaces_the_first(accounts: Accounts) -> None:
    first = make_credential(accounts.org, secret="first-secret-aaaa")
    ProviderCredential.objects.filter(pk=first.pk).update(last_test_ok=True)
    response = client_for(accounts.owner).post(url(accounts), {"provider": "openai-main", "secret": PROVIDER_SECRET})
    assert response.status_code == 302
    credential = ProviderCredential.objects.get()
    assert credential.pk == first.pk and credential.last4 == PROVIDER_SECRET[-4:]
    assert credential.last_test_ok is None  # a new key is untested
    assert credential.updated_at > first.updated_at  # the proxy polls on this
    assert credential.ciphertext is not None and crypto.decrypt_secret(credential.ciphertext) == PROVIDER_SECRET


def test_an_admin_adds_a_key(accounts: Accounts) -> None:
    Membership.objects.filter(user=accounts.member).update(role=Membership.Role.ADMIN)
    response = client_for(accounts.member).post(url(accounts), {"provider": "openai-main", "secret": PROVIDER_SECRET})
    assert response.status_code == 302
    assert ProviderCredential.objects.filter(created_by=accounts.member).exists()


def test_a_member_cannot_add_keys(accounts: Accounts) -> None:
    client = client_for(accounts.member)
    assert client.get(url(accounts)).status_code == 403
    assert client.post(url(accounts), {"provider": "openai-main", "secret": PROVIDER_SECRET}).status_code == 403
    assert not ProviderCredential.objects.exists()


def test_requires_login(accounts: Accounts) -> None:
    assert_login_required(url(accounts))
    assert_login_required(url(accounts), method="post")
    assert not ProviderCredential.objects.exists()


def test_outsider_gets_404_and_nothing_is_created(accounts: Accounts) -> None:
    assert_not_found_for(accounts.outsider, url(accounts))
    assert_not_found_for(
        accounts.outsider, url(accounts), method="post", data={"provider": "openai-main", "secret": PROVIDER_SECRET}
    )
    assert not ProviderCredential.objects.exists()


def test_csrf_is_enforced(accounts: Accounts) -> None:
    client = client_for(accounts.owner, enforce_csrf_checks=True)
    data = {"provider": "openai-main", "secret": PROVIDER_SECRET}
    assert client.post(url(accounts), data).status_code == 403
    assert not ProviderCredential.objects.exists()
    client.get(url(accounts))
    assert (
        client.post(url(accounts), {**data, "csrfmiddlewaretoken": client.cookies["csrftoken"].value}).status_code
        == 302
    )


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({}, "provider"),
        ({"provider": "openai-main"}, "secret"),
        ({"provider": "openai-main", "secret": "   "}, "secret"),
        ({"provider": "openai-main", "secret": "short-key"}, "secret"),
        ({"provider": "openai-main", "secret": "x" * 10_001}, "secret"),
        ({"provider": "openai-main", "secret": "nul\x00" + "x" * 20}, "secret"),
        ({"provider": "p" * 101, "secret": PROVIDER_SECRET}, "provider"),
        ({"provider": "has/slash", "secret": PROVIDER_SECRET}, "provider"),
        ({"provider": "bad\x00name", "secret": PROVIDER_SECRET}, "provider"),
    ],
)
def test_bad_input_is_a_field_error(accounts: Accounts, data: dict[str, str], field: str) -> None:
    response = client_for(accounts.owner).post(url(accounts), data)
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert not ProviderCredential.objects.exists()


def test_the_secret_is_not_echoed_back_after_an_error(accounts: Accounts) -> None:
    response = client_for(accounts.owner).post(url(accounts), {"provider": "has/slash", "secret": PROVIDER_SECRET})
    assert response.status_code == 400
    assert PROVIDER_SECRET.encode() not in response.content


def test_providers_are_checked_against_the_gateway_config(accounts: Accounts, settings: object, tmp_path: Path) -> None:
    settings.GATEWAY_CONFIG = str(write_gateway_config(tmp_path))  # type: ignore[attr-defined]
    client = client_for(accounts.owner)
    form_page = client.get(url(accounts)).content.decode()
    assert '<option value="claude">claude</option>' in form_page
    response = client.post(url(accounts), {"provider": "nowhere", "secret": PROVIDER_SECRET})
    assert response.status_code == 400
    assert "provider" in response.context["form"].errors
    assert client.post(url(accounts), {"provider": "claude", "secret": PROVIDER_SECRET}).status_code == 302
    assert ProviderCredential.objects.get().provider == "claude"


def test_the_secret_is_never_logged(accounts: Accounts, caplog: pytest.LogCaptureFixture) -> None:
    with capturing_all_logs(caplog):
        response = client_for(accounts.owner).post(
            url(accounts), {"provider": "openai-main", "secret": PROVIDER_SECRET}
        )
        client_for(accounts.owner).get(f"/orgs/{accounts.org.pk}/providers/")
    assert response.status_code == 302
    raw = ProviderCredential.objects.values_list("ciphertext", flat=True).get()
    assert raw is not None and raw in caplog.text  # the INSERT was captured: the ciphertext is there
    assert_not_in_logs(caplog, PROVIDER_SECRET)

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from accounts.models import ApiKey
from accounts.tokens import hash_key
from tests.accounts.helpers import (
    assert_login_required,
    assert_not_found_for,
    assert_not_in_logs,
    capturing_all_logs,
    client_for,
)
from tests.conftest import Accounts

KEY_RE = re.compile(r"sk-gw-[0-9a-f]{8}-[A-Za-z0-9_-]{20,}")


def url(accounts: Accounts) -> str:
    return f"/orgs/{accounts.org.pk}/keys/new/"


def test_the_form_renders_for_the_owner(verified: Accounts) -> None:
    response = client_for(verified.owner).get(url(verified))
    assert response.status_code == 200
    assert b'name="name"' in response.content


def test_creating_a_key_shows_it_once_with_snippets(verified: Accounts, settings: object) -> None:
    settings.SITE_URL = "https://gw.example.com"  # type: ignore[attr-defined]
    response = client_for(verified.owner).post(url(verified), {"name": "ci"})
    assert response.status_code == 200
    plaintext = KEY_RE.search(response.content.decode())
    assert plaintext is not None
    key = ApiKey.objects.get(organization=verified.org, name="ci")
    assert key.hashed == hash_key(plaintext.group())
    assert key.created_by == verified.owner
    page = response.content.decode()
    assert 'id="copy-key"' in page
    assert "curl https://gw.example.com/v1/chat/completions" in page
    assert 'base_url="https://gw.example.com/v1"' in page
    assert "no-store" in response["Cache-Control"]


def test_a_member_can_create_their_own_key(verified: Accounts) -> None:
    response = client_for(verified.member).post(url(verified), {"name": "mine"})
    assert response.status_code == 200
    assert ApiKey.objects.get(name="mine").created_by == verified.member


def test_expiry_and_allowed_models_are_stored(verified: Accounts) -> None:
    tomorrow = timezone.now().date() + timedelta(days=1)
    data = {"name": "limited", "expires_on": tomorrow.isoformat(), "allowed_models": " chat, backup ,chat,"}
    response = client_for(verified.owner).post(url(verified), data)
    assert response.status_code == 200
    key = ApiKey.objects.get(name="limited")
    assert key.allowed_models == ["chat", "backup"]
    assert key.expires_at is not None and key.expires_at.date() == tomorrow


def test_requires_login(verified: Accounts) -> None:
    assert_login_required(url(verified))
    assert_login_required(url(verified), method="post")
    assert not ApiKey.objects.exists()


def test_outsider_gets_404_and_nothing_is_created(verified: Accounts) -> None:
    assert_not_found_for(verified.outsider, url(verified))
    assert_not_found_for(verified.outsider, url(verified), method="post", data={"name": "sneaky"})
    assert not ApiKey.objects.exists()


def test_csrf_is_enforced(verified: Accounts) -> None:
    client = client_for(verified.owner, enforce_csrf_checks=True)
    assert client.post(url(verified), {"name": "no-token"}).status_code == 403
    assert not ApiKey.objects.exists()
    client.get(url(verified))
    token = client.cookies["csrftoken"].value
    assert client.post(url(verified), {"name": "with-token", "csrfmiddlewaretoken": token}).status_code == 200
    assert ApiKey.objects.filter(name="with-token").exists()


def test_duplicate_name_is_a_field_error(verified: Accounts) -> None:
    client = client_for(verified.owner)
    client.post(url(verified), {"name": "ci"})
    response = client.post(url(verified), {"name": "ci"})
    assert response.status_code == 400
    assert "already exists" in response.context["form"].errors["name"][0]
    assert ApiKey.objects.filter(name="ci").count() == 1
    assert not KEY_RE.search(response.content.decode())


def test_a_revoked_key_keeps_its_name(verified: Accounts) -> None:
    client = client_for(verified.owner)
    client.post(url(verified), {"name": "ci"})
    ApiKey.objects.update(revoked_at=timezone.now())
    response = client.post(url(verified), {"name": "ci"})
    assert response.status_code == 400
    assert "name" in response.context["form"].errors


def test_name_taken_in_a_race_is_a_field_error(verified: Accounts, monkeypatch: pytest.MonkeyPatch) -> None:
    from accounts.forms import ApiKeyForm

    client = client_for(verified.owner)
    client.post(url(verified), {"name": "ci"})
    # Simulate the other request committing between validation and insert.
    monkeypatch.setattr(ApiKeyForm, "clean_name", lambda self: self.cleaned_data["name"])
    response = client.post(url(verified), {"name": "ci"})
    assert response.status_code == 400
    assert "already exists" in response.context["form"].errors["name"][0]
    assert ApiKey.objects.count() == 1


@pytest.mark.parametrize("day", [0, -1])
def test_expiry_must_be_in_the_future(verified: Accounts, day: int) -> None:
    date = (timezone.now().date() + timedelta(days=day)).isoformat()
    response = client_for(verified.owner).post(url(verified), {"name": "old", "expires_on": date})
    assert response.status_code == 400
    assert "future" in response.context["form"].errors["expires_on"][0]
    assert not ApiKey.objects.exists()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "ok", "expires_on": "not-a-date"}, "expires_on"),
        ({"name": "ok", "allowed_models": ",".join(f"m{i}" for i in range(51))}, "allowed_models"),
        ({"name": "ok", "allowed_models": "x" * 201}, "allowed_models"),
    ],
)
def test_bad_input_is_a_field_error(verified: Accounts, data: dict[str, str], field: str) -> None:
    response = client_for(verified.owner).post(url(verified), data)
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert not ApiKey.objects.exists()


def test_models_are_checked_against_the_gateway_config(verified: Accounts, settings: object, tmp_path: Path) -> None:
    config = tmp_path / "gateway.yaml"
    config.write_text(
        "providers:\n  - {name: p, kind: openai, base_url: 'http://127.0.0.1:9/v1', api_key: x}\n"
        "models:\n  - name: chat\n    deployments: [{provider: p, model: chat}]\n"
    )
    settings.GATEWAY_CONFIG = str(config)  # type: ignore[attr-defined]
    client = client_for(verified.owner)
    response = client.post(url(verified), {"name": "bad", "allowed_models": "chat, nope"})
    assert response.status_code == 400
    assert "nope" in response.context["form"].errors["allowed_models"][0]
    assert client.post(url(verified), {"name": "good", "allowed_models": "chat"}).status_code == 200


def test_unverified_users_cannot_create_keys(accounts: Accounts) -> None:
    client = client_for(accounts.owner)
    assert b"Verify your email" in client.get(url(accounts)).content
    response = client.post(url(accounts), {"name": "early"})
    assert response.status_code == 403
    assert not ApiKey.objects.exists()


def test_the_key_is_never_logged(verified: Accounts, caplog: pytest.LogCaptureFixture) -> None:
    with capturing_all_logs(caplog):
        response = client_for(verified.owner).post(url(verified), {"name": "ci"})
    plaintext = KEY_RE.search(response.content.decode())
    assert plaintext is not None
    # The INSERT was captured with its parameters: the hash is there, the key is not.
    assert ApiKey.objects.get().hashed in caplog.text
    assert_not_in_logs(caplog, plaintext.group()[len("sk-gw-12345678-") :])


def test_per_key_limits_are_saved(verified: Accounts) -> None:
    response = client_for(verified.owner).post(
        url(verified), {"name": "limited-key", "rpm_limit": "30", "tpm_limit": "5000", "monthly_budget_usd": "12.00"}
    )
    assert response.status_code == 200
    key = ApiKey.objects.get(name="limited-key")
    assert (key.rpm_limit, key.tpm_limit, str(key.monthly_budget_usd)) == (30, 5000, "12.00")


@pytest.mark.parametrize("data", [{"rpm_limit": "-5"}, {"tpm_limit": "1.5"}, {"monthly_budget_usd": "-1"}])
def test_invalid_per_key_limits_are_field_errors(verified: Accounts, data: dict[str, str]) -> None:
    response = client_for(verified.owner).post(url(verified), {"name": "bad-limits", **data})
    assert response.status_code == 400
    assert set(data) <= set(response.context["form"].errors)
    assert not ApiKey.objects.filter(name="bad-limits").exists()

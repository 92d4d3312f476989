"""Gateway keys: Bearer auth from an in-process cache; revocation reaches the proxy in < 1 s."""

from __future__ import annotations

import time
from datetime import timedelta

import httpx
import openai
import pytest
from django.utils import timezone

from accounts.models import ApiKey
from accounts.services import create_api_key, create_organization, revoke_api_key
from tests.proxy.conftest import LiveGateway, hi


def _post(gw: LiveGateway, headers: dict[str, str]) -> httpx.Response:
    return httpx.post(f"{gw.url}/v1/chat/completions", json=hi(), headers=headers, timeout=10)


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({}, "missing_api_key"),
        ({"authorization": "Basic abc"}, "invalid_api_key"),
        ({"authorization": "Bearer"}, "invalid_api_key"),
        ({"authorization": "Bearer sk-gw-00000000-not-a-real-key"}, "invalid_api_key"),
    ],
)
def test_missing_malformed_or_unknown_key_is_refused_with_401(
    gw: LiveGateway, headers: dict[str, str], code: str
) -> None:
    response = _post(gw, headers)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == code
    assert gw.sim.attempts("sim-a") == 0


def test_the_presented_key_is_never_echoed_in_the_error(gw: LiveGateway) -> None:
    secret = "sk-gw-12345678-definitely-secret-value"
    response = _post(gw, {"authorization": f"Bearer {secret}"})
    assert secret not in response.text


@pytest.fixture
def fresh_key(transactional_db: None) -> tuple[ApiKey, str]:
    org = create_organization(name="Auth tests")
    created = create_api_key(organization=org, name="fresh")
    return created.api_key, created.plaintext


def test_a_new_key_works_at_once_and_a_revoked_one_is_refused_within_a_second(
    live_gateway: LiveGateway, fresh_key: tuple[ApiKey, str]
) -> None:
    api_key, plaintext = fresh_key
    client = openai.OpenAI(base_url=f"{live_gateway.url}/v1", api_key=plaintext, max_retries=0)
    assert client.chat.completions.create(**hi()).choices[0].message.content
    revoke_api_key(api_key=api_key)
    revoked_at = time.monotonic()
    while True:
        try:
            client.chat.completions.create(**hi())
        except openai.AuthenticationError as exc:
            assert exc.body["code"] == "revoked_api_key"  # type: ignore[index]
            break
        assert time.monotonic() - revoked_at < 1.0, "revocation took longer than a second"
        time.sleep(0.05)


def test_an_expired_key_is_refused(live_gateway: LiveGateway, transactional_db: None) -> None:
    org = create_organization(name="Expiry")
    created = create_api_key(organization=org, name="old", expires_at=timezone.now() - timedelta(seconds=1))
    response = httpx.post(
        f"{live_gateway.url}/v1/chat/completions",
        json=hi(),
        timeout=10,
        headers={"authorization": f"Bearer {created.plaintext}"},
    )
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "expired_api_key"


def test_a_key_limited_to_some_models_sees_and_uses_only_those(
    live_gateway: LiveGateway, transactional_db: None
) -> None:
    org = create_organization(name="Limited")
    created = create_api_key(organization=org, name="limited", allowed_models=["solo"])
    client = openai.OpenAI(base_url=f"{live_gateway.url}/v1", api_key=created.plaintext, max_retries=0)
    assert [m.id for m in client.models.list()] == ["solo"]
    with pytest.raises(openai.PermissionDeniedError):
        client.chat.completions.create(**hi("chat"))
    assert client.chat.completions.create(**hi("solo")).model == "solo"

"""An organisation's own provider key takes precedence for its requests; key use is recorded."""

from __future__ import annotations

import time

import httpx

from accounts.models import ApiKey
from accounts.services import create_api_key, create_organization
from providers.services import delete_provider_credential, set_provider_credential
from tests.proxy.conftest import LiveGateway, hi

OPERATOR_KEY = "Bearer sk-test-sim-a-secret0001"


def _post(gw: LiveGateway, key: str) -> httpx.Response:
    return httpx.post(
        f"{gw.url}/v1/chat/completions", json=hi(), timeout=10, headers={"authorization": f"Bearer {key}"}
    )


def _authorization_seen(gw: LiveGateway, key: str, expected: str, timeout: float = 3.0) -> str:
    """The upstream Authorization of a fresh request, once the proxy's cache shows ``expected``."""
    deadline = time.monotonic() + timeout
    while True:
        assert _post(gw, key).status_code == 200
        seen = str(gw.sim.last_request("sim-a")["headers"]["authorization"])
        if seen == expected or time.monotonic() > deadline:
            return seen
        time.sleep(0.1)


def test_the_organisations_own_key_is_used_for_its_requests_only(
    live_gateway: LiveGateway, transactional_db: None
) -> None:
    own = create_organization(name="Brings its own key")
    other = create_organization(name="Uses the operator's key")
    own_key = create_api_key(organization=own, name="k").plaintext
    other_key = create_api_key(organization=other, name="k").plaintext
    credential, _ = set_provider_credential(organization=own, provider="sim-a", secret="sk-org-own-secret-1234")

    assert (
        _authorization_seen(live_gateway, own_key, "Bearer sk-org-own-secret-1234") == "Bearer sk-org-own-secret-1234"
    )
    assert _authorization_seen(live_gateway, other_key, OPERATOR_KEY) == OPERATOR_KEY
    assert any(deployment.endswith(f"@org{own.pk}") for deployment in live_gateway.runtime.health.snapshot())

    delete_provider_credential(credential=credential)
    assert _authorization_seen(live_gateway, own_key, OPERATOR_KEY) == OPERATOR_KEY


def test_key_use_is_recorded_in_batches(live_gateway: LiveGateway, transactional_db: None) -> None:
    org = create_organization(name="Last used")
    created = create_api_key(organization=org, name="k")
    assert _post(live_gateway, created.plaintext).status_code == 200
    deadline = time.monotonic() + 8
    while ApiKey.objects.get(pk=created.api_key.pk).last_used_at is None:
        assert time.monotonic() < deadline, "last_used_at was never written"
        time.sleep(0.2)

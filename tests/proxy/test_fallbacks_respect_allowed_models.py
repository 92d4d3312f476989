"""A key limited to some models never reaches another one through a model's fallbacks."""

from __future__ import annotations

import pytest

from accounts.services import create_api_key, create_organization
from tests.proxy.conftest import LiveGateway, hi


@pytest.fixture
def chat_only_key(live_gateway: LiveGateway, transactional_db: None) -> str:
    org = create_organization(name="Chat only")
    created = create_api_key(organization=org, name="chat-only")
    created.api_key.allowed_models = ["chat"]
    created.api_key.save()
    return created.plaintext


def _post(gw: LiveGateway, key: str) -> int:
    import httpx

    response = httpx.post(
        f"{gw.url}/v1/chat/completions", json=hi("chat"), timeout=20, headers={"authorization": f"Bearer {key}"}
    )
    return response.status_code


def test_a_fallback_the_key_may_not_use_is_skipped(live_gateway: LiveGateway, chat_only_key: str) -> None:
    live_gateway.reset()
    live_gateway.sim.set_fault("sim-a", status=500)
    live_gateway.sim.set_fault("sim-b", status=500)
    try:
        assert _post(live_gateway, chat_only_key) == 502
        assert live_gateway.sim.attempts("sim-c") == 0  # "backup" is chat's fallback, not allowed here
    finally:
        live_gateway.reset()


def test_a_fallback_the_key_may_use_still_rescues(live_gateway: LiveGateway, transactional_db: None) -> None:
    org = create_organization(name="Chat and backup")
    created = create_api_key(organization=org, name="both")
    created.api_key.allowed_models = ["chat", "backup"]
    created.api_key.save()
    live_gateway.reset()
    live_gateway.sim.set_fault("sim-a", status=500)
    live_gateway.sim.set_fault("sim-b", status=500)
    try:
        assert _post(live_gateway, created.plaintext) == 200
        assert live_gateway.sim.attempts("sim-c") == 1
    finally:
        live_gateway.reset()

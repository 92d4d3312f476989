"""Management API: /api/orgs/<id>/deployments/ (state, since, reason, last probe, cool-down, breaker
opens today) and the operator's /api/operator/deployments/ across organisations."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.utils import timezone

from accounts.models import User
from gateway.routing import shared
from monitoring.models import DeploymentStatus, Probe
from tests.accounts.factories import write_gateway_config
from tests.api.helpers import assert_api_not_found_for, assert_unauthenticated, session_client
from tests.conftest import Accounts


@pytest.fixture(autouse=True)
def _config(settings: object, tmp_path: Path) -> None:
    settings.GATEWAY_CONFIG = str(write_gateway_config(tmp_path))  # type: ignore[attr-defined]


def url(accounts: Accounts) -> str:
    return f"/api/orgs/{accounts.org.pk}/deployments/"


def test_each_configured_deployment_with_its_state_probe_cool_down_and_opens(accounts: Accounts) -> None:
    now = timezone.now()
    since = now - timedelta(minutes=7)
    DeploymentStatus.objects.create(deployment="openai-main/chat", provider="openai-main", state="down",
                                    since=since, reason="circuit breaker open", next_probe_at=now)  # fmt: skip
    Probe.objects.create(deployment="openai-main/chat", provider="openai-main", at=now, kind="liveness",
                         result="failed", status=503, latency_ms=12.0, detail="HTTP 503")  # fmt: skip
    client = redis.Redis.from_url(settings.REDIS_URL)
    prefix = settings.CACHES["default"].get("KEY_PREFIX", "gw")
    wall = time.time()
    shared.publish(client, prefix, shared.Transition("openai-main/chat", "open", wall + 1, 1, wall, "w1"))
    shared.publish(client, prefix, shared.Transition("openai-main/chat", "cooldown", wall + 20, 0, wall, "w1"))
    try:
        response = session_client(accounts.member).get(url(accounts))
    finally:
        client.delete(shared.hash_key(prefix), shared.opens_key(prefix, wall))
    assert response.status_code == 200
    rows = {row["deployment"]: row for row in response.json()}
    assert set(rows) == {"openai-main/chat", "claude/claude-sonnet"}
    chat = rows["openai-main/chat"]
    assert (chat["state"], chat["reason"]) == ("down", "circuit breaker open")
    assert chat["since"] == since.isoformat().replace("+00:00", "Z")
    assert (chat["last_probe_kind"], chat["last_probe_result"], chat["last_probe_detail"]) == (
        "liveness", "failed", "HTTP 503")  # fmt: skip
    assert chat["cooldown_until"] is not None and chat["breaker_opens_today"] >= 1
    claude = rows["claude/claude-sonnet"]
    assert (claude["state"], claude["since"], claude["last_probe_at"]) == ("unknown", None, None)


def test_the_owner_sees_them_too(accounts: Accounts) -> None:
    assert session_client(accounts.owner).get(url(accounts)).status_code == 200


def test_outsider_gets_404(accounts: Accounts) -> None:
    assert_api_not_found_for(accounts.outsider, url(accounts))


def test_requires_authentication(accounts: Accounts) -> None:
    assert_unauthenticated(url(accounts))


def test_staff_see_every_deployment_across_organisations(accounts: Accounts) -> None:
    DeploymentStatus.objects.create(deployment="retired/old", provider="retired", state="up",
                                    since=timezone.now(), next_probe_at=timezone.now())  # fmt: skip
    staff = User.objects.create_user("staff@example.org", "staff-password-123", is_staff=True)
    response = session_client(staff).get("/api/operator/deployments/")
    assert response.status_code == 200
    assert {row["deployment"] for row in response.json()} == {"openai-main/chat", "claude/claude-sonnet", "retired/old"}


def test_the_operator_view_is_404_to_members(accounts: Accounts) -> None:
    assert_api_not_found_for(accounts.owner, "/api/operator/deployments/")

"""Management API: /api/orgs/<id>/provider-health/, from the attempt log for now."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from gateway.models import Attempt
from tests.accounts.factories import make_attempt, write_gateway_config
from tests.api.helpers import assert_api_not_found_for, assert_unauthenticated, session_client
from tests.conftest import Accounts


@pytest.fixture(autouse=True)
def _no_other_attempts(db: None) -> None:
    # Other modules' live gateways commit attempts; removed inside this test's transaction only.
    Attempt.objects.all().delete()


def url(accounts: Accounts) -> str:
    return f"/api/orgs/{accounts.org.pk}/provider-health/"


def test_health_per_configured_deployment(accounts: Accounts, settings: object, tmp_path: Path) -> None:
    settings.GATEWAY_CONFIG = str(write_gateway_config(tmp_path))  # type: ignore[attr-defined]
    now = timezone.now()
    make_attempt(accounts.org, started_at=now - timedelta(minutes=30), deployment="openai-main/chat")
    make_attempt(accounts.org, started_at=now - timedelta(minutes=2), deployment="openai-main/chat", outcome="timeout")
    make_attempt(accounts.other_org, started_at=now - timedelta(minutes=1), deployment="openai-main/chat",
                 outcome="client_error")  # fmt: skip  # the client's fault: says nothing of the deployment
    response = session_client(accounts.member).get(url(accounts))
    assert response.status_code == 200
    body = response.json()
    assert body["source"] == "attempt_log"
    health = {d["deployment"]: d for d in body["deployments"]}
    assert set(health) == {"openai-main/chat", "claude/claude-sonnet"}
    chat = health["openai-main/chat"]
    assert (chat["provider"], chat["status"], chat["last_outcome"]) == ("openai-main", "degraded", "client_error")
    assert (chat["attempts_5m"], chat["failures_5m"]) == (2, 1)
    assert chat["last_success_at"] is not None
    assert health["claude/claude-sonnet"]["status"] == "unknown"


def test_a_failing_deployment(accounts: Accounts) -> None:
    make_attempt(accounts.org, started_at=timezone.now(), deployment="p/m", outcome="server_error", final=False)
    [deployment] = session_client(accounts.owner).get(url(accounts)).json()["deployments"]
    assert (deployment["deployment"], deployment["status"], deployment["last_success_at"]) == ("p/m", "failing", None)


def test_requires_authentication(accounts: Accounts) -> None:
    assert_unauthenticated(url(accounts))


def test_outsider_gets_404(accounts: Accounts) -> None:
    make_attempt(accounts.org, started_at=timezone.now(), deployment="p/m")
    response = assert_api_not_found_for(accounts.outsider, url(accounts))
    assert b"p/m" not in response.content

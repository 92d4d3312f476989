"""Management API: /api/orgs/<id>/provider-health/, from the attempt log for now."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from monitoring.models import Attempt
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
    # The status from all traffic; the outcome and counts from this organisation's own.
    assert (chat["provider"], chat["status"], chat["last_outcome"]) == ("openai-main", "degraded", "timeout")
    assert (chat["attempts_5m"], chat["failures_5m"]) == (1, 1)
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


def test_members_see_their_own_traffic_only(accounts: Accounts) -> None:
    now = timezone.now()
    for n in range(7):
        make_attempt(accounts.other_org, started_at=now - timedelta(seconds=n + 1), deployment="p/m")
    make_attempt(accounts.other_org, started_at=now, deployment="p/m", outcome="server_error", final=False)
    make_attempt(accounts.org, started_at=now - timedelta(minutes=3), deployment="p/m")
    [mine] = session_client(accounts.member).get(url(accounts)).json()["deployments"]
    assert mine["status"] == "failing"  # the deployment's state is everyone's
    assert (mine["attempts_5m"], mine["failures_5m"], mine["last_outcome"]) == (1, 0, "ok")
    assert mine["last_attempt_at"] == mine["last_success_at"]
    assert mine["last_attempt_at"] < (now - timedelta(minutes=2)).isoformat().replace("+00:00", "Z")


def test_health_takes_a_fixed_number_of_queries(
    accounts: Accounts, django_assert_max_num_queries: Any, settings: object, tmp_path: Path
) -> None:
    settings.GATEWAY_CONFIG = str(write_gateway_config(tmp_path))  # type: ignore[attr-defined]
    for deployment in ("openai-main/chat", "claude/claude-sonnet"):
        make_attempt(accounts.org, started_at=timezone.now(), deployment=deployment)
    client = session_client(accounts.member)
    # Session, user and membership, then three for the report whatever the number of deployments.
    with django_assert_max_num_queries(6):
        assert len(client.get(url(accounts)).json()["deployments"]) == 2

"""Management API: /api/orgs/<id>/requests/<request_id>/, one request with every attempt."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import Organization
from monitoring.models import Request
from tests.accounts.factories import make_attempt
from tests.api.helpers import assert_api_not_found_for, assert_unauthenticated, session_client
from tests.conftest import Accounts


def make_request(org: Organization, request_id: str, started_at: datetime, **fields: object) -> Request:
    values: dict[str, object] = {
        "inbound": "openai.chat", "requested_model": "chat", "model": "chat", "provider": "sim-b", "stream": False,
        "status": 200, "outcome": "ok", "error_code": "", "attempts": 2, "failovers": 1, "rescued": True,
        "latency_ms": 120.0, "ttft_ms": 80.0, "prompt_tokens": 10, "completion_tokens": 5, "cost_usd": Decimal("0.001"),
    }  # fmt: skip
    values.update(fields)
    return Request.objects.create(
        id=uuid.uuid4(), request_id=request_id, started_at=started_at, org_id=org.pk, key_id=1, **values
    )


def url(org: Organization, request_id: str) -> str:
    return f"/api/orgs/{org.pk}/requests/{request_id}/"


@pytest.fixture
def rescued(accounts: Accounts) -> str:
    now = timezone.now()
    make_request(accounts.org, "req-1", now)
    make_attempt(accounts.org, started_at=now, request_id="req-1", attempt=1, deployment="sim-a/chat",
                 outcome="server_error", final=False)  # fmt: skip
    make_attempt(accounts.org, started_at=now + timedelta(milliseconds=40), request_id="req-1", attempt=2,
                 deployment="sim-b/chat", rescued=True)  # fmt: skip
    return "req-1"


@pytest.mark.parametrize("who", ["owner", "member"])
def test_members_see_which_provider_served_and_why_it_failed_over(accounts: Accounts, rescued: str, who: str) -> None:
    response = session_client(getattr(accounts, who)).get(url(accounts.org, rescued))
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["provider"], body["rescued"], body["failovers"]) == (200, "sim-b", True, 1)
    assert [(a["attempt"], a["provider"], a["outcome"]) for a in body["attempts"]] == [
        (1, "sim-a", "server_error"),
        (2, "sim-b", "ok"),
    ]


def test_another_organisations_request_is_a_404(accounts: Accounts, rescued: str) -> None:
    assert_api_not_found_for(accounts.outsider, url(accounts.org, rescued))
    # Its own organisation has no request with that id either.
    assert_api_not_found_for(accounts.outsider, url(accounts.other_org, rescued))


def test_an_unknown_or_absurd_request_id_is_a_404(accounts: Accounts) -> None:
    for request_id in ("nope", "x" * 5000, "%00", "..%2F..%2Fetc"):
        assert session_client(accounts.owner).get(url(accounts.org, request_id)).status_code == 404


def test_without_credentials_it_is_a_401(accounts: Accounts, rescued: str) -> None:
    assert_unauthenticated(url(accounts.org, rescued))


def test_a_reused_request_id_shows_the_latest_request_with_its_own_attempts(accounts: Accounts) -> None:
    earlier = timezone.now() - timedelta(hours=1)
    later = timezone.now()
    make_request(accounts.org, "again", earlier, status=502, outcome="server_error", provider="", rescued=False)
    make_attempt(accounts.org, started_at=earlier, request_id="again", outcome="server_error", final=False)
    make_request(accounts.org, "again", later, attempts=1, failovers=0, rescued=False)
    make_attempt(accounts.org, started_at=later, request_id="again")
    body = session_client(accounts.member).get(url(accounts.org, "again")).json()
    assert body["status"] == 200
    assert [a["outcome"] for a in body["attempts"]] == ["ok"]

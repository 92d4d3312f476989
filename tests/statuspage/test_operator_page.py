"""The operator's page of every provider's status: staff only (404 to anyone else, as /operator/alerts/)."""

from __future__ import annotations

from datetime import datetime, timedelta

from accounts.models import User
from monitoring.models import DeploymentStatus
from tests.accounts.helpers import assert_login_required, assert_not_found_for, client_for
from tests.conftest import Accounts
from tests.monitoring.incident_helpers import state_change
from tests.statuspage.seed import AZURE, AZURE_4O, NOW, OPENAI, OPENAI_4O, OPENAI_EMBED, probe, states

URL = "/operator/status/"


def test_staff_see_every_provider_and_deployment_with_state_probe_and_bar(accounts: Accounts, frozen: datetime) -> None:
    User.objects.filter(pk=accounts.owner.pk).update(is_staff=True)
    states({AZURE_4O: "down", OPENAI_4O: "up"}, since=NOW - timedelta(hours=3))
    DeploymentStatus.objects.create(deployment="retired/old-model", provider="retired", state="up", since=NOW,
                                    next_probe_at=NOW)  # fmt: skip
    probe(AZURE_4O, result="failed", at=NOW - timedelta(seconds=20))
    probe(OPENAI_4O, at=NOW - timedelta(seconds=5))
    state_change(AZURE_4O, NOW - timedelta(days=3), "unknown", "up")
    state_change(AZURE_4O, NOW - timedelta(hours=3), "up", "down", "circuit breaker open")
    response = client_for(accounts.owner).get(URL)
    assert response.status_code == 200
    text = response.content.decode()
    for name in (AZURE, OPENAI, "retired", AZURE_4O, OPENAI_4O, OPENAI_EMBED, "retired/old-model"):
        assert name in text
    assert "10 Mar 2031, 09:00 UTC (3\xa0hours)" in text  # since when
    assert '<span class="sp-probe sp-probe-failed">failed</span> liveness, 10 Mar, 11:59:40 UTC — HTTP 503' in text
    assert "none yet" in text  # embeddings were never probed
    assert text.count('class="daybar-cells"') == 4
    # Provider uptime per UTC day: the outage began at 09:00 of the last day, 3 of 12 hours so far.
    assert "Mon 10 Mar 2031: 75.00 % uptime, 180 min down" in text
    assert "Thu 6 Mar 2031: No data" in text and "Sat 8 Mar 2031: No downtime" in text


def test_anyone_else_gets_404(accounts: Accounts) -> None:
    assert_not_found_for(accounts.owner, URL)
    assert_not_found_for(accounts.member, URL)
    assert_login_required(URL)

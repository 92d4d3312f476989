"""What the public page and its JSON must never show, checked on realistic data: keys, internal model,
deployment and provider names, provider addresses, and traffic volume (request counts, tokens, cost)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from django.test import Client

from accounts.services import create_api_key
from monitoring.models import Incident
from tests.conftest import Accounts
from tests.statuspage.seed import (
    AZURE,
    AZURE_4O,
    NOW,
    OPENAI,
    OPENAI_4O,
    OPENAI_EMBED,
    PROVIDER_SECRET,
    SLUG,
    deployment_incident,
    organization_incident,
    page,
    probe,
    states,
    traffic,
)

# Every key the JSON may have, at any depth: nothing else (no request, token or cost field) can slip in.
JSON_KEYS = {
    "page", "name", "url", "time_zone", "updated_at", "status", "indicator", "description", "components",
    "position", "days", "date", "level", "label", "uptime_percent", "downtime_minutes", "incidents", "impact",
    "during_maintenance", "started_at", "resolved_at", "updates", "body", "created_at",
}  # fmt: skip


def _keys(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in _keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in _keys(v)}
    return set()


@pytest.fixture
def seeded(accounts: Accounts, frozen: datetime) -> str:
    """Two models through two providers with an outage each, an organisation incident, and a key."""
    key = create_api_key(organization=accounts.org, name="production").api_key
    page(
        accounts.org,
        ("all_models", "", "Everything"),
        ("model", "gpt-4o", "Chat"),
        ("model", "embed-small", "Vectors"),
        ("deployment", AZURE_4O, "Region A"),
    )
    for days_ago, ok, failed in ((5, 733, 0), (4, 691, 47), (2, 812, 3)):
        traffic(accounts.org, day=NOW - timedelta(days=days_ago), ok=ok, failed=failed)
    traffic(accounts.org, day=NOW - timedelta(days=3), ok=377, failed=0, model="embed-small")
    deployment_incident(accounts.org, AZURE_4O, start=NOW - timedelta(days=6), minutes=50)
    deployment_incident(accounts.org, OPENAI_EMBED, start=NOW - timedelta(days=1), minutes=20)
    organization_incident(accounts.org, at=NOW - timedelta(days=4, hours=3))
    states({AZURE_4O: "down", OPENAI_4O: "up", OPENAI_EMBED: "degraded"})
    probe(AZURE_4O, result="failed")
    assert Incident.objects.count() == 3
    assert any("requests failed" in u.message for i in Incident.objects.all() for u in i.updates.all())
    return key.prefix


def test_no_key_internal_name_address_or_traffic_volume_is_shown(accounts: Accounts, seeded: str) -> None:
    html = Client().get(f"/status/{SLUG}/").content.decode()
    raw_json = Client().get(f"/status/{SLUG}/index.json").content.decode()
    forbidden = [
        seeded, PROVIDER_SECRET, "sk-", AZURE, OPENAI, AZURE_4O, OPENAI_4O, OPENAI_EMBED, "gpt-4o", "embed-small",
        "internal.example", "@example.org",
        # what the recorded incidents say: counts, rates and the state machine's reasons
        "requests failed", "of 15", "733", "691", "812", "377", "circuit breaker", "is up again", "Resolved after",
        "66.66", "(over 5", "affected", "rescued", "token", "cost", "$",
    ]  # fmt: skip
    for text, where in ((html, "page"), (raw_json, "JSON")):
        found = [word for word in forbidden if word.lower() in text.lower()]
        assert found == [], f"{where} shows {found}"
    assert "Everything" in html and "Region A" in html and "Elevated error rate" in html


def test_the_json_has_only_the_documented_fields(seeded: str) -> None:
    data = Client().get(f"/status/{SLUG}/index.json").json()
    assert _keys(data) <= JSON_KEYS
    assert [c["name"] for c in data["components"]] == ["Everything", "Chat", "Vectors", "Region A"]
    assert [c["status"] for c in data["components"]] == [
        "degraded_performance",  # the worst of its models: embeddings' one deployment is degraded
        "degraded_performance",  # one of two deployments down
        "degraded_performance",
        "major_outage",
    ]
    assert len(data["incidents"]) == 3


def test_an_internal_name_shows_when_the_organisation_types_it(accounts: Accounts, frozen: datetime) -> None:
    page(accounts.org, ("deployment", AZURE_4O, AZURE_4O))
    assert AZURE_4O in Client().get(f"/status/{SLUG}/").content.decode()

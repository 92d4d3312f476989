"""Management API: GET /api/orgs/<id>/incidents/, incidents with their timelines."""

from __future__ import annotations

from datetime import timedelta

from monitoring import incidents
from monitoring.models import Incident
from tests.accounts.factories import make_management_key
from tests.api.helpers import assert_api_not_found_for, assert_unauthenticated, key_client, session_client
from tests.conftest import Accounts
from tests.monitoring.incident_helpers import NOW, make_requests, rolled_up, routed, state_change

DEP = "sim-a/chat"


def _history(accounts: Accounts) -> None:
    routed(accounts.org, NOW - timedelta(hours=1), through=DEP)
    routed(accounts.other_org, NOW - timedelta(hours=1), through=DEP)
    state_change(DEP, NOW - timedelta(minutes=30), "up", "down", "breaker open")
    incidents.process_state_changes()
    routed(accounts.org, NOW - timedelta(minutes=20), through=DEP, rescued_by="sim-b/chat")
    routed(accounts.other_org, NOW - timedelta(minutes=20), through=DEP)
    routed(accounts.other_org, NOW - timedelta(minutes=19), through=DEP)
    state_change(DEP, NOW - timedelta(minutes=10), "down", "up")
    incidents.process_state_changes()
    incidents.add_note(incident=Incident.objects.get(), organization=accounts.other_org, author=accounts.outsider,
                       message="their private note", now=NOW)  # fmt: skip
    make_requests(accounts.org, NOW - timedelta(minutes=2), ok=5, failed=10)
    incidents.evaluate_organizations(now=rolled_up(NOW))


def test_incidents_come_with_their_timelines_and_the_organisations_own_counts(accounts: Accounts) -> None:
    _history(accounts)
    response = session_client(accounts.member).get(f"/api/orgs/{accounts.org.pk}/incidents/")
    assert response.status_code == 200
    body = response.json()
    assert [(i["scope"], i["status"]) for i in body] == [("organization", "open"), ("deployment", "resolved")]
    deployment = body[1]
    assert (deployment["deployment"], deployment["duration_seconds"]) == (DEP, 20 * 60)
    assert (deployment["affected_requests"], deployment["rescued_requests"]) == (1, 1)
    assert [u["kind"] for u in deployment["timeline"]] == ["opened", "resolved"]  # no other org's note
    assert deployment["timeline"][0]["message"].endswith("breaker open")
    assert body[0]["affected_requests"] == 15

    resolved = session_client(accounts.member).get(f"/api/orgs/{accounts.org.pk}/incidents/", {"status": "resolved"})
    assert [i["scope"] for i in resolved.json()] == ["deployment"]
    assert (
        session_client(accounts.member).get(f"/api/orgs/{accounts.org.pk}/incidents/", {"status": "x"}).status_code
        == 400
    )


def test_a_management_key_reads_its_own_organisations_incidents(accounts: Accounts) -> None:
    _history(accounts)
    _, plaintext = make_management_key(accounts.other_org, accounts.outsider)
    body = key_client(plaintext).get(f"/api/orgs/{accounts.other_org.pk}/incidents/").json()
    [deployment] = body
    assert (deployment["affected_requests"], deployment["rescued_requests"]) == (2, 0)
    assert [u["kind"] for u in deployment["timeline"]] == ["opened", "resolved", "note"]
    assert key_client(plaintext).get(f"/api/orgs/{accounts.org.pk}/incidents/").status_code == 404


def test_outsiders_get_404_and_strangers_401(accounts: Accounts) -> None:
    _history(accounts)
    assert_api_not_found_for(accounts.outsider, f"/api/orgs/{accounts.org.pk}/incidents/")
    assert_unauthenticated(f"/api/orgs/{accounts.org.pk}/incidents/")


def test_the_endpoint_is_in_the_openapi_schema(accounts: Accounts) -> None:
    schema = session_client(accounts.owner).get("/api/schema/", {"format": "json"}).json()
    operation = schema["paths"]["/api/orgs/{org_id}/incidents/"]["get"]
    assert "timeline" in str(schema["components"]["schemas"]["Incident"])
    assert operation["tags"] == ["incidents"]

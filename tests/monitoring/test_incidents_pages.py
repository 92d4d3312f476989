"""The incident list and an incident's page: members see them, owners and admins add notes, outsiders get 404."""

from __future__ import annotations

from datetime import timedelta

import pytest

from monitoring import incidents
from monitoring.models import Incident, IncidentUpdate
from tests.accounts.helpers import assert_login_required, assert_not_found_for, client_for
from tests.conftest import Accounts
from tests.monitoring.incident_helpers import NOW, routed, state_change

DEP = "sim-a/chat"


@pytest.fixture
def incident(accounts: Accounts) -> Incident:
    routed(accounts.org, NOW - timedelta(hours=1), through=DEP)
    state_change(DEP, NOW - timedelta(minutes=30), "up", "down", "breaker open")
    routed(accounts.org, NOW - timedelta(minutes=20), through=DEP, rescued_by="sim-b/chat")
    routed(accounts.org, NOW - timedelta(minutes=19), through=DEP)
    state_change(DEP, NOW - timedelta(minutes=5), "down", "up")
    incidents.process_state_changes()
    return Incident.objects.get()


@pytest.mark.parametrize("who", ["owner", "member"])
def test_members_see_the_incidents_with_duration_and_their_requests(
    accounts: Accounts, incident: Incident, who: str
) -> None:
    response = client_for(getattr(accounts, who)).get(f"/orgs/{accounts.org.pk}/incidents/")
    assert response.status_code == 200
    text = response.content.decode()
    assert f"{DEP} down" in text
    assert "25 min 00 s" in text
    assert '<td data-label="Affected">2</td>' in text
    assert '<td data-label="Rescued by failover">1</td>' in text


def test_the_incident_page_shows_its_timeline(accounts: Accounts, incident: Incident) -> None:
    response = client_for(accounts.member).get(f"/orgs/{accounts.org.pk}/incidents/{incident.pk}/")
    text = response.content.decode()
    assert response.status_code == 200
    assert "breaker open" in text and "is up again" in text and "Resolved after 25 min" in text
    assert "Add note" not in text  # members read only


def test_an_owner_adds_a_note_and_a_member_cannot(accounts: Accounts, incident: Incident) -> None:
    url = f"/orgs/{accounts.org.pk}/incidents/{incident.pk}/"
    assert client_for(accounts.member).post(url, {"message": "hi"}).status_code == 403
    assert client_for(accounts.owner).post(url, {"message": ""}).status_code == 400
    response = client_for(accounts.owner).post(url, {"message": "Vendor confirmed a regional outage."})
    assert response.status_code == 302
    note = IncidentUpdate.objects.get(kind="note")
    assert (note.author, note.organization) == (accounts.owner, accounts.org)
    assert "Vendor confirmed" in client_for(accounts.member).get(url).content.decode()


def test_outsiders_get_404_everywhere(accounts: Accounts, incident: Incident) -> None:
    org = accounts.org.pk
    assert_not_found_for(accounts.outsider, f"/orgs/{org}/incidents/")
    assert_not_found_for(accounts.outsider, f"/orgs/{org}/incidents/{incident.pk}/")
    assert_not_found_for(
        accounts.outsider, f"/orgs/{org}/incidents/{incident.pk}/", method="post", data={"message": "x"}
    )
    # Nor through their own organisation, which never used the deployment.
    assert_not_found_for(accounts.outsider, f"/orgs/{accounts.other_org.pk}/incidents/{incident.pk}/")


def test_the_pages_need_a_login(accounts: Accounts, incident: Incident) -> None:
    assert_login_required(f"/orgs/{accounts.org.pk}/incidents/")


def test_no_incidents_is_not_shown_as_no_failures(accounts: Accounts) -> None:
    text = client_for(accounts.owner).get(f"/orgs/{accounts.org.pk}/incidents/").content.decode()
    assert "No incidents recorded" in text and "not that nothing failed" in text

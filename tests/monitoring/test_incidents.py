"""Incidents open and close themselves: from deployment state changes, and from an organisation's error rate."""

from __future__ import annotations

import threading
from datetime import timedelta

from django.db import connection

from monitoring import incidents
from monitoring.incident_selectors import incidents_of, own_counts
from monitoring.models import (
    DeploymentStateChange,
    Incident,
    IncidentImpact,
    IncidentUpdate,
    MonitoringSettings,
    StateChangeCursor,
)
from tests.conftest import Accounts
from tests.monitoring.incident_helpers import NOW, make_request, make_requests, rolled_up, routed, state_change

DEP = "sim-a/chat"


def test_a_deployment_going_down_opens_an_incident_and_coming_up_resolves_it_with_its_impact(
    accounts: Accounts,
) -> None:
    down_at, up_at = NOW - timedelta(minutes=30), NOW - timedelta(minutes=10)
    routed(accounts.org, down_at - timedelta(days=1), through=DEP)  # uses it: concerned from the start
    state_change(DEP, down_at, "up", "down", "breaker open")
    assert incidents.process_state_changes() == 1
    incident = Incident.objects.get()
    assert (incident.scope, incident.status, incident.opened_at, incident.title) == (
        "deployment",
        "open",
        down_at,
        f"{DEP} down",
    )
    assert list(IncidentImpact.objects.values_list("organization_id", flat=True)) == [accounts.org.pk]

    for minute in range(3):  # two rescued by failover, one not, and one before the incident
        routed(
            accounts.org, down_at + timedelta(minutes=minute), through=DEP, rescued_by="sim-b/chat" if minute else None
        )
    routed(accounts.other_org, down_at + timedelta(minutes=5), through=DEP, rescued_by="sim-b/chat")
    routed(accounts.org, up_at + timedelta(minutes=1), through=DEP)  # after it: not counted
    state_change(DEP, up_at, "down", "up", "probe ok")
    assert incidents.process_state_changes() == 1

    incident.refresh_from_db()
    assert (incident.status, incident.resolved_at) == ("resolved", up_at)
    assert (incident.affected_requests, incident.rescued_requests) == (4, 3)
    own = {i.organization_id: (i.affected_requests, i.rescued_requests) for i in IncidentImpact.objects.all()}
    assert own == {accounts.org.pk: (3, 2), accounts.other_org.pk: (1, 1)}
    assert [u.kind for u in IncidentUpdate.objects.filter(incident=incident)] == ["opened", "resolved"]
    assert "Resolved after 20 min" in IncidentUpdate.objects.get(kind="resolved").message


def test_reading_the_state_changes_again_changes_nothing(accounts: Accounts) -> None:
    state_change(DEP, NOW - timedelta(minutes=5), "up", "down")
    assert incidents.process_state_changes() == 1
    assert incidents.process_state_changes() == 0
    assert Incident.objects.count() == 1
    assert IncidentUpdate.objects.count() == 1


def test_two_workers_reading_at_once_apply_each_change_once(transactional_db: None, accounts: Accounts) -> None:
    for i in range(20):  # ten outages, each opened and resolved
        state_change(
            f"sim-{i // 2}/chat",
            NOW - timedelta(minutes=60 - i),
            "up" if i % 2 == 0 else "down",
            "down" if i % 2 == 0 else "up",
        )
    start = threading.Barrier(2)

    def worker() -> None:
        start.wait()
        try:
            while incidents.process_state_changes(batch=3):
                pass
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert Incident.objects.filter(status="resolved").count() == 10
    assert IncidentUpdate.objects.count() == 20
    assert StateChangeCursor.objects.get().last_id == DeploymentStateChange.objects.order_by("id").last().pk  # type: ignore[union-attr]


def test_changes_are_read_in_order_in_batches(accounts: Accounts) -> None:
    state_change(DEP, NOW - timedelta(minutes=50), "up", "down")
    state_change(DEP, NOW - timedelta(minutes=40), "down", "up")
    state_change(DEP, NOW - timedelta(minutes=30), "up", "down")
    assert incidents.process_state_changes(batch=2) == 2
    assert incidents.process_state_changes(batch=2) == 1
    assert list(Incident.objects.order_by("opened_at").values_list("status", flat=True)) == ["resolved", "open"]


def test_degraded_or_unknown_while_down_is_an_update_not_a_recovery(accounts: Accounts) -> None:
    state_change(DEP, NOW - timedelta(minutes=30), "up", "down")
    state_change(DEP, NOW - timedelta(minutes=20), "down", "degraded", "error rate 20%")
    state_change(DEP, NOW - timedelta(minutes=15), "degraded", "unknown")
    incidents.process_state_changes()
    incident = Incident.objects.get()
    assert incident.status == "open"
    assert [u.kind for u in incident.updates.all()] == ["opened", "update", "update"]
    assert "degraded" in incident.updates.all()[1].message


def test_a_degraded_deployment_alone_opens_no_incident(accounts: Accounts) -> None:
    state_change(DEP, NOW - timedelta(minutes=30), "up", "degraded")
    incidents.process_state_changes()
    assert not Incident.objects.exists()


def test_an_organisation_over_its_error_rate_threshold_gets_an_incident_until_it_recovers(accounts: Accounts) -> None:
    start = NOW - timedelta(minutes=4)
    make_requests(accounts.org, start, ok=8, failed=2)  # 20% > 5%
    make_request(accounts.org, start + timedelta(seconds=1), rescued=True)
    incidents.evaluate_organizations(now=rolled_up(NOW))
    incident = Incident.objects.get()
    assert (incident.scope, incident.organization_id, incident.opened_at) == ("organization", accounts.org.pk, start)
    assert incident.title == "Error rate 18.18% (over 5%)"  # 2 of 11, truncated

    incidents.evaluate_organizations(now=rolled_up(NOW + timedelta(minutes=1)))  # still over: nothing new
    assert Incident.objects.count() == 1

    later = NOW + timedelta(minutes=6)
    make_requests(accounts.org, later - timedelta(minutes=2), ok=20)
    incidents.evaluate_organizations(now=rolled_up(later))
    incident.refresh_from_db()
    assert (incident.status, incident.resolved_at) == ("resolved", later)
    assert (incident.affected_requests, incident.rescued_requests) == (31, 1)


def test_client_errors_limits_and_local_apis_never_open_an_incident(accounts: Accounts) -> None:
    start = NOW - timedelta(minutes=2)
    make_requests(accounts.org, start, ok=10, failed=10, outcome="client_error")
    make_requests(accounts.org, start, failed=10, outcome="limited")
    for i in range(10):
        make_request(accounts.org, start, outcome="server_error", inbound="anthropic.count_tokens", request_id=f"c{i}")
    incidents.evaluate_organizations(now=rolled_up(NOW))
    assert not Incident.objects.exists()


def test_too_few_requests_are_noise_and_the_threshold_is_the_organisations_own(accounts: Accounts) -> None:
    make_requests(accounts.org, NOW - timedelta(minutes=1), ok=1, failed=2)
    incidents.evaluate_organizations(now=rolled_up(NOW))
    assert not Incident.objects.exists()
    make_requests(accounts.org, NOW - timedelta(minutes=1), ok=26)  # 2 of 29 = 6.9%
    MonitoringSettings.objects.create(organization=accounts.org, error_rate_threshold=10)
    incidents.evaluate_organizations(now=rolled_up(NOW))
    assert not Incident.objects.exists()
    MonitoringSettings.objects.filter(organization=accounts.org).update(error_rate_threshold=5)
    incidents.evaluate_organizations(now=rolled_up(NOW))
    assert Incident.objects.count() == 1


def test_an_organisation_sees_its_own_incidents_and_those_of_deployments_it_uses_with_its_own_counts(
    accounts: Accounts,
) -> None:
    routed(accounts.org, NOW - timedelta(hours=1), through=DEP)
    state_change(DEP, NOW - timedelta(minutes=30), "up", "down")
    state_change("sim-c/chat", NOW - timedelta(minutes=30), "up", "down")  # nobody uses it
    incidents.process_state_changes()
    routed(accounts.org, NOW - timedelta(minutes=20), through=DEP, rescued_by="sim-b/chat")
    routed(accounts.other_org, NOW - timedelta(minutes=20), through=DEP)
    incidents.refresh_open_impacts(now=NOW)
    make_requests(accounts.other_org, NOW - timedelta(minutes=2), failed=10)
    incidents.evaluate_organizations(now=rolled_up(NOW))

    mine = list(incidents_of(organization_id=accounts.org.pk))
    assert [(i.deployment, own_counts(i)) for i in mine] == [(DEP, (1, 1))]
    theirs = list(incidents_of(organization_id=accounts.other_org.pk))
    assert sorted(i.scope for i in theirs) == ["deployment", "organization"]


def test_a_note_on_a_shared_incident_is_seen_only_by_its_organisation(accounts: Accounts) -> None:
    routed(accounts.org, NOW - timedelta(hours=1), through=DEP)
    routed(accounts.other_org, NOW - timedelta(hours=1), through=DEP)
    state_change(DEP, NOW - timedelta(minutes=30), "up", "down")
    incidents.process_state_changes()
    incident = Incident.objects.get()
    incidents.add_note(
        incident=incident, organization=accounts.org, author=accounts.owner, message="Paged the vendor", now=NOW
    )
    [mine] = incidents_of(organization_id=accounts.org.pk)
    [theirs] = incidents_of(organization_id=accounts.other_org.pk)
    assert [u.kind for u in mine.timeline] == ["opened", "note"]
    assert [u.kind for u in theirs.timeline] == ["opened"]

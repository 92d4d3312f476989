"""Maintenance silences alerts: an incident that opens inside a maintenance window covering it is marked as
during maintenance and announced to nobody (nor its recovery); burn-rate alerts leave such windows out."""

from __future__ import annotations

from datetime import timedelta

from accounts.models import Organization
from monitoring import burn_rate, incidents, notify
from monitoring.incident_selectors import incidents_of
from monitoring.models import AlertDelivery, BurnRateAlert, Incident, MaintenanceWindow
from tests.conftest import Accounts
from tests.monitoring.incident_helpers import NOW, make_requests, rolled_up, routed, state_change

DEP = "sim-a/chat"


def _window(*, organization: Organization | None = None, deployment: str = "", minutes: int = 60) -> None:
    MaintenanceWindow.objects.create(
        organization=organization,
        deployment=deployment,
        starts_at=NOW - timedelta(minutes=minutes),
        ends_at=NOW - timedelta(minutes=minutes - 50),
        title="Provider upgrade",
    )


def _outage(accounts: Accounts) -> Incident:
    notify.add_channel(organization=accounts.org, kind="email", target="ops@acme.example")
    notify.add_channel(organization=accounts.other_org, kind="email", target="ops@other.example")
    routed(accounts.org, NOW - timedelta(hours=2), through=DEP)
    routed(accounts.other_org, NOW - timedelta(hours=2), through=DEP)
    state_change(DEP, NOW - timedelta(minutes=30), "up", "down", "breaker open")
    state_change(DEP, NOW - timedelta(minutes=5), "down", "up")
    incidents.process_state_changes()
    return Incident.objects.get()


def _told() -> set[str]:
    return set(AlertDelivery.objects.values_list("channel__target_hint", flat=True))


def test_an_outage_inside_an_operator_window_is_marked_and_announced_to_nobody(accounts: Accounts) -> None:
    _window()  # every deployment, 11:00 to 11:50; the outage opens at 11:30
    incident = _outage(accounts)
    assert incident.during_maintenance
    assert incident.status == "resolved"  # recorded and resolved as usual, only silent
    assert not AlertDelivery.objects.exists()
    [update] = [u for u in incidents_of(organization_id=accounts.org.pk)[0].timeline if u.kind == "update"]
    assert "maintenance window “Provider upgrade”" in update.message


def test_a_window_of_the_deployment_silences_it_and_one_of_another_deployment_does_not(accounts: Accounts) -> None:
    _window(deployment="sim-z/chat")
    assert not _outage(accounts).during_maintenance
    assert _told() == {"ops@acme.example", "ops@other.example"}
    Incident.objects.all().delete()
    AlertDelivery.objects.all().delete()
    _window(deployment=DEP)
    state_change(DEP, NOW - timedelta(minutes=20), "up", "down")
    incidents.process_state_changes()
    assert Incident.objects.get().during_maintenance
    assert not AlertDelivery.objects.exists()


def test_a_window_that_ended_before_the_outage_silences_nothing(accounts: Accounts) -> None:
    _window(minutes=90)  # 10:30 to 11:20
    assert not _outage(accounts).during_maintenance
    assert _told() == {"ops@acme.example", "ops@other.example"}


def test_an_organisations_own_window_silences_only_that_organisation(accounts: Accounts) -> None:
    _window(organization=accounts.org, deployment=DEP)
    incident = _outage(accounts)
    assert not incident.during_maintenance
    assert _told() == {"ops@other.example"}
    assert set(AlertDelivery.objects.values_list("dedup_key", flat=True)) == {
        f"incident:{incident.pk}:opened",
        f"incident:{incident.pk}:resolved",
    }
    [mine] = incidents_of(organization_id=accounts.org.pk)
    [theirs] = incidents_of(organization_id=accounts.other_org.pk)
    assert [u.kind for u in mine.timeline] == ["opened", "update", "resolved"]  # why it was not told
    assert [u.kind for u in theirs.timeline] == ["opened", "resolved"]


def test_an_error_rate_incident_during_the_organisations_maintenance_sends_no_alert(accounts: Accounts) -> None:
    notify.add_channel(organization=accounts.org, kind="email", target="ops@acme.example")
    MaintenanceWindow.objects.create(
        organization=accounts.org, starts_at=NOW - timedelta(minutes=10), ends_at=NOW + timedelta(hours=1), title="m"
    )
    make_requests(accounts.org, NOW - timedelta(minutes=2), ok=5, failed=10)
    incidents.evaluate_organizations(now=rolled_up(NOW))
    incident = Incident.objects.get()
    assert incident.during_maintenance
    make_requests(accounts.org, NOW + timedelta(minutes=7), ok=20)
    incidents.evaluate_organizations(now=rolled_up(NOW + timedelta(minutes=9)))
    incident.refresh_from_db()
    assert incident.status == "resolved"
    assert not AlertDelivery.objects.exists()


def test_burn_rate_alerts_leave_windows_under_maintenance_out(accounts: Accounts) -> None:
    make_requests(accounts.org, NOW - timedelta(minutes=3), ok=90, failed=10)
    MaintenanceWindow.objects.create(
        starts_at=NOW - timedelta(minutes=4), ends_at=NOW - timedelta(minutes=1), title="Operator upgrade"
    )
    burn_rate.evaluate_burn_rates(now=rolled_up(NOW))
    assert not BurnRateAlert.objects.exists()
    MaintenanceWindow.objects.all().delete()
    burn_rate.evaluate_burn_rates(now=rolled_up(NOW))
    assert set(BurnRateAlert.objects.values_list("severity", flat=True)) == {"page", "ticket"}

"""Operator alert channels: staff choose where every deployment incident goes, whichever organisations it
concerns; organisations' own alerts are unchanged, and nobody but staff sees or changes these channels."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.core import mail

from accounts.models import User
from monitoring import incidents, notify
from monitoring.models import AlertChannel, AlertDelivery, MaintenanceWindow
from tests.accounts.helpers import assert_login_required, assert_not_found_for, client_for
from tests.conftest import Accounts
from tests.monitoring.incident_helpers import NOW, make_requests, rolled_up, routed, state_change
from tests.monitoring.webhook_server import Webhooks, webhook_server

DEP = "sim-a/chat"
URL = "/operator/alerts/"


@pytest.fixture
def staff(db: None) -> User:
    return User.objects.create_user("ops@example.org", "ops-password-123", is_staff=True)


@pytest.fixture
def hooks() -> Iterator[Webhooks]:
    with webhook_server() as server:
        yield server


def _outage(accounts: Accounts, *, users: bool = True) -> None:
    if users:
        routed(accounts.org, NOW - timedelta(hours=2), through=DEP)
        routed(accounts.other_org, NOW - timedelta(minutes=20), through=DEP, rescued_by="sim-b/chat")
    state_change(DEP, NOW - timedelta(minutes=25), "up", "down", "breaker open")
    state_change(DEP, NOW - timedelta(minutes=5), "down", "up")
    incidents.process_state_changes()


def _deliver_all() -> None:
    for pk in notify.due_deliveries(now=NOW):
        notify.deliver(delivery_id=pk, now=NOW)


def test_staff_add_a_channel_that_hears_of_every_deployment_incident(
    accounts: Accounts, staff: User, hooks: Webhooks
) -> None:
    response = client_for(staff).post(f"{URL}channels/", {"kind": "webhook", "target": hooks.url + "/ops/s3cretT0ken"})
    assert response.status_code == 302
    assert AlertChannel.objects.get().organization is None
    notify.add_channel(organization=accounts.org, kind="email", target="acme@example.org")
    _outage(accounts)
    _deliver_all()
    ops = [body for path, body in hooks.posts if path == "/ops/s3cretT0ken"]
    events = [(body["event"], body["incident"]["organizations"]) for body in ops]
    assert events == [("incident.opened", 1), ("incident.resolved", 2)]  # other_org found during the outage
    resolved = hooks.posts[-1][1]
    assert resolved["text"] == f"[Operator] Resolved: {DEP} down"
    assert (resolved["incident"]["affected_requests"], resolved["incident"]["rescued_requests"]) == (1, 1)
    assert [m.to for m in mail.outbox] == [["acme@example.org"], ["acme@example.org"]]  # the org's own, unchanged
    page = client_for(staff).get(URL).content.decode()
    assert f"[Operator] Resolved: {DEP} down" in page and "s3cretT0ken" not in page


def test_an_incident_nobody_uses_still_reaches_the_operator_and_an_empty_email_goes_to_staff(
    accounts: Accounts, staff: User
) -> None:
    User.objects.create_user("former-ops@example.org", "x-password-123", is_staff=True, is_active=False)
    notify.add_channel(organization=None, kind="email", target="")
    _outage(accounts, users=False)
    _deliver_all()
    assert [(m.to, m.subject) for m in mail.outbox] == [
        (["ops@example.org"], f"[Operator] Incident: {DEP} down"),
        (["ops@example.org"], f"[Operator] Resolved: {DEP} down"),
    ]


def test_organisation_incidents_and_operator_maintenance_do_not_reach_the_operator(accounts: Accounts) -> None:
    notify.add_channel(organization=None, kind="email", target="noc@example.org")
    make_requests(accounts.org, NOW - timedelta(minutes=2), ok=5, failed=10)
    incidents.evaluate_organizations(now=rolled_up(NOW))  # one organisation's error rate: its own business
    MaintenanceWindow.objects.create(starts_at=NOW - timedelta(hours=1), ends_at=NOW, title="Upgrade")
    _outage(accounts)
    assert not AlertDelivery.objects.exists()


def test_an_organisations_own_maintenance_does_not_silence_the_operator(accounts: Accounts) -> None:
    notify.add_channel(organization=None, kind="email", target="noc@example.org")
    MaintenanceWindow.objects.create(
        organization=accounts.org, starts_at=NOW - timedelta(hours=1), ends_at=NOW, title="Acme's upgrade"
    )
    _outage(accounts)
    assert AlertDelivery.objects.count() == 2


def test_bad_channels_are_form_errors_and_staff_remove_channels(staff: User) -> None:
    client = client_for(staff)
    assert client.post(f"{URL}channels/", {"kind": "webhook", "target": "ftp://x"}).status_code == 400
    assert client.post(f"{URL}channels/", {"kind": "email", "target": ""}).status_code == 302
    channel = AlertChannel.objects.get()
    assert channel.target_hint == "Staff"
    assert "Staff" in client.get(URL).content.decode()
    assert client.post(f"{URL}channels/{channel.pk}/delete/").status_code == 302
    assert not AlertChannel.objects.exists()


def test_members_owners_and_outsiders_get_404(accounts: Accounts) -> None:
    operator_channel = AlertChannel.objects.create(kind="email", target_hint="noc@example.org")
    AlertChannel.objects.create(organization=accounts.org, kind="email", target_hint="a@example.org")
    for user in (accounts.owner, accounts.member, accounts.outsider):
        assert_not_found_for(user, URL)
        assert_not_found_for(user, f"{URL}channels/", method="post", data={"kind": "email"})
        assert_not_found_for(user, f"{URL}channels/{operator_channel.pk}/delete/", method="post")
    assert AlertChannel.objects.count() == 2
    assert_login_required(URL)


def test_staff_cannot_remove_an_organisations_channel_here(accounts: Accounts, staff: User) -> None:
    channel = AlertChannel.objects.create(organization=accounts.org, kind="email", target_hint="a@example.org")
    assert_not_found_for(staff, f"{URL}channels/{channel.pk}/delete/", method="post")
    # An organisation's page never lists the operator's channels.
    AlertChannel.objects.create(kind="email", target_hint="noc@example.org")
    text = client_for(accounts.owner).get(f"/orgs/{accounts.org.pk}/alerts/").content.decode()
    assert "noc@example.org" not in text

"""Incident alerts by email and webhook: queued once per transition and channel, sent once, retried, chosen."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.core import mail

from monitoring import incidents, notify
from monitoring.models import AlertChannel, AlertDelivery, Incident, MonitoringSettings
from tests.conftest import Accounts
from tests.monitoring.incident_helpers import NOW, make_requests, rolled_up, routed, state_change
from tests.monitoring.webhook_server import Webhooks, webhook_server

DEP = "sim-a/chat"
SECRET_PATH = "/services/T000/B000/XyZsecretTokenQ7"


@pytest.fixture
def hooks() -> Iterator[Webhooks]:
    with webhook_server() as server:
        yield server


def _outage(accounts: Accounts, *, minutes: int = 20) -> None:
    routed(accounts.org, NOW - timedelta(hours=2), through=DEP)
    state_change(DEP, NOW - timedelta(minutes=minutes + 5), "up", "down", "breaker open")
    routed(accounts.org, NOW - timedelta(minutes=minutes), through=DEP, rescued_by="sim-b/chat")
    state_change(DEP, NOW - timedelta(minutes=5), "down", "up")
    incidents.process_state_changes()


def _deliver_all() -> list[float | None]:
    return [notify.deliver(delivery_id=pk, now=NOW) for pk in notify.due_deliveries(now=NOW)]


def test_an_incident_and_its_recovery_are_emailed_once_to_owners_and_admins(accounts: Accounts) -> None:
    notify.add_channel(organization=accounts.org, kind="email", target="")
    _outage(accounts)
    assert _deliver_all() == [None, None]
    assert _deliver_all() == []
    subjects = [m.subject for m in mail.outbox]
    assert subjects == [f"[Acme] Incident: {DEP} down", f"[Acme] Resolved: {DEP} down"]
    assert mail.outbox[0].to == ["owner@example.org"]  # the member is not an admin
    assert "Your requests affected: 1, rescued by failover: 1." in mail.outbox[1].body
    assert "/orgs/" in mail.outbox[1].body


def test_a_generic_webhook_gets_json_and_a_slack_one_gets_text_and_blocks(accounts: Accounts, hooks: Webhooks) -> None:
    notify.add_channel(organization=accounts.org, kind="webhook", target=hooks.url + "/generic")
    notify.add_channel(organization=accounts.org, kind="slack", target=hooks.url + SECRET_PATH)
    _outage(accounts)
    _deliver_all()
    by_path = {}
    for path, body in hooks.posts:
        by_path.setdefault(path, []).append(body)
    generic = by_path["/generic"]
    assert [b["event"] for b in generic] == ["incident.opened", "incident.resolved"]
    assert generic[1]["incident"]["deployment"] == DEP
    assert (generic[1]["incident"]["affected_requests"], generic[1]["incident"]["rescued_requests"]) == (1, 1)
    assert generic[1]["incident"]["status"] == "resolved"
    slack = by_path[SECRET_PATH]
    assert set(slack[0]) == {"text", "blocks"}
    assert slack[0]["text"] == f"[Acme] Incident: {DEP} down"
    assert [block["type"] for block in slack[0]["blocks"]] == ["header", "section", "context"]


def test_a_transition_is_queued_once_per_channel_and_two_workers_send_it_once(
    accounts: Accounts, hooks: Webhooks
) -> None:
    notify.add_channel(organization=accounts.org, kind="webhook", target=hooks.url)
    _outage(accounts)
    incident = Incident.objects.get()
    incidents._announce(incident, "resolved", now=NOW)  # a rerun of the same transition
    assert AlertDelivery.objects.count() == 2
    due = notify.due_deliveries(now=NOW)
    for pk in due + due:  # the same deliveries handed to two workers
        notify.deliver(delivery_id=pk, now=NOW)
    assert len(hooks.posts) == 2
    assert set(AlertDelivery.objects.values_list("status", flat=True)) == {"sent"}


def test_a_failing_webhook_is_retried_with_backoff_then_given_up(accounts: Accounts, hooks: Webhooks) -> None:
    channel = notify.add_channel(organization=accounts.org, kind="webhook", target=hooks.url)
    notify.queue(
        organization_ids={accounts.org.pk},
        preference="notify_organization_incidents",
        dedup_key="test:1",
        message_for=lambda _: notify.Message("s", "b", "http://x/", {}),
        now=NOW,
    )
    delivery = AlertDelivery.objects.get(channel=channel)
    hooks.statuses = [500, 503]
    assert notify.deliver(delivery_id=delivery.pk, now=NOW) == 30.0
    delivery.refresh_from_db()
    assert (delivery.status, delivery.last_error) == ("pending", "webhook answered HTTP 500")
    assert notify.due_deliveries(now=NOW) == []  # not before its retry time
    assert notify.deliver(delivery_id=delivery.pk, now=NOW + timedelta(seconds=30)) == 60.0
    assert notify.deliver(delivery_id=delivery.pk, now=NOW + timedelta(seconds=90)) is None
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, len(hooks.posts)) == ("sent", 3, 3)

    hooks.statuses = [500] * notify.MAX_ATTEMPTS
    AlertDelivery.objects.filter(pk=delivery.pk).update(status="pending", attempts=0)
    for _ in range(notify.MAX_ATTEMPTS):
        notify.deliver(delivery_id=delivery.pk, now=NOW)
    delivery.refresh_from_db()
    assert delivery.status == "failed"


def test_an_unreachable_webhook_fails_without_its_url_in_the_log(
    accounts: Accounts, caplog: pytest.LogCaptureFixture
) -> None:
    with webhook_server() as closed:
        url = closed.url + SECRET_PATH
    channel = notify.add_channel(organization=accounts.org, kind="slack", target=url)
    assert SECRET_PATH not in channel.target_hint and "…" in channel.target_hint
    assert SECRET_PATH not in channel.target_ciphertext
    _outage(accounts)
    with caplog.at_level(logging.DEBUG):
        _deliver_all()
    delivery = AlertDelivery.objects.first()
    assert delivery is not None and delivery.last_error == "webhook unreachable: ConnectError"
    assert "XyZsecretTokenQ7" not in caplog.text


def test_each_organisation_chooses_what_it_is_told(accounts: Accounts) -> None:
    notify.add_channel(organization=accounts.org, kind="email", target="ops@acme.example")
    MonitoringSettings.objects.create(organization=accounts.org, notify_deployment_incidents=False)
    _outage(accounts)
    assert not AlertDelivery.objects.exists()


def test_organisations_not_using_the_deployment_are_not_told(accounts: Accounts) -> None:
    notify.add_channel(organization=accounts.other_org, kind="email", target="ops@other.example")
    _outage(accounts)
    assert not AlertDelivery.objects.exists()


def test_an_organisation_incident_alerts_its_own_channels(accounts: Accounts) -> None:
    notify.add_channel(organization=accounts.org, kind="email", target="ops@acme.example")
    notify.add_channel(organization=accounts.other_org, kind="email", target="ops@other.example")
    make_requests(accounts.org, NOW - timedelta(minutes=2), ok=5, failed=10)
    incidents.evaluate_organizations(now=rolled_up(NOW))
    _deliver_all()
    assert [(m.to, m.subject) for m in mail.outbox] == [
        (["ops@acme.example"], "[Acme] Incident: Error rate 66.66% (over 5%)")
    ]


def test_a_claim_abandoned_by_a_dead_worker_is_given_up_not_resent(accounts: Accounts) -> None:
    channel = notify.add_channel(organization=accounts.org, kind="email", target="ops@acme.example")
    AlertDelivery.objects.create(
        channel=channel, dedup_key="k", subject="s", body="b", payload={"url": "u"}, status="sending",
        next_attempt_at=NOW - timedelta(minutes=11), created_at=NOW - timedelta(minutes=11),
    )  # fmt: skip
    assert notify.due_deliveries(now=NOW) == []
    assert AlertDelivery.objects.get().status == "failed"
    assert AlertChannel.objects.count() == 1

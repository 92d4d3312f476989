"""Webhooks cannot reach the gateway's own network (SSRF): https only, and no private, loopback, link-local or
otherwise internal address, when the URL is saved and again when an alert is sent (DNS rebinding). The
refusal says why without the URL. The test suite itself runs with ALERT_WEBHOOK_ALLOW_PRIVATE on."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from pytest_django.fixtures import Settings as SettingsWrapper

from monitoring import incidents, notify, webhook_guard
from monitoring.models import AlertChannel, AlertDelivery
from tests.accounts.helpers import client_for
from tests.conftest import Accounts
from tests.monitoring.incident_helpers import NOW, routed, state_change
from tests.monitoring.webhook_server import Webhooks, webhook_server

SECRET = "/hooks/T0/B0/s3cretPath"
PUBLIC = "93.184.215.14"  # a public address (example.com's network); never connected to here


@pytest.fixture
def strict(settings: SettingsWrapper) -> None:
    settings.ALERT_WEBHOOK_ALLOW_PRIVATE = False


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, list[str]]]:
    """A resolver whose answers the test sets per host name (a rebinding attacker's DNS); other names resolve."""
    answers: dict[str, list[str]] = {}
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host in answers:
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (answers[host].pop(0), port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    yield answers


@pytest.fixture
def hooks() -> Iterator[Webhooks]:
    with webhook_server() as server:
        yield server


def _add(accounts: Accounts, target: str) -> tuple[int, str]:
    response = client_for(accounts.owner).post(
        f"/orgs/{accounts.org.pk}/alerts/channels/", {"kind": "webhook", "target": target}
    )
    return response.status_code, response.content.decode()


def _outage_and_send(accounts: Accounts) -> AlertDelivery:
    routed(accounts.org, NOW - timedelta(hours=1), through="sim-a/chat")
    state_change("sim-a/chat", NOW - timedelta(minutes=5), "up", "down")
    incidents.process_state_changes()
    for pk in notify.due_deliveries(now=NOW):
        notify.deliver(delivery_id=pk, now=NOW)
    return AlertDelivery.objects.get()


@pytest.mark.parametrize(
    "target",
    [
        "https://127.0.0.1" + SECRET,
        "https://localhost:8443" + SECRET,
        "https://[::1]" + SECRET,
        "https://[::ffff:127.0.0.1]" + SECRET,
        "https://169.254.169.254/latest/meta-data/",
        "https://10.1.2.3" + SECRET,
        "https://192.168.0.10" + SECRET,
        "https://100.64.0.1" + SECRET,
        "https://0.0.0.0" + SECRET,
        "https://[fd00::1]" + SECRET,
    ],
)
def test_internal_addresses_are_a_form_error_that_does_not_echo_the_url(
    accounts: Accounts, strict: None, target: str
) -> None:
    status, page = _add(accounts, target)
    assert status == 400
    assert "private, loopback, link-local or otherwise internal address" in page
    assert "s3cretPath" not in page and "meta-data" not in page
    assert not AlertChannel.objects.exists()


def test_plain_http_is_refused_and_names_that_do_not_resolve_too(accounts: Accounts, strict: None) -> None:
    status, page = _add(accounts, f"http://{PUBLIC}{SECRET}")
    assert (status, "must start with https://" in page, "s3cretPath" in page) == (400, True, False)
    status, page = _add(accounts, "https://no-such-host.invalid" + SECRET)
    assert (status, "does not resolve" in page) == (400, True)


def test_a_host_that_resolves_to_a_public_address_is_saved(accounts: Accounts, strict: None, dns: dict) -> None:
    dns["hooks.example.com"] = [PUBLIC]
    assert _add(accounts, "https://hooks.example.com" + SECRET)[0] == 302
    assert AlertChannel.objects.get().target_hint == "hooks.example.com/…Path"


def test_the_request_goes_to_the_checked_address_with_the_names_host_and_certificate(strict: None, dns: dict) -> None:
    dns["hooks.example.com"] = [PUBLIC]
    target = webhook_guard.check("https://hooks.example.com:8443" + SECRET + "?x=1")
    assert str(target.url) == f"https://{PUBLIC}:8443{SECRET}?x=1"
    assert (target.host_header, target.sni_hostname) == ("hooks.example.com:8443", "hooks.example.com")


def test_a_name_rebound_to_an_internal_address_after_saving_gets_no_alert(
    accounts: Accounts, strict: None, dns: dict, hooks: Webhooks
) -> None:
    port = hooks.url.rsplit(":", 1)[1]
    dns["hooks.example.com"] = [PUBLIC, "127.0.0.1"]  # public when saved, our local server when sent
    assert _add(accounts, f"https://hooks.example.com:{port}{SECRET}")[0] == 302
    delivery = _outage_and_send(accounts)
    assert delivery.status == "pending" and delivery.attempts == 1  # retried later, checked again
    assert delivery.last_error.startswith("webhook refused: the webhook's host resolves to a private")
    assert hooks.posts == []


def test_a_channel_saved_while_private_addresses_were_allowed_is_refused_at_send_time(
    accounts: Accounts, hooks: Webhooks, settings: SettingsWrapper
) -> None:
    notify.add_channel(organization=accounts.org, kind="slack", target=hooks.url + SECRET)  # http, 127.0.0.1
    settings.ALERT_WEBHOOK_ALLOW_PRIVATE = False
    delivery = _outage_and_send(accounts)
    assert delivery.last_error == "webhook refused: a webhook URL must start with https://"
    assert hooks.posts == []
    settings.ALERT_WEBHOOK_ALLOW_PRIVATE = True  # what the test suite runs with: the local server is reached
    AlertDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=NOW)
    notify.deliver(delivery_id=delivery.pk, now=NOW)
    assert [path for path, _ in hooks.posts] == [SECRET]

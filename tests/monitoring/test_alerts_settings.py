"""The alert settings page: the SLO target, the threshold, what the organisation is told and where."""

from __future__ import annotations

from decimal import Decimal

import pytest

from monitoring.models import AlertChannel, MonitoringSettings
from tests.accounts.helpers import assert_not_found_for, capturing_all_logs, client_for
from tests.conftest import Accounts

HOOK = "https://hooks.slack.com/services/T0/B0/k3ysEcretWebhookPath9"
SETTINGS = {
    "slo_target": "99.5",
    "error_rate_threshold": "2",
    "notify_deployment_incidents": "on",
    "notify_burn_rate": "on",
}


def _url(accounts: Accounts, suffix: str = "") -> str:
    return f"/orgs/{accounts.org.pk}/alerts/{suffix}"


def test_defaults_are_shown_before_anything_is_saved(accounts: Accounts) -> None:
    text = client_for(accounts.member).get(_url(accounts)).content.decode()
    assert 'value="99.9"' in text and 'value="5"' in text
    assert "nobody is told" in text


def test_an_owner_sets_the_slo_target_threshold_and_preferences(accounts: Accounts) -> None:
    assert client_for(accounts.owner).post(_url(accounts), SETTINGS).status_code == 302
    saved = MonitoringSettings.objects.get(organization=accounts.org)
    assert (saved.slo_target, saved.error_rate_threshold) == (Decimal("99.5"), Decimal("2"))
    assert (saved.notify_deployment_incidents, saved.notify_organization_incidents, saved.notify_burn_rate) == (
        True,
        False,
        True,
    )
    bad = client_for(accounts.owner).post(_url(accounts), {**SETTINGS, "slo_target": "100"})
    assert bad.status_code == 400


def test_a_webhook_url_is_never_shown_or_logged_after_saving(
    accounts: Accounts, caplog: pytest.LogCaptureFixture
) -> None:
    with capturing_all_logs(caplog):
        response = client_for(accounts.owner).post(_url(accounts, "channels/"), {"kind": "slack", "target": HOOK})
        assert response.status_code == 302
        page = client_for(accounts.owner).get(_url(accounts), follow=True).content.decode()
    channel = AlertChannel.objects.get()
    assert channel.target_hint == "hooks.slack.com/…ath9"
    assert "k3ysEcret" not in page and "hooks.slack.com/…ath9" in page
    assert "k3ysEcret" not in caplog.text


def test_bad_channels_are_form_errors(accounts: Accounts) -> None:
    client = client_for(accounts.owner)
    assert client.post(_url(accounts, "channels/"), {"kind": "webhook", "target": "ftp://x"}).status_code == 400
    assert client.post(_url(accounts, "channels/"), {"kind": "email", "target": "not-an-address"}).status_code == 400
    assert client.post(_url(accounts, "channels/"), {"kind": "email", "target": ""}).status_code == 302
    assert AlertChannel.objects.get().target_hint == "Owners and admins"


def test_members_see_settings_but_cannot_change_them(accounts: Accounts) -> None:
    member = client_for(accounts.member)
    assert member.post(_url(accounts), SETTINGS).status_code == 403
    assert member.post(_url(accounts, "channels/"), {"kind": "email", "target": ""}).status_code == 403
    channel = AlertChannel.objects.create(organization=accounts.org, kind="email", target_hint="x@example.org")
    assert member.post(_url(accounts, f"channels/{channel.pk}/delete/")).status_code == 403
    assert client_for(accounts.owner).post(_url(accounts, f"channels/{channel.pk}/delete/")).status_code == 302
    assert not AlertChannel.objects.exists()


def test_outsiders_get_404_everywhere(accounts: Accounts) -> None:
    channel = AlertChannel.objects.create(organization=accounts.org, kind="email", target_hint="x@example.org")
    assert_not_found_for(accounts.outsider, _url(accounts))
    assert_not_found_for(accounts.outsider, _url(accounts), method="post", data=SETTINGS)
    assert_not_found_for(accounts.outsider, _url(accounts, "channels/"), method="post", data={"kind": "email"})
    assert_not_found_for(accounts.outsider, _url(accounts, f"channels/{channel.pk}/delete/"), method="post")
    own_org = f"/orgs/{accounts.other_org.pk}/alerts/channels/{channel.pk}/delete/"
    assert_not_found_for(accounts.outsider, own_org, method="post")
    assert AlertChannel.objects.count() == 1

"""Multi-window burn-rate alerts on the organisation's SLO: page at 14.4x over 1 h and 5 min, ticket at 6x over
6 h and 30 min, a recovery notice when either window drops back, each transition announced once."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.core import mail

from monitoring import burn_rate, notify
from monitoring.error_rates import ErrorCounts
from monitoring.models import BurnRateAlert, MonitoringSettings
from tests.conftest import Accounts
from tests.monitoring.incident_helpers import NOW, make_requests, rolled_up


def _send() -> None:
    for pk in notify.due_deliveries(now=NOW + timedelta(hours=12)):
        notify.deliver(delivery_id=pk, now=NOW)


def _open() -> set[str]:
    return set(BurnRateAlert.objects.filter(resolved_at__isnull=True).values_list("severity", flat=True))


def test_the_burn_rate_is_the_error_rate_over_the_error_budget() -> None:
    assert burn_rate.burn_rate(ErrorCounts(1000, 1), slo_target=Decimal("99.9")) == 1.0
    assert burn_rate.burn_rate(ErrorCounts(1000, 20), slo_target=Decimal("99")) == 2.0
    assert burn_rate.burn_rate(ErrorCounts(1000, 0), slo_target=Decimal("99.9")) == 0.0


def test_a_fast_burn_in_both_windows_pages_and_stops_when_the_short_window_recovers(accounts: Accounts) -> None:
    notify.add_channel(organization=accounts.org, kind="email", target="ops@acme.example")
    # 1 h: 2% failures (20x the 0.1% budget); last 5 min: 10%.
    make_requests(accounts.org, NOW - timedelta(minutes=50), ok=890, failed=10)
    make_requests(accounts.org, NOW - timedelta(minutes=3), ok=90, failed=10)
    burn_rate.evaluate_burn_rates(now=rolled_up(NOW))
    assert _open() == {"page", "ticket"}  # 6 h and 30 min burn over 6x too
    page = BurnRateAlert.objects.get(severity="page")
    assert (round(page.long_burn_rate, 6), round(page.short_burn_rate, 6)) == (20.0, 100.0)

    burn_rate.evaluate_burn_rates(now=rolled_up(NOW + timedelta(minutes=1)))  # still burning: nothing new
    assert BurnRateAlert.objects.count() == 2

    later = NOW + timedelta(minutes=6)  # the short window is clean; the hour still holds the failures
    make_requests(accounts.org, later - timedelta(minutes=4), ok=100)
    burn_rate.evaluate_burn_rates(now=rolled_up(later))
    assert _open() == {"ticket"}  # 30 min still burns 20/1100 over 6x
    _send()
    subjects = sorted(m.subject for m in mail.outbox)
    assert subjects == [
        "[Acme] Error budget burning 20.0x too fast (page)",
        "[Acme] Error budget burning 20.0x too fast (ticket)",
        "[Acme] Recovered: error budget burn back under 14.4x (page)",
    ]


def test_a_burst_only_in_the_short_window_does_not_page(accounts: Accounts) -> None:
    make_requests(accounts.org, NOW - timedelta(minutes=50), ok=9000)
    make_requests(accounts.org, NOW - timedelta(minutes=2), ok=80, failed=20)  # 1 h: 20/9100 = 2.2x
    burn_rate.evaluate_burn_rates(now=rolled_up(NOW))
    assert _open() == set()


def test_a_slow_burn_opens_a_ticket_but_no_page(accounts: Accounts) -> None:
    make_requests(accounts.org, NOW - timedelta(hours=5), ok=990, failed=10)
    make_requests(accounts.org, NOW - timedelta(minutes=20), ok=990, failed=10)
    # 6 h: 20/2000 and 30 min: 10/1000, 10x over 6x; 1 h: 10x, under 14.4x; 5 min: nothing.
    burn_rate.evaluate_burn_rates(now=rolled_up(NOW))
    assert _open() == {"ticket"}


def test_the_organisations_slo_target_sets_the_budget(accounts: Accounts) -> None:
    make_requests(accounts.org, NOW - timedelta(minutes=3), ok=99, failed=1)  # 1%: 10x a 99.9% budget
    MonitoringSettings.objects.create(organization=accounts.org, slo_target=99.9)
    burn_rate.evaluate_burn_rates(now=rolled_up(NOW))
    assert _open() == {"ticket"}
    MonitoringSettings.objects.filter(organization=accounts.org).update(slo_target=99.95)  # 20x
    BurnRateAlert.objects.all().delete()
    burn_rate.evaluate_burn_rates(now=rolled_up(NOW))
    assert _open() == {"page", "ticket"}


def test_client_errors_do_not_burn_the_budget_and_silence_resolves(accounts: Accounts) -> None:
    make_requests(accounts.org, NOW - timedelta(minutes=3), ok=50, failed=50, outcome="client_error")
    burn_rate.evaluate_burn_rates(now=rolled_up(NOW))
    assert _open() == set()
    make_requests(accounts.org, NOW - timedelta(minutes=3), failed=5)
    burn_rate.evaluate_burn_rates(now=rolled_up(NOW))
    assert _open() == {"page", "ticket"}
    burn_rate.evaluate_burn_rates(now=rolled_up(NOW + timedelta(hours=7)))  # no traffic at all: nothing burns
    assert _open() == set()


def test_an_organisation_that_turned_burn_rate_alerts_off_is_not_told(accounts: Accounts) -> None:
    notify.add_channel(organization=accounts.org, kind="email", target="ops@acme.example")
    MonitoringSettings.objects.create(organization=accounts.org, notify_burn_rate=False)
    make_requests(accounts.org, NOW - timedelta(minutes=3), failed=5)
    burn_rate.evaluate_burn_rates(now=rolled_up(NOW))
    _send()
    assert _open() == {"page", "ticket"}
    assert mail.outbox == []

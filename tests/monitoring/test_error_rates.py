"""The error rates incidents and burn-rate alerts read come from the rolled-up 5-minute windows, and match an
independent count of the raw requests over the same spans (N complete windows plus the current one)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from gateway.events.outcomes import Outcome, counts_as_downtime
from gateway.events.records import LOCAL_INBOUNDS
from monitoring import error_rates
from monitoring.models import MaintenanceWindow, Request
from tests.conftest import Accounts
from tests.monitoring.incident_helpers import NOW, make_request, rolled_up

SPANS = [timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=1), timedelta(hours=6)]
LATE = NOW + timedelta(minutes=2, seconds=37)  # inside a window: the current one is partial


def _window_start(moment: datetime) -> datetime:
    seconds = int(moment.timestamp())
    return datetime.fromtimestamp(seconds - seconds % 300, UTC)


def _independent(org_id: int, now: datetime, span: timedelta) -> error_rates.ErrorCounts:
    start = _window_start(now) - span
    rows = Request.objects.filter(org_id=org_id, started_at__gte=start, started_at__lt=now).exclude(
        inbound__in=LOCAL_INBOUNDS
    )
    outcomes = list(rows.values_list("outcome", flat=True))
    return error_rates.ErrorCounts(len(outcomes), sum(counts_as_downtime(Outcome(o)) for o in outcomes))


def test_the_rates_match_an_independent_count_of_the_raw_requests(accounts: Accounts) -> None:
    rng = random.Random(11)
    outcomes = [o.value for o in Outcome]
    for org in (accounts.org, accounts.other_org):
        for _ in range(400):
            at = LATE - timedelta(seconds=rng.randrange(7 * 3600))
            inbound = "anthropic.count_tokens" if rng.random() < 0.05 else "openai.chat"
            make_request(org, at, outcome=rng.choice(outcomes), inbound=inbound)
    counts = error_rates.error_counts_by_organization(now=rolled_up(LATE), windows=SPANS)
    for org in (accounts.org, accounts.other_org):
        expected = {span: _independent(org.pk, LATE, span) for span in SPANS}
        assert counts[org.pk] == expected
        assert all(c.failures > 0 for c in expected.values())  # the test data does exercise failures


def test_a_span_is_its_complete_windows_plus_the_current_one(accounts: Accounts) -> None:
    make_request(accounts.org, NOW - timedelta(minutes=5), outcome="timeout")  # 11:55, first of the span
    make_request(accounts.org, NOW - timedelta(minutes=5, seconds=1), outcome="timeout")  # 11:54:59, before it
    make_request(accounts.org, LATE - timedelta(seconds=1))  # the current, partial window
    counts = error_rates.error_counts_by_organization(now=rolled_up(LATE), windows=[timedelta(minutes=5)])
    assert counts[accounts.org.pk][timedelta(minutes=5)] == error_rates.ErrorCounts(2, 1)


def test_windows_under_maintenance_are_left_out_when_asked(accounts: Accounts) -> None:
    make_request(accounts.org, NOW - timedelta(minutes=20), outcome="server_error")
    make_request(accounts.org, NOW - timedelta(minutes=3))
    make_request(accounts.other_org, NOW - timedelta(minutes=20), outcome="server_error")
    MaintenanceWindow.objects.create(
        organization=accounts.org, starts_at=NOW - timedelta(minutes=21), ends_at=NOW - timedelta(minutes=19), title="x"
    )
    # Another deployment's window leaves nothing out of effective error rates: failover should hide it.
    MaintenanceWindow.objects.create(
        deployment="sim-a/chat", starts_at=NOW - timedelta(hours=1), ends_at=NOW, title="y"
    )
    hour = timedelta(hours=1)
    now = rolled_up(NOW)
    assert error_rates.error_counts_by_organization(now=now, windows=[hour])[accounts.org.pk][hour].failures == 1
    skipped = error_rates.error_counts_by_organization(now=now, windows=[hour], skip_maintenance=True)
    assert skipped[accounts.org.pk][hour] == error_rates.ErrorCounts(1, 0)
    assert skipped[accounts.other_org.pk][hour] == error_rates.ErrorCounts(1, 1)  # not its window


def test_spans_are_whole_windows() -> None:
    with pytest.raises(ValueError):
        error_rates.span_start(now=NOW, window=timedelta(minutes=7))

"""Rollups: minute rows from raw traffic, hours and days from them, uptime windows; idempotent, late
events folded in, two concurrent runs harmless, retention by granularity. Time is passed as ``now``."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connection

from gateway.events.outcomes import DOWNTIME_OUTCOMES, FailureClass, Outcome
from monitoring import rollups
from monitoring.models import (
    DeploymentDay,
    DeploymentHour,
    DeploymentMinute,
    RequestDay,
    RequestHour,
    RequestMinute,
    RollupBacklog,
    UptimeDay,
    UptimeHour,
    UptimeWindow,
)
from monitoring.models.rollups import FAILURE_COLUMNS
from tests.monitoring.traffic import attempt, request, save

T0 = datetime(2026, 3, 31, 23, 58, 10, tzinfo=UTC)  # a month end: the rows span two days
TABLES = (
    DeploymentMinute,
    DeploymentHour,
    DeploymentDay,
    RequestMinute,
    RequestHour,
    RequestDay,
    UptimeWindow,
    UptimeHour,
    UptimeDay,
)


def snapshot() -> dict[str, list[tuple[Any, ...]]]:
    return {model.__name__: sorted(map(tuple, model.objects.values_list())) for model in TABLES}


def traffic() -> None:
    rows = []
    for minute in range(6):
        at = T0 + timedelta(minutes=minute)
        rows += [request(at, latency_ms=100 + minute), request(at, outcome=Outcome.SERVER_ERROR, failovers=1)]
        rows += [request(at, outcome=Outcome.CLIENT_ERROR), request(at, inbound="anthropic.count_tokens")]
        rows += [request(at, model="other", outcome=Outcome.OK, rescued=True, failovers=1)]
        rows += [attempt(at), attempt(at, outcome=Outcome.TIMEOUT), attempt(at, deployment="dep-b", rescued=True)]
    save(*rows)


@pytest.mark.django_db
def test_counts_by_failure_class_leave_local_requests_out_of_everything_but_their_own_column() -> None:
    traffic()
    rollups.roll_span(start=T0, end=T0 + timedelta(minutes=10))
    day = RequestDay.objects.get(model="gpt-x", bucket=datetime(2026, 3, 31, tzinfo=UTC))
    assert (day.requests, day.successes, day.local_requests, day.failovers) == (6, 2, 2, 2)
    assert day.failures_server_error == 2 and day.failures_client_error == 2 and day.downtime_failures == 2
    assert sum(int(n) for n in day.latency_hist.values()) == day.successes
    dep = DeploymentHour.objects.get(deployment="dep-a", bucket=datetime(2026, 4, 1, tzinfo=UTC))
    assert (dep.requests, dep.successes, dep.failures_timeout, dep.failovers) == (8, 4, 4, 4)
    assert DeploymentDay.objects.get(deployment="dep-b", bucket=datetime(2026, 4, 1, tzinfo=UTC)).rescued == 4


def test_every_failure_class_has_a_column_and_downtime_is_the_vocabulary_s() -> None:
    assert set(FAILURE_COLUMNS) == set(FailureClass)
    assert "rate_limited" in DOWNTIME_OUTCOMES and "client_error" not in DOWNTIME_OUTCOMES


@pytest.mark.django_db
def test_hours_and_days_add_up_to_their_minutes() -> None:
    traffic()
    rollups.roll_span(start=T0, end=T0 + timedelta(minutes=10))
    for minute, hour, day in (
        (RequestMinute, RequestHour, RequestDay),
        (DeploymentMinute, DeploymentHour, DeploymentDay),
    ):
        totals = [
            sum(row.requests + row.failovers + row.prompt_tokens for row in m.objects.all())
            for m in (minute, hour, day)
        ]
        assert totals[0] == totals[1] == totals[2] > 0
        assert sum(row.cost_usd for row in minute.objects.all()) == sum(row.cost_usd for row in day.objects.all())


@pytest.mark.django_db
def test_a_rerun_gives_the_same_rows() -> None:
    traffic()
    rollups.roll_span(start=T0, end=T0 + timedelta(minutes=10))
    first = snapshot()
    rollups.roll_span(start=T0 - timedelta(hours=2), end=T0 + timedelta(hours=2))
    assert snapshot() == first
    assert all(first.values())


@pytest.mark.django_db
def test_the_trailing_horizon_folds_in_late_events_and_older_ones_wait_for_mark_late() -> None:
    now = T0 + timedelta(hours=3)
    save(request(now - timedelta(minutes=5)))
    rollups.roll_up(now=now)
    assert RequestDay.objects.get().requests == 1
    save(request(now - timedelta(minutes=6)), request(T0))  # late: one inside the horizon, one hours old
    rollups.roll_up(now=now)
    assert RequestDay.objects.get(bucket__day=1).requests == 2
    assert not RequestDay.objects.filter(bucket__day=31).exists()
    rollups.mark_late(start=T0, end=T0 + timedelta(seconds=1))
    assert rollups.roll_up(now=now) == 2
    assert RequestDay.objects.get(bucket__day=31).requests == 1
    assert UptimeWindow.objects.filter(window_start=datetime(2026, 3, 31, 23, 55, tzinfo=UTC), model="").exists()
    assert not RollupBacklog.objects.exists()


@pytest.mark.django_db
def test_nothing_older_than_the_minute_retention_is_rerolled(settings: Any) -> None:
    settings.MONITORING_MINUTE_ROLLUP_DAYS = 1
    traffic()
    rollups.roll_span(start=T0, end=T0 + timedelta(minutes=10))
    before = snapshot()
    now = T0 + timedelta(days=5)
    rollups.prune_rollups(now=now)
    rollups.mark_late(start=T0, end=T0 + timedelta(minutes=10))
    rollups.roll_up(now=now)
    after = snapshot()
    assert not after["RequestMinute"] and not after["DeploymentMinute"]
    assert {k: v for k, v in after.items() if "Minute" not in k} == {
        k: v for k, v in before.items() if "Minute" not in k
    }


@pytest.mark.django_db
def test_retention_keeps_hours_days_and_windows_for_the_configured_days() -> None:
    traffic()
    rollups.roll_span(start=T0, end=T0 + timedelta(minutes=10))
    rollups.prune_rollups(now=T0 + timedelta(days=399))
    assert RequestHour.objects.exists() and UptimeWindow.objects.exists() and not RequestMinute.objects.exists()
    rollups.prune_rollups(now=T0 + timedelta(days=402))
    assert not any(snapshot().values())


@pytest.mark.django_db(transaction=True)
def test_two_workers_rolling_the_same_window_at_once_do_no_harm() -> None:
    traffic()
    rollups.roll_span(start=T0, end=T0 + timedelta(minutes=10))
    expected = snapshot()
    for model in TABLES:
        model.objects.all().delete()
    barrier, errors = threading.Barrier(2), []

    def work() -> None:
        try:
            barrier.wait()
            rollups.roll_span(start=T0, end=T0 + timedelta(minutes=10))
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert snapshot() == expected

"""The health state machine: one blip does not flap a state, a confirmed change is dated from when it
was first seen, and two workers evaluating at once write one change row. Time is passed in (now=)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from monitoring import states
from monitoring.models import DeploymentStateChange, DeploymentStatus

T0 = datetime(2026, 3, 29, 0, 59, 50, tzinfo=UTC)  # across the EU DST change: UTC does not care
HEALTHY = states.Evidence(breaker_open=False, probe_failures=0, probed=True, requests=20, failures=0, ttft_ms=300)
BREAKER = states.Evidence(breaker_open=True, probe_failures=0, probed=True, requests=20, failures=9, ttft_ms=300)
NO_DATA = states.Evidence(breaker_open=False, probe_failures=0, probed=False, requests=0, failures=0, ttft_ms=None)


def _current(state: str, since: datetime = T0 - timedelta(hours=1)) -> states.Current:
    return states.Current(state, since, "", None)


def _carry(decision: states.Decision) -> states.Current:
    return states.Current(decision.state, decision.since, decision.pending, decision.pending_since)


@pytest.mark.parametrize(
    ("evidence", "expected"),
    [
        (HEALTHY, "up"),
        (BREAKER, "down"),
        (states.Evidence(False, 3, True, 0, 0, None), "down"),
        (states.Evidence(False, 2, True, 0, 0, None), "up"),
        (states.Evidence(False, 0, False, 10, 3, 200.0), "degraded"),
        (states.Evidence(False, 0, False, 4, 4, 200.0), "up"),  # too few attempts to judge a rate
        (states.Evidence(False, 0, False, 10, 0, 12_000.0), "degraded"),
        (NO_DATA, "unknown"),
    ],
)
def test_observation_from_probes_and_traffic(evidence: states.Evidence, expected: str) -> None:
    assert states.observe(evidence)[0] == expected


def test_one_blip_does_not_flap_the_state() -> None:
    first = states.decide(_current("up"), BREAKER, T0)
    assert (first.state, first.pending, first.changed) == ("up", "down", False)
    back = states.decide(_carry(first), HEALTHY, T0 + timedelta(seconds=5))
    assert (back.state, back.pending, back.changed) == ("up", "", False)


def test_a_confirmed_change_is_dated_from_when_it_was_first_seen() -> None:
    decision = states.decide(_current("up"), BREAKER, T0)
    decision = states.decide(_carry(decision), BREAKER, T0 + timedelta(seconds=29))
    assert not decision.changed
    decision = states.decide(_carry(decision), BREAKER, T0 + timedelta(seconds=30))
    assert (decision.state, decision.since, decision.changed) == ("down", T0, True)
    assert decision.reason == "circuit breaker open"


def test_recovery_takes_longer_than_confirmation() -> None:
    decision = states.decide(_current("down"), HEALTHY, T0)
    decision = states.decide(_carry(decision), HEALTHY, T0 + timedelta(seconds=59))
    assert (decision.state, decision.changed) == ("down", False)
    decision = states.decide(_carry(decision), HEALTHY, T0 + timedelta(seconds=60))
    assert (decision.state, decision.since, decision.changed) == ("up", T0, True)


def test_the_first_data_sets_the_state_at_once() -> None:
    decision = states.decide(_current("unknown"), HEALTHY, T0)
    assert (decision.state, decision.since, decision.changed) == ("up", T0, True)


def test_losing_all_data_is_unknown_after_the_recovery_period_never_up() -> None:
    decision = states.decide(_current("down"), NO_DATA, T0)
    decision = states.decide(_carry(decision), NO_DATA, T0 + timedelta(seconds=60))
    assert (decision.state, decision.changed) == ("unknown", True)


def test_two_workers_evaluating_at_once_write_one_change_row(db: None) -> None:
    row = DeploymentStatus.objects.create(deployment="p/m", provider="p", since=T0 - timedelta(hours=1),
                                          next_probe_at=T0)  # fmt: skip
    mine, theirs = DeploymentStatus.objects.get(pk=row.pk), DeploymentStatus.objects.get(pk=row.pk)
    decision = states.decide(_current("unknown", mine.since), BREAKER, T0)
    assert states.save(status=mine, decision=decision) is True
    assert states.save(status=theirs, decision=decision) is False
    [change] = DeploymentStateChange.objects.all()
    assert (change.deployment, change.old, change.new, change.at) == ("p/m", "unknown", "down", T0)
    assert DeploymentStatus.objects.get(pk=row.pk).state == "down"

"""Probe rows are kept RAW_RETENTION_DAYS (30 by default), like raw traffic; each deployment's last probe is
kept however old, since the operator's status page shows it. Time is frozen by passing ``now``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from monitoring import probes
from monitoring.models import Probe

NOW = datetime(2026, 6, 30, 12, tzinfo=UTC)


def probe(deployment: str, days_ago: float) -> Probe:
    return Probe.objects.create(
        deployment=deployment,
        provider="sim",
        at=NOW - timedelta(days=days_ago),
        kind=Probe.Kind.LIVENESS,
        result=Probe.Result.OK,
        status=200,
        latency_ms=12.0,
    )


@pytest.mark.django_db
def test_probes_past_the_retention_are_deleted_but_each_deployments_last_is_kept() -> None:
    kept = [probe("a", 1), probe("a", 29.9), probe("b", 45)]  # b's last probe is old: kept
    old = [probe("a", 30.1), probe("a", 90), probe("b", 60)]
    assert probes.prune_probes(now=NOW) == len(old)
    assert sorted(Probe.objects.values_list("pk", flat=True)) == sorted(p.pk for p in kept)
    assert probes.prune_probes(now=NOW) == 0  # idempotent


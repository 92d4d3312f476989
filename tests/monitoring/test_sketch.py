"""The latency sketch: fixed log buckets, merged by adding counts, quantiles within 1 % of the exact
nearest-rank value, also when taken from rollups over ranges that mix minute, hour and day rows."""

from __future__ import annotations

import itertools
import math
import random
from datetime import UTC, datetime, timedelta
from fractions import Fraction

import pytest

from monitoring import rollups, sketch, stats
from tests.monitoring.traffic import attempt, request, save

QUANTILES = (0.5, 0.95, 0.99)


def nearest_rank(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(1, math.ceil(Fraction(str(q)) * len(ordered))) - 1]


def within_alpha(estimate: float | None, exact: float) -> bool:
    assert estimate is not None
    return abs(estimate - exact) <= sketch.ALPHA * exact * (1 + 1e-9)


def test_every_value_is_within_alpha_of_its_bucket_estimate() -> None:
    for value in [0.01, 0.5, 1.0, 3.7, 99.99, 100.0, 1234.5, 599_999.0]:
        assert within_alpha(sketch.estimate(sketch.bucket_of(value)), value)


def test_quantiles_of_merged_sketches_are_within_alpha_of_the_exact_nearest_rank() -> None:
    rng = random.Random(7)
    parts = [[rng.lognormvariate(5, 1.5) for _ in range(500)] for _ in range(4)]
    merged = sketch.merge(sketch.sketch_of(part) for part in parts)
    values = [v for part in parts for v in part]
    assert sketch.count(merged) == len(values)
    for q in (0.0, 0.07, 0.5, 0.95, 0.99, 1.0):
        assert within_alpha(sketch.quantile(merged, q), nearest_rank(values, q))


def test_an_empty_sketch_has_no_quantile() -> None:
    assert sketch.quantile({}, 0.5) is None
    with pytest.raises(ValueError):
        sketch.quantile({"1": 1}, 1.5)


@pytest.mark.django_db
def test_quantiles_over_arbitrary_ranges_from_rollups_are_within_one_percent_of_raw() -> None:
    rng = random.Random(11)
    start = datetime(2026, 1, 30, 21, 0, tzinfo=UTC)
    rows, raw = [], []
    for _ in range(1500):
        at = start + timedelta(seconds=rng.randrange(3 * 86400))
        latency, ttft = rng.lognormvariate(6, 1.2), rng.lognormvariate(4, 1.0)
        rows += [request(at, latency_ms=latency, ttft_ms=ttft), attempt(at, latency_ms=latency, ttft_ms=ttft)]
        raw.append((at, latency, ttft))
    save(*rows)
    rollups.roll_span(start=start, end=start + timedelta(days=3))
    ranges = [(start, start + timedelta(days=3))]
    for _ in range(8):
        a = start + timedelta(minutes=rng.randrange(3 * 1440))
        ranges.append((a, a + timedelta(minutes=rng.randrange(30, 2 * 1440))))
    for a, b in ranges:
        inside = [(lat, ttft) for at, lat, ttft in raw if a <= at < b]
        by_org = stats.request_stats(organization_id=1, start=a, end=b)
        by_deployment = stats.deployment_stats(deployment="dep-a", start=a, end=b)
        assert by_org.requests == by_deployment.requests == len(inside)
        for q in QUANTILES:
            for result in (by_org, by_deployment):
                assert within_alpha(result.latency_ms[q], nearest_rank([lat for lat, _ in inside], q))
                assert within_alpha(result.ttft_ms[q], nearest_rank([ttft for _, ttft in inside], q))


def test_a_range_is_covered_by_days_hours_and_minutes_without_gaps() -> None:
    a, b = datetime(2026, 3, 1, 22, 17, tzinfo=UTC), datetime(2026, 3, 4, 1, 3, tzinfo=UTC)
    pieces = stats.cover(a, b)
    assert [level for level, _, _ in pieces] == [0, 1, 2, 1, 0]
    assert pieces[0][1] == a and pieces[-1][2] == b
    assert all(left[2] == right[1] for left, right in itertools.pairwise(pieces))

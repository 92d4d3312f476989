"""A mergeable latency histogram with fixed logarithmic buckets (DDSketch's mapping).

A value x > 0 falls in bucket ``i = ceil(log(x) / log(GAMMA))`` with ``GAMMA = (1 + ALPHA) / (1 - ALPHA)``;
the bucket's estimate ``2 * GAMMA**i / (GAMMA + 1)`` is within ALPHA (relative) of every value in it. Buckets
are fixed, so two sketches merge by adding counts, and a quantile taken by nearest rank from merged sketches
is within ALPHA of the exact nearest-rank
value of the raw data (the exact value lies in the bucket the rank falls in).

Sketches are stored sparse, as ``{bucket index (str): count}`` (jsonb): the minute rollup computes the
same bucket index in SQL (``bucket_sql``) from raw rows, and the coarser rollups add the counts.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from fractions import Fraction

ALPHA = 0.01  # relative accuracy of every quantile: 1 %
GAMMA = (1 + ALPHA) / (1 - ALPHA)
LN_GAMMA = math.log(GAMMA)
# Values below 10 µs are counted as 10 µs: no gateway latency is that short, and log(0) has no bucket.
MIN_VALUE_MS = 0.01

Sketch = dict[str, int]


def bucket_of(value: float) -> int:
    return math.ceil(math.log(max(value, MIN_VALUE_MS)) / LN_GAMMA)


def bucket_sql(column: str) -> str:
    """The same bucket index as ``bucket_of``, computed by Postgres from a column of milliseconds."""
    return f"ceil(ln(greatest({column}, {MIN_VALUE_MS!r})::float8) / {LN_GAMMA!r})::int"


def estimate(bucket: int) -> float:
    return 2 * GAMMA**bucket / (GAMMA + 1)


def sketch_of(values: Iterable[float]) -> Sketch:
    sketch: Sketch = {}
    for value in values:
        key = str(bucket_of(value))
        sketch[key] = sketch.get(key, 0) + 1
    return sketch


def merge(sketches: Iterable[Mapping[str, int]]) -> Sketch:
    merged: Sketch = {}
    for sketch in sketches:
        for key, count in sketch.items():
            merged[key] = merged.get(key, 0) + int(count)
    return merged


def count(sketch: Mapping[str, int]) -> int:
    return sum(int(n) for n in sketch.values())


def quantile(sketch: Mapping[str, int], q: float) -> float | None:
    """The nearest-rank q-quantile (the value of rank ceil(q·n), 1-based), or None for an empty sketch."""
    if not 0 <= q <= 1:
        raise ValueError(f"quantile {q} is not between 0 and 1")
    total = count(sketch)
    if total == 0:
        return None
    rank = max(1, math.ceil(Fraction(str(q)) * total))  # exact: 0.07 * 100 is 7, not 7.000000000000001
    seen = 0
    for bucket in sorted(int(key) for key in sketch):
        seen += int(sketch[str(bucket)])
        if seen >= rank:
            return estimate(bucket)
    raise AssertionError("unreachable: the ranks add up to the total")

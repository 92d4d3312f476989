"""Prometheus metrics of the proxy: the metric objects, and how finished events reach them.

The hot path only appends each finished event to a list (``note``, called by the event log); a
task in every worker folds that list into the metrics once a second, one update per label set
rather than one per event. In ``./gw up`` the values live in PROMETHEUS_MULTIPROC_DIR, shared by
every worker and Celery process, so that one scrape of /metrics sums them all (docs/metrics.md).
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import logging
import os
import threading
import time
from collections import Counter as Tally
from collections.abc import Callable, Iterable

from django.conf import settings
from prometheus_client import Counter, Gauge, Histogram

from gateway.events.outcomes import Outcome
from gateway.events.records import AttemptEvent, RequestEvent

log = logging.getLogger(__name__)
Event = AttemptEvent | RequestEvent
DRAIN_SECONDS = 1.0
LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0)
TTFT_BUCKETS = (0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 30.0)
_PM = ("provider", "model")

REQUESTS = Counter(
    "gateway_requests", "Requests answered, by the provider and model that served them.", [*_PM, "outcome"]
)
REQUEST_LATENCY = Histogram(
    "gateway_request_duration_seconds",
    "Latency as the client saw it, failovers included.",
    _PM,
    buckets=LATENCY_BUCKETS,
)
REQUEST_TTFT = Histogram(
    "gateway_request_ttft_seconds", "Time to first token as the client saw it.", _PM, buckets=TTFT_BUCKETS
)
ATTEMPTS = Counter("gateway_attempts", "Upstream attempts.", [*_PM, "deployment", "outcome"])
ATTEMPT_LATENCY = Histogram(
    "gateway_attempt_duration_seconds", "Latency of one upstream attempt.", _PM, buckets=LATENCY_BUCKETS
)
ATTEMPT_TTFT = Histogram("gateway_attempt_ttft_seconds", "Upstream time to first token.", _PM, buckets=TTFT_BUCKETS)
FAILOVERS = Counter("gateway_failovers", "Failed attempts followed by another try or by giving up.", _PM)
RESCUED = Counter("gateway_rescued_requests", "Requests answered after at least one failed attempt.", _PM)
LIMITER_REFUSALS = Counter("gateway_limiter_refusals", "Requests the gateway's own limits refused.", ["reason"])
BREAKER_OPENS = Counter("gateway_breaker_opens", "Times a deployment's breaker opened.", ["deployment"])
COOLDOWNS = Counter("gateway_cooldowns", "Rate-limit cool-downs started.", ["deployment"])
COOLDOWN_SECONDS = Counter("gateway_cooldown_seconds", "Length of the cool-downs started.", ["deployment"])
# livemax: the latest expiry any live worker knows of; a dead worker's value goes with it.
COOLDOWN_UNTIL = Gauge(
    "gateway_cooldown_until_timestamp_seconds",
    "When the deployment's latest cool-down ends (Unix time).",
    ["deployment"],
    multiprocess_mode="livemax",
)
PROBES = Counter("gateway_probes", "Health probes run.", ["provider", "deployment", "kind", "result"])
PROBE_COST = Counter("gateway_probe_cost_usd", "What paid probes cost.", ["provider", "deployment", "kind"])
WORKERS = Gauge("gateway_worker_processes", "Proxy worker processes reporting.", multiprocess_mode="livesum")


def note_breaker_open(deployment: str) -> None:
    BREAKER_OPENS.labels(deployment).inc()


def note_cooldown(deployment: str, seconds: float) -> None:
    COOLDOWNS.labels(deployment).inc()
    COOLDOWN_SECONDS.labels(deployment).inc(seconds)
    COOLDOWN_UNTIL.labels(deployment).set(time.time() + seconds)


def note_probe(provider: str, deployment: str, kind: str, result: str, cost_usd: float | None) -> None:
    PROBES.labels(provider, deployment, kind, result).inc()
    if cost_usd:
        PROBE_COST.labels(provider, deployment, kind).inc(cost_usd)


class _Samples:
    """Observations of one histogram child, bucketed here so the child is updated once per drain."""

    __slots__ = ("bounds", "counts", "total")

    def __init__(self, bounds: list[float]) -> None:
        self.bounds = bounds
        self.counts = [0] * len(bounds)  # non-cumulative, as the library keeps them; the last is +Inf
        self.total = 0.0


_COUNTED = (REQUESTS, ATTEMPTS, FAILOVERS, RESCUED, LIMITER_REFUSALS)
_OBSERVED = (REQUEST_LATENCY, REQUEST_TTFT, ATTEMPT_LATENCY, ATTEMPT_TTFT)


class _Batch:
    """One drain's worth of events, summed per metric and label set."""

    def __init__(self) -> None:
        self.counts: dict[Counter, Tally[tuple[str, ...]]] = {metric: Tally() for metric in _COUNTED}
        self.samples: dict[Histogram, dict[tuple[str, ...], _Samples]] = {metric: {} for metric in _OBSERVED}

    def count(self, metric: Counter, labels: tuple[str, ...], amount: int = 1) -> None:
        self.counts[metric][labels] += amount

    def observe(self, metric: Histogram, labels: tuple[str, ...], seconds: float) -> None:
        children = self.samples[metric]
        samples = children.get(labels)
        if samples is None:
            samples = children[labels] = _Samples(metric._upper_bounds)
        samples.counts[bisect.bisect_left(samples.bounds, seconds)] += 1
        samples.total += seconds

    def apply(self) -> None:
        for metric, tally in self.counts.items():
            for labels, amount in tally.items():
                metric.labels(*labels).inc(amount)
        for histogram, children in self.samples.items():
            for labels, samples in children.items():
                child = histogram.labels(*labels)
                # What observe() does for each value, once per bucket (the library has no bulk observe).
                for index, count in enumerate(samples.counts):
                    if count:
                        child._buckets[index].inc(count)
                child._sum.inc(samples.total)


def _fold_request(batch: _Batch, event: RequestEvent) -> None:
    labels = (event.provider, event.model)
    batch.count(REQUESTS, (*labels, event.outcome))
    batch.observe(REQUEST_LATENCY, labels, event.latency_ms / 1000)
    if event.ttft_ms is not None:
        batch.observe(REQUEST_TTFT, labels, event.ttft_ms / 1000)
    if event.failovers:
        batch.count(FAILOVERS, labels, event.failovers)
    if event.rescued:
        batch.count(RESCUED, labels)
    if event.outcome == Outcome.LIMITED:
        batch.count(LIMITER_REFUSALS, ("budget" if event.error_code == "budget_exceeded" else "rate_limit",))


def _fold_attempt(batch: _Batch, event: AttemptEvent) -> None:
    labels = (event.provider, event.model)
    batch.count(ATTEMPTS, (*labels, event.deployment, event.outcome))
    batch.observe(ATTEMPT_LATENCY, labels, event.latency_ms / 1000)
    if event.ttft_ms is not None:
        batch.observe(ATTEMPT_TTFT, labels, event.ttft_ms / 1000)


def fold(events: Iterable[Event]) -> None:
    """Add finished events to the metrics."""
    batch = _Batch()
    for event in events:
        if type(event) is RequestEvent:
            _fold_request(batch, event)
        elif type(event) is AttemptEvent:
            _fold_attempt(batch, event)
    batch.apply()


# ---------------------------------------------------------------- the hot path's hook, and its drain

_pending: list[Event] = []
# Several gateways share one process in tests, each on its own thread and loop; a drain must not
# take another's events twice. The hot path's append needs no lock.
_take_lock = threading.Lock()
_drainers: dict[asyncio.AbstractEventLoop, asyncio.Task[None]] = {}


def _ignore(event: Event) -> None:
    return None


# Rebound to the list's append while metrics are on: the hot path pays one C call per event.
note: Callable[[Event], None] = _ignore


def drain() -> None:
    with _take_lock:
        events = _pending[:]
        del _pending[: len(events)]
    if events:
        fold(events)


async def _drain_forever() -> None:
    while True:
        await asyncio.sleep(DRAIN_SECONDS)
        try:
            drain()
        except Exception:
            log.exception("metrics: a drain failed; its events are not counted")


def start() -> None:
    """Collect metrics in this worker, if /metrics is served at all (METRICS_TOKEN is set)."""
    global note
    if not settings.METRICS_TOKEN:
        return
    loop = asyncio.get_running_loop()
    if loop not in _drainers:
        _drainers[loop] = loop.create_task(_drain_forever(), name="metrics-drain")
    note = _pending.append
    WORKERS.set(1)


async def stop() -> None:
    global note
    task = _drainers.pop(asyncio.get_running_loop(), None)
    if task is None:
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    drain()
    if _drainers:
        return
    note = _ignore
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(os.getpid(), directory)

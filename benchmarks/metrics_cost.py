"""CPU the metrics cost per proxied request: the hot path's hook, and the drain that runs once a second.

.venv/bin/python -m benchmarks.metrics_cost

A request is one RequestEvent and one AttemptEvent (streamed, so both carry a TTFT), spread over
30 deployments and a few outcomes, in multiprocess mode (values in mmap files), as in ./gw up.
For comparison it also times the naive drain: one prometheus_client call per metric per event.
"""

from __future__ import annotations

import os
import random
import tempfile
import time
import uuid
from typing import Any

# As ./gw up runs it; set before prometheus_client is first imported (by gateway.metrics).
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="metrics-cost-"))

from gateway import metrics

REQUESTS = 50_000
ROUNDS = 7


def _events(count: int) -> list[Any]:
    from gateway.events.records import AttemptEvent, RequestEvent

    rng = random.Random(7)
    outcomes = ["ok"] * 18 + ["server_error", "rate_limited"]
    events: list[Any] = []
    for n in range(count):
        provider, model = f"p{n % 10}", f"m{n % 3}"
        outcome = rng.choice(outcomes)
        latency, ttft = rng.lognormvariate(0, 1) * 1000, rng.lognormvariate(-1, 1) * 1000
        common = dict(id=uuid.uuid4(), request_id=f"r{n}", started_at=time.time(), stream=True, ttft_ms=ttft)
        common |= dict(requested_model=model, model=model, provider=provider, outcome=outcome, latency_ms=latency)
        common |= dict(prompt_tokens=10, completion_tokens=20)
        events.append(
            AttemptEvent(
                **common,
                attempt=1,
                org_id=1,
                key_id=1,
                deployment=f"{provider}/{model}",
                status_code=None,
                error="",
                cached_tokens=None,
                rescued=False,
                final=True,
                malformed_events=0,
            )
        )
        events.append(
            RequestEvent(
                **common,
                org_id=1,
                key_id=1,
                inbound="openai.chat",
                status=200,
                error_code="",
                attempts=1,
                failovers=0,
                rescued=False,
                cost_usd=0.001,
            )
        )
    return events


def _per_request(seconds: float) -> float:
    return seconds / REQUESTS * 1e6


def _record_before(buffer: list[Any], event: Any) -> None:
    buffer.append(event)


def _record_after(buffer: list[Any], event: Any) -> None:
    buffer.append(event)
    metrics.note(event)  # the line EventLog.record gains


def _hook(events: list[Any]) -> float:
    """µs per request that ``metrics.note`` adds to EventLog.record (two events): best of rounds, each side."""
    metrics.note = metrics._pending.append
    best = {_record_before: float("inf"), _record_after: float("inf")}
    for _ in range(ROUNDS):
        for record in best:
            buffer: list[Any] = []
            started = time.perf_counter()
            for event in events:
                record(buffer, event)
            best[record] = min(best[record], time.perf_counter() - started)
            metrics._pending.clear()
    metrics.note = metrics._ignore
    return _per_request(best[_record_after] - best[_record_before])


def _drain(events: list[Any]) -> float:
    best = float("inf")
    for _ in range(ROUNDS):
        metrics._pending[:] = events
        started = time.process_time()
        metrics.drain()
        best = min(best, time.process_time() - started)
    return _per_request(best)


def _naive(events: list[Any]) -> float:
    """The same updates made one event at a time, as a hook calling prometheus_client directly would."""
    from gateway.events.records import RequestEvent

    started = time.process_time()
    for e in events:
        if isinstance(e, RequestEvent):
            metrics.REQUESTS.labels(e.provider, e.model, e.outcome).inc()
            metrics.REQUEST_LATENCY.labels(e.provider, e.model).observe(e.latency_ms / 1000)
            metrics.REQUEST_TTFT.labels(e.provider, e.model).observe(e.ttft_ms / 1000)
        else:
            metrics.ATTEMPTS.labels(e.provider, e.model, e.deployment, e.outcome).inc()
            metrics.ATTEMPT_LATENCY.labels(e.provider, e.model).observe(e.latency_ms / 1000)
            metrics.ATTEMPT_TTFT.labels(e.provider, e.model).observe(e.ttft_ms / 1000)
    return _per_request(time.process_time() - started)


def main() -> None:
    events = _events(REQUESTS)
    hook, drain, naive = _hook(events), _drain(events), _naive(events)
    print(f"hook on the hot path (EventLog.record, 2 events): {hook:.3f} µs/request")
    print(f"drain, once a second off the request path:         {drain:.3f} µs/request")
    print(f"naive per-event prometheus_client calls:           {naive:.3f} µs/request")
    print(f"total per request: {hook + drain:.3f} µs (vs ~440 µs of proxy CPU per request)")


if __name__ == "__main__":
    main()

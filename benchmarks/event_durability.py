"""What the durable write costs on the hot path: EventLog.record() per request, with and without
the segment write (one request event plus 1.1 attempt events per request, as the proxy records).

.venv/bin/python -m benchmarks.event_durability [--requests 200000]

No Postgres: the writer loop is not started, so this is record() alone. The segment lives in a
temporary directory on the disk that DATA_DIR would use (var/), not on tmpfs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("SECRET_KEY", "benchmark")
os.environ.setdefault("DATABASE_URL", "postgresql://unused@localhost/unused")
os.environ.setdefault("REDIS_URL", "redis://localhost")
django.setup()

from gateway.events.log import EventLog  # noqa: E402
from gateway.events.records import AttemptEvent, RequestEvent  # noqa: E402
from gateway.ids import uuid7  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PROXY_CPU_US = 440.0  # the proxy's CPU per non-streamed request (README, Performance)


def _attempt(attempt: int, final: bool) -> AttemptEvent:
    return AttemptEvent(
        id=uuid7(),
        request_id="bench-0123456789abcdef",
        attempt=attempt,
        started_at=time.time(),
        org_id=12,
        key_id=34,
        requested_model="gpt-4o-mini",
        model="gpt-4o-mini",
        provider="openai-eu",
        deployment="openai-eu/gpt-4o-mini",
        stream=False,
        outcome="ok" if final else "server_error",
        status_code=None if final else 503,
        error="" if final else "upstream answered 503 Service Unavailable",
        latency_ms=123.4,
        ttft_ms=45.6,
        prompt_tokens=12,
        completion_tokens=34,
        cached_tokens=None,
        rescued=attempt > 1,
        final=final,
        malformed_events=0,
        cost_usd=0.000123,
    )


def _request(attempts: int) -> RequestEvent:
    return RequestEvent(
        id=uuid7(),
        request_id="bench-0123456789abcdef",
        started_at=time.time(),
        org_id=12,
        key_id=34,
        inbound="openai.chat",
        requested_model="gpt-4o-mini",
        model="gpt-4o-mini",
        provider="openai-eu",
        stream=False,
        status=200,
        outcome="ok",
        error_code="",
        attempts=attempts,
        failovers=attempts - 1,
        rescued=attempts > 1,
        latency_ms=130.2,
        ttft_ms=50.1,
        prompt_tokens=12,
        completion_tokens=34,
        cost_usd=0.000123,
    )


def _events(requests: int) -> list[list[AttemptEvent | RequestEvent]]:
    """Per request: its attempts then its request event; every tenth request fails over once."""
    out: list[list[AttemptEvent | RequestEvent]] = []
    for number in range(requests):
        failover = number % 10 == 0
        attempts: list[AttemptEvent | RequestEvent] = [_attempt(1, not failover)]
        if failover:
            attempts.append(_attempt(2, True))
        out.append([*attempts, _request(len(attempts))])
    return out


def _memory_only() -> Callable[[AttemptEvent | RequestEvent], None]:
    """record() as it was before the segment write: append to the batch, check the bound."""
    buffer: list[AttemptEvent | RequestEvent] = []

    def record(event: AttemptEvent | RequestEvent) -> None:
        buffer.append(event)
        if len(buffer) >= 50_000:
            buffer.clear()

    return record


Event = AttemptEvent | RequestEvent


def _run(record: Callable[[Event], None], per_request: list[list[Event]]) -> float:
    started = time.perf_counter()
    for events in per_request:
        for event in events:
            record(event)
    return (time.perf_counter() - started) / len(per_request) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    per_request = _events(args.requests)
    (ROOT / "var").mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(dir=ROOT / "var", prefix="bench-spool-") as directory:
        durable, memory = [], []
        for _ in range(args.rounds):
            log = EventLog(flush_seconds=3600, spool_dir=Path(directory) / uuid.uuid4().hex)
            # The writer would rotate and empty the batch every 0.1 s; here MAX_BUFFER hands it off.
            durable.append(_run(log.record, per_request))
            memory.append(_run(_memory_only(), per_request))
        size = sum(f.stat().st_size for f in Path(directory).rglob("*.jsonl")) / (args.requests * args.rounds)
    with_write, without = statistics.median(durable), statistics.median(memory)
    cost = with_write - without
    print(f"requests per round: {args.requests:,}, rounds: {args.rounds}, events per request: 2.1")
    rounds = ", ".join(f"{d:.2f}" for d in durable)
    share = f"{cost / PROXY_CPU_US:.1%} of {PROXY_CPU_US:.0f} µs CPU"
    print(f"record() per request, memory only:        {without:6.2f} µs")
    print(f"record() per request, with segment write: {with_write:6.2f} µs  (rounds: {rounds})")
    print(f"durability cost per request:              {cost:6.2f} µs = {share}")
    print(f"bytes on disk per request:                {size:6.0f}")


if __name__ == "__main__":
    main()

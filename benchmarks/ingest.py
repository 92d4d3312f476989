"""Ingest throughput: requests per second, with their attempts, sustained into Postgres.

.venv/bin/python -m benchmarks.ingest [--seconds 60] [--rate 6000]

Part 1, the gateway's writer: one EventLog (as in one web worker) records ``--rate`` requests a
second (1.1 attempts each: every tenth request fails over once) for ``--seconds``, its writer loop
loading them every GATEWAY_LOG_FLUSH_SECONDS exactly as in production (segment files included).
It reports the requests and rows committed per second, and the backlog each second: a writer that
keeps up holds about one flush interval of events.
Part 2, the Celery loader: the same rows from segment files a dead writer left, loaded by
monitoring.services.ingest_spooled_events (the catch-up after an outage).

Without DATABASE_URL it starts a private Postgres in a temporary directory, with durable settings
(fsync and synchronous_commit on, unlike the test suite's), and migrates it.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from pathlib import Path

import django

from benchmarks.services import Services

_SERVICES = Services("bench-ingest-")
django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402

from benchmarks.event_durability import _attempt, _request  # noqa: E402
from gateway.events.log import EventLog  # noqa: E402
from gateway.events.records import AttemptEvent, RequestEvent  # noqa: E402
from gateway.events.spool import line  # noqa: E402
from monitoring.models import Attempt, Request  # noqa: E402
from monitoring.services import ingest_spooled_events  # noqa: E402

SLICE = 0.01  # the producer records a slice of requests every 10 ms


def _one_request(number: int) -> list[AttemptEvent | RequestEvent]:
    failover = number % 10 == 0
    events: list[AttemptEvent | RequestEvent] = [_attempt(1, not failover)]
    if failover:
        events.append(_attempt(2, True))
    return [*events, _request(len(events))]


async def _writer(seconds: float, rate: int, spool: Path) -> tuple[int, float, list[int]]:
    log = EventLog(flush_seconds=settings.GATEWAY_LOG_FLUSH_SECONDS, spool_dir=spool, max_buffer=10**9)
    log.start()
    loop = asyncio.get_running_loop()
    started = loop.time()
    sent, backlog, next_sample = 0, [], started + 1
    while (now := loop.time()) - started < seconds:
        due = int((now - started + SLICE) * rate)
        while sent < due:
            for event in _one_request(sent):
                log.record(event)
            sent += 1
        if now >= next_sample:
            backlog.append(len(log._buffer))
            next_sample += 1
        await asyncio.sleep(max(0.0, started + sent / rate - loop.time()))
    await log.stop()  # the last flush: everything recorded is committed when it returns
    return sent, loop.time() - started, backlog


def _loader(requests: int, spool: Path) -> tuple[int, float]:
    spool.mkdir(parents=True, exist_ok=True)
    per_file = 10_000
    for start in range(0, requests, per_file):
        events = [e for n in range(start, min(requests, start + per_file)) for e in _one_request(n)]
        (spool / f"events-1-{start}.jsonl").write_bytes(b"".join(line(e) for e in events))
    started = time.perf_counter()
    loaded = ingest_spooled_events(spool_dir=spool)
    return loaded, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--rate", type=int, default=6000, help="requests a second offered to the writer")
    parser.add_argument("--loader-requests", type=int, default=100_000)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    Request.objects.all().delete()
    Attempt.objects.all().delete()

    sent, elapsed, backlog = asyncio.run(_writer(args.seconds, args.rate, _SERVICES.directory / "spool-writer"))
    requests, attempts = Request.objects.count(), Attempt.objects.count()
    assert requests == sent, (requests, sent)
    print(f"writer: {sent:,} requests ({attempts:,} attempts) offered at {args.rate:,}/s for {args.seconds:g} s")
    print(f"  committed: {requests / elapsed:,.0f} requests/s, {(requests + attempts) / elapsed:,.0f} rows/s")
    print(f"  backlog each second (events in memory): median {statistics.median(backlog):,.0f}, max {max(backlog):,}")

    Request.objects.all().delete()
    Attempt.objects.all().delete()
    loaded, took = _loader(args.loader_requests, _SERVICES.directory / "spool-loader")
    rows = Request.objects.count() + Attempt.objects.count()
    assert rows == loaded, (rows, loaded)
    print(f"loader: {args.loader_requests:,} requests ({loaded:,} rows) from segment files in {took:.1f} s")
    print(f"  {args.loader_requests / took:,.0f} requests/s, {loaded / took:,.0f} rows/s")


if __name__ == "__main__":
    try:
        main()
    finally:
        _SERVICES.close()

"""Latency the limiter adds per request: one check plus one settle against real Redis.

.venv/bin/python -m benchmarks.limiter            (private throwaway Redis)
REDIS_URL=redis://127.0.0.1:6379/15 .venv/bin/python -m benchmarks.limiter
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import uvloop

from config.embedded import start_redis
from gateway.limits import Limiter, Limits

ROUNDS = 5000
SCOPES = [Limits("key:1", rpm=10**9, tpm=10**12), Limits("org:1", rpm=10**9, tpm=10**12, budget_micros=10**15)]


async def _measure(url: str) -> dict[str, float]:
    limiter = Limiter(url, prefix=f"bench-{uuid.uuid4().hex}")
    for _ in range(200):
        await limiter.check(SCOPES, 100)
    checks, settles = [], []
    cpu = time.process_time()
    for _ in range(ROUNDS):
        started = time.perf_counter()
        await limiter.check(SCOPES, 100)
        checks.append(time.perf_counter() - started)
        started = time.perf_counter()
        await limiter.settle(SCOPES, 100, 80, 1500)
        settles.append(time.perf_counter() - started)
    cpu_per_request = (time.process_time() - cpu) / ROUNDS
    await limiter.aclose()
    checks.sort()
    return {
        "check p50 ms": statistics.median(checks) * 1000,
        "check p99 ms": checks[int(len(checks) * 0.99)] * 1000,
        "settle p50 ms (after the answer)": statistics.median(settles) * 1000,
        "client CPU per request (check + settle) ms": cpu_per_request * 1000,
    }


def main() -> None:
    url = os.environ.get("REDIS_URL")
    embedded = None
    if not url:
        embedded = start_redis(Path(tempfile.mkdtemp(prefix="gw-bench-redis-")), throwaway=True)
        url = embedded.url
    try:
        results = uvloop.run(_measure(url))
    finally:
        if embedded is not None:
            embedded.stop()
    print("| limiter, 2 scopes (key + org, with budget) | value |\n|---|---|")
    for name, value in results.items():
        print(f"| {name} | {value:.3f} |")


if __name__ == "__main__":
    main()

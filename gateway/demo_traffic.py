"""Demo mode's traffic: a steady trickle of requests so failover and the dashboard show up.

Run by ./gw up when no GATEWAY_CONFIG is given: ``python -m gateway.demo_traffic BASE_URL``.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sys
import time

import httpx
import contextlib

REQUESTS_PER_SECOND = 4.0
SUMMARY_EVERY = 60.0


async def _one(client: httpx.AsyncClient, stream: bool, tally: dict[str, int]) -> None:
    body = {
        "model": random.choice(["gpt-4o-mini", "gpt-4o-mini", "llama-3.3-70b"]),
        "messages": [{"role": "user", "content": "Say hello from the demo."}],
        "stream": stream,
    }
    try:
        async with client.stream("POST", "/v1/chat/completions", json=body) as response:
            await response.aread()
    except httpx.HTTPError:
        tally["errors"] += 1
        return
    tally["requests"] += 1
    if response.status_code != 200:
        tally["errors"] += 1
    elif int(response.headers.get("x-gateway-attempts", "1")) > 1:
        tally["rescued"] += 1


async def run(base_url: str, key: str) -> None:
    tally = {"requests": 0, "errors": 0, "rescued": 0}
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    headers = {"authorization": f"Bearer {key}"}
    last_summary = time.monotonic()
    async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=60) as client:
        pending: set[asyncio.Task[None]] = set()
        while not stop.is_set():
            task = asyncio.create_task(_one(client, random.random() < 0.5, tally))
            pending.add(task)
            task.add_done_callback(pending.discard)
            if time.monotonic() - last_summary > SUMMARY_EVERY:
                last_summary = time.monotonic()
                print(
                    f"demo traffic: {tally['requests']} requests, {tally['rescued']} rescued by failover, "
                    f"{tally['errors']} errors",
                    flush=True,
                )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=random.expovariate(REQUESTS_PER_SECOND))
        if pending:
            await asyncio.wait(pending, timeout=10)


def main() -> None:
    key = os.environ.get("GW_DEMO_TRAFFIC_KEY", "")
    if len(sys.argv) != 2 or not key:
        sys.exit("usage: GW_DEMO_TRAFFIC_KEY=... python -m gateway.demo_traffic BASE_URL")
    asyncio.run(run(sys.argv[1], key))


if __name__ == "__main__":
    main()

"""Client-side CPU of one streamed upstream call, by HTTP client stack (the README's transport table).

Runs the simulator on the load core and this measuring client alone on the server core:
    .venv/bin/python -m benchmarks.transport_choice
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import warnings
from collections.abc import Awaitable, Callable

import aiohttp
import httpx
import orjson
import uvloop

from benchmarks.procs import LOAD_CORE, SERVER_CORE, free_port, pinned, pinning_available
from gateway.upstream.transport import AiohttpTransport

CALLS, CONCURRENCY, WARMUP = 6000, 64, 300
BODY = orjson.dumps({"model": "bench", "stream": True, "messages": [{"role": "user", "content": "hello"}]})
HEADERS = {"content-type": "application/json", "authorization": "Bearer bench"}


async def _rate(one: Callable[[], Awaitable[None]]) -> float:
    gate = asyncio.Semaphore(CONCURRENCY)

    async def guarded() -> None:
        async with gate:
            await one()

    for _ in range(WARMUP):
        await one()
    started = time.perf_counter()
    await asyncio.gather(*(guarded() for _ in range(CALLS)))
    return CALLS / (time.perf_counter() - started)


async def _measure(url: str) -> dict[str, float]:
    results: dict[str, float] = {}
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))

    async def raw() -> None:
        async with session.post(url, data=BODY, headers=HEADERS) as response:
            async for _ in response.content.iter_any():
                pass

    results["raw aiohttp"] = await _rate(raw)
    transport = AiohttpTransport()

    async def direct() -> None:
        response = await transport.handle_async_request(httpx.Request("POST", url, headers=HEADERS, content=BODY))
        async for _ in response.stream:  # type: ignore[union-attr]
            pass
        await response.stream.aclose()  # type: ignore[union-attr]

    results["httpx.Request -> our aiohttp transport, called directly"] = await _rate(direct)
    for label, client in _clients():
        results[label] = await _rate(_via_client(client, url))
        await client.aclose()
    await session.close()
    await transport.aclose()
    return results


def _clients() -> list[tuple[str, httpx.AsyncClient]]:
    clients = [("httpx.AsyncClient + our aiohttp transport", httpx.AsyncClient(transport=AiohttpTransport()))]
    try:
        from httpx_aiohttp import AiohttpTransport as ThirdParty

        clients.append(("httpx.AsyncClient + httpx-aiohttp", httpx.AsyncClient(transport=ThirdParty())))
    except ImportError:
        pass
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=100)
    clients.append(("plain httpx (httpcore)", httpx.AsyncClient(limits=limits)))
    return clients


def _via_client(client: httpx.AsyncClient, url: str) -> Callable[[], Awaitable[None]]:
    async def call() -> None:
        response = await client.send(client.build_request("POST", url, headers=HEADERS, content=BODY), stream=True)
        async for _ in response.aiter_raw():
            pass
        await response.aclose()

    return call


def main() -> None:
    warnings.simplefilter("ignore", ResourceWarning)
    port = free_port()
    simulator = subprocess.Popen(
        pinned([sys.executable, "-m", "simulator", "--port", str(port)], LOAD_CORE), stdout=subprocess.DEVNULL
    )
    try:
        time.sleep(1.5)
        if pinning_available():
            os.sched_setaffinity(0, {SERVER_CORE})
        results = uvloop.run(_measure(f"http://127.0.0.1:{port}/bench/v1/chat/completions"))
    finally:
        simulator.terminate()
        simulator.wait()
    print("| client stack | streamed calls/s on one core |\n|---|---|")
    for label, rate in results.items():
        print(f"| {label} | {rate:,.0f} |")


if __name__ == "__main__":
    main()

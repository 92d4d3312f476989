"""aiohttp clients for what wrk cannot see: TTFT, first requests after a fault, soak, checks."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson

TIMEOUT = aiohttp.ClientTimeout(total=60)


def chat_body(model: str, *, stream: bool) -> dict[str, Any]:
    return {
        "model": model,
        "messages": [{"role": "user", "content": "Say something short."}],
        "stream": stream,
    }


def _headers(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile, the same definition for every client-side table column."""
    ordered = sorted(values)
    rank = max(1, round(pct / 100 * len(ordered) + 0.4999))
    return ordered[min(rank, len(ordered)) - 1]


def _first_content(line: bytes) -> bool:
    if not line.startswith(b"data:"):
        return False
    payload = line[5:].strip()
    if payload == b"[DONE]":
        return False
    choices = orjson.loads(payload).get("choices") or []
    return any((c.get("delta") or {}).get("content") for c in choices)


async def _stream_once(session: aiohttp.ClientSession, url: str, key: str, model: str) -> tuple[float, bool]:
    """(seconds to the first content chunk, saw [DONE]); the whole stream is always read."""
    started = time.perf_counter()
    ttft: float | None = None
    done = False
    async with session.post(url, data=orjson.dumps(chat_body(model, stream=True)), headers=_headers(key)) as r:
        if r.status != 200:
            raise RuntimeError(f"streamed request got HTTP {r.status}: {(await r.text())[:300]}")
        async for line in r.content:
            if ttft is None and _first_content(line):
                ttft = time.perf_counter() - started
            done = done or line.strip() == b"data: [DONE]"
    if ttft is None:
        raise RuntimeError("stream ended without a content chunk")
    return ttft, done


async def _complete_once(session: aiohttp.ClientSession, url: str, key: str, model: str) -> tuple[int, float, bytes]:
    started = time.perf_counter()
    async with session.post(url, data=orjson.dumps(chat_body(model, stream=False)), headers=_headers(key)) as r:
        body = await r.read()
        return r.status, time.perf_counter() - started, body


async def check(url: str, key: str, model: str) -> None:
    """One plain and one streamed request must both succeed before anything is measured."""
    async with aiohttp.ClientSession(timeout=TIMEOUT) as session:
        status, _, body = await _complete_once(session, url, key, model)
        if status != 200:
            raise RuntimeError(f"HTTP {status}: {body[:300]!r}")
        message = orjson.loads(body)["choices"][0]["message"]
        if not message.get("content"):
            raise RuntimeError(f"empty completion: {body[:300]!r}")
        _, done = await _stream_once(session, url, key, model)
        if not done:
            raise RuntimeError("stream did not end with data: [DONE]")


async def wait_until_serving(url: str, key: str, model: str, alive: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    last = "no answer"
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session:
        while time.monotonic() < deadline:
            if not alive():
                raise RuntimeError("the server exited during start-up")
            try:
                status, _, body = await _complete_once(session, url, key, model)
                if status == 200:
                    return
                last = f"HTTP {status}: {body[:200]!r}"
            except (TimeoutError, aiohttp.ClientError) as exc:
                last = repr(exc)
            await asyncio.sleep(0.25)
    raise RuntimeError(f"not serving after {timeout:.0f} s (last: {last})")


@dataclass
class TtftResult:
    n: int
    p50_ms: float
    p99_ms: float
    mean_ms: float


async def ttft(url: str, key: str, model: str, n: int, warmup: int = 5) -> TtftResult:
    async with aiohttp.ClientSession(timeout=TIMEOUT) as session:
        for _ in range(warmup):
            await _stream_once(session, url, key, model)
        samples = [(await _stream_once(session, url, key, model))[0] * 1000 for _ in range(n)]
    return TtftResult(n, percentile(samples, 50), percentile(samples, 99), sum(samples) / n)


@dataclass
class Probe:
    status: int
    ms: float


async def first_requests(url: str, key: str, model: str, n: int) -> list[Probe]:
    """Sequential requests right after start-up: the failover cost before a breaker opens."""
    async with aiohttp.ClientSession(timeout=TIMEOUT) as session:
        results = [await _complete_once(session, url, key, model) for _ in range(n)]
    return [Probe(status, seconds * 1000) for status, seconds, _ in results]


@dataclass
class SoakSample:
    requests: int
    rss_mb: float | None


async def soak(
    url: str,
    key: str,
    model: str,
    total: int,
    rss: Callable[[], float | None],
    concurrency: int = 32,
) -> tuple[list[SoakSample], int]:
    """Alternate plain and streamed requests; sample RSS every 10 %. Returns (samples, failures)."""
    samples = [SoakSample(0, rss())]
    step = max(1, total // 10)
    sent = finished = failures = 0

    async def one(session: aiohttp.ClientSession, index: int) -> None:
        nonlocal finished, failures
        try:
            if index % 2:
                await _stream_once(session, url, key, model)
            else:
                status, _, _ = await _complete_once(session, url, key, model)
                failures += status != 200
        except (TimeoutError, RuntimeError, aiohttp.ClientError):
            failures += 1
        finished += 1
        if finished % step == 0 or finished == total:
            samples.append(SoakSample(finished, rss()))

    async def lane(session: aiohttp.ClientSession) -> None:
        nonlocal sent
        while sent < total:
            sent += 1
            await one(session, sent)

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(timeout=TIMEOUT, connector=connector) as session:
        await asyncio.gather(*(lane(session) for _ in range(concurrency)))
    return samples, failures

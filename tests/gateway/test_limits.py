"""The Redis limiter: atomic per-minute limits and monthly budgets per key and organisation."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import TypeVar

from django.conf import settings

from gateway.limits import LIMITER_FAILURES, Limiter, Limits, Verdict

T = TypeVar("T")


def run(make: Callable[[Limiter], Awaitable[T]], url: str | None = None, timeout: float | None = None) -> T:
    async def main() -> T:
        options = {} if timeout is None else {"timeout": timeout}
        limiter = Limiter(url or settings.REDIS_URL, prefix=f"test-{uuid.uuid4().hex}", **options)
        try:
            return await make(limiter)
        finally:
            await limiter.aclose()

    return asyncio.run(main())


def test_unlimited_scopes_never_touch_redis() -> None:
    verdict = run(lambda lim: lim.check([Limits("key:1"), Limits("org:1")], 100), url="redis://127.0.0.1:1/0")
    assert verdict.allowed


def test_requests_per_minute_refuse_the_request_over_the_limit() -> None:
    async def scenario(lim: Limiter) -> list[Verdict]:
        return [await lim.check([Limits("key:1", rpm=3)], 10) for _ in range(4)]

    verdicts = run(scenario)
    assert [v.allowed for v in verdicts] == [True, True, True, False]
    assert [v.remaining_requests for v in verdicts[:3]] == [2, 1, 0]
    assert verdicts[3].reason == "requests" and verdicts[3].scope == "key:1"
    assert 0 < verdicts[3].reset_seconds <= 60


def test_the_tightest_scope_wins_and_its_headers_are_reported() -> None:
    async def scenario(lim: Limiter) -> Verdict:
        return await lim.check([Limits("key:1", rpm=100, tpm=1000), Limits("org:1", rpm=5, tpm=50_000)], 200)

    verdict = run(scenario)
    headers = dict(verdict.headers())
    assert headers[b"x-ratelimit-limit-requests"] == b"5"
    assert headers[b"x-ratelimit-remaining-requests"] == b"4"
    assert headers[b"x-ratelimit-limit-tokens"] == b"1000"
    assert headers[b"x-ratelimit-remaining-tokens"] == b"800"


def test_token_estimates_are_corrected_by_actual_usage() -> None:
    async def scenario(lim: Limiter) -> list[bool]:
        scope = [Limits("key:1", tpm=1000)]
        first = await lim.check(scope, 600)
        await lim.settle(scope, first.window, 600, 100, 0)  # the answer used far fewer tokens than estimated
        second = await lim.check(scope, 600)
        third = await lim.check(scope, 600)
        return [first.allowed, second.allowed, third.allowed]

    assert run(scenario) == [True, True, False]


def test_a_spent_budget_refuses_until_next_month() -> None:
    async def scenario(lim: Limiter) -> list[Verdict]:
        scope = [Limits("org:7", budget_micros=1_000_000)]
        first = await lim.check(scope, 10)
        await lim.settle(scope, first.window, 10, 10, 1_000_000)
        return [first, await lim.check(scope, 10)]

    first, second = run(scenario)
    assert first.allowed
    assert not second.allowed and second.reason == "budget" and second.scope == "org:7"


def test_concurrent_checks_never_exceed_the_limit() -> None:
    async def scenario(lim: Limiter) -> int:
        verdicts = await asyncio.gather(*(lim.check([Limits("key:9", rpm=10)], 1) for _ in range(40)))
        return sum(v.allowed for v in verdicts)

    # Atomicity, not speed, is under test: on a loaded machine 40 new connections can miss the
    # 50 ms production timeout, and the limiter would rightly fail open.
    assert run(scenario, timeout=5.0) == 10


def test_unreachable_redis_fails_open_and_is_counted() -> None:
    before = LIMITER_FAILURES._value.get()
    verdict = run(lambda lim: lim.check([Limits("key:1", rpm=1)], 1), url="redis://127.0.0.1:1/0")
    assert verdict.allowed
    assert LIMITER_FAILURES._value.get() == before + 1

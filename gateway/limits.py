"""Rate limits and spend budgets, enforced atomically in Redis on the proxy path.

One EVALSHA per request checks and counts every scope (the key, its organisation) at once, and
only when a scope has a limit. Windows are fixed minutes. Tokens are estimated from the prompt
on the way in and corrected from the provider's usage afterwards. If Redis is unreachable the
gateway serves anyway: its own limiter must never be the reason a client fails.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
from prometheus_client import Counter
from redis.exceptions import NoScriptError, RedisError

log = logging.getLogger(__name__)
WINDOW_SECONDS = 60
REDIS_TIMEOUT = 0.05
SPEND_TTL = 40 * 24 * 3600
# After a failed rebuild of a scope's spend counter, this worker waits this long before the next.
REBUILD_RETRY_SECONDS = 5.0
LIMITER_FAILURES = Counter("gateway_limiter_failures_total", "Limiter checks that failed open because Redis failed")

# KEYS: per scope 3 keys (requests, tokens, month spend). ARGV: estimated tokens, window ttl,
# then per scope: rpm, tpm, budget (micro-USD); 0 means no limit.
# Returns {1, remaining_requests, remaining_tokens, rpm, tpm, missing} for the tightest scope,
# or {0, scope index, what, missing} when a limit would be exceeded; ``missing`` is a bit mask of
# the budgeted scopes whose month spend counter is gone (Redis lost it) and must be rebuilt.
_SCRIPT = """
local estimate = tonumber(ARGV[1])
local ttl = tonumber(ARGV[2])
local scopes = #KEYS / 3
local missing = 0
for i = 1, scopes do
  if tonumber(ARGV[i*3+2]) > 0 and redis.call('EXISTS', KEYS[i*3]) == 0 then
    missing = missing + 2 ^ (i - 1)
  end
end
for i = 1, scopes do
  local rpm, tpm, budget = tonumber(ARGV[i*3]), tonumber(ARGV[i*3+1]), tonumber(ARGV[i*3+2])
  if budget > 0 and tonumber(redis.call('GET', KEYS[i*3]) or '0') >= budget then
    return {0, i, 'budget', missing}
  end
  if rpm > 0 and tonumber(redis.call('GET', KEYS[i*3-2]) or '0') + 1 > rpm then
    return {0, i, 'requests', missing}
  end
  if tpm > 0 and tonumber(redis.call('GET', KEYS[i*3-1]) or '0') + estimate > tpm then
    return {0, i, 'tokens', missing}
  end
end
local best = {1, -1, -1, 0, 0, missing}
for i = 1, scopes do
  local rpm, tpm = tonumber(ARGV[i*3]), tonumber(ARGV[i*3+1])
  if rpm > 0 then
    local used = redis.call('INCR', KEYS[i*3-2])
    if used == 1 then redis.call('EXPIRE', KEYS[i*3-2], ttl) end
    if best[2] < 0 or rpm - used < best[2] then best[2] = rpm - used; best[4] = rpm end
  end
  if tpm > 0 then
    local used = redis.call('INCRBY', KEYS[i*3-1], estimate)
    if used == estimate then redis.call('EXPIRE', KEYS[i*3-1], ttl) end
    if best[3] < 0 or tpm - used < best[3] then best[3] = tpm - used; best[5] = tpm end
  end
end
return best
"""

# KEYS: one month spend counter. ARGV: the spend Postgres recorded (micro-USD), ttl. Never lowers
# the counter: what this worker counted since Redis lost it may not have reached Postgres yet.
_REBUILD_SCRIPT = """
local current = tonumber(redis.call('GET', KEYS[1]) or '-1')
if tonumber(ARGV[1]) > current then
  redis.call('SET', KEYS[1], ARGV[1], 'EX', tonumber(ARGV[2]))
end
return 1
"""

# Month-to-date spend of one scope ("key:<lineage>" or "org:<id>") in micro-USD, from Postgres.
SpendSource = Callable[[str, float], Awaitable[int]]


@dataclass(frozen=True, slots=True)
class Limits:
    """One scope's limits; 0 means unlimited."""

    scope: str  # "key:12" or "org:3"
    rpm: int = 0
    tpm: int = 0
    budget_micros: int = 0

    @property
    def active(self) -> bool:
        return bool(self.rpm or self.tpm or self.budget_micros)


@dataclass(frozen=True, slots=True)
class Verdict:
    allowed: bool
    reason: str = ""  # "requests", "tokens" or "budget" when refused
    scope: str = ""
    rpm: int = 0
    tpm: int = 0
    remaining_requests: int = -1
    remaining_tokens: int = -1
    reset_seconds: float = 0.0
    window: int = 0  # the minute charged, which settle corrects

    def headers(self) -> list[tuple[bytes, bytes]]:
        """OpenAI's x-ratelimit-* headers, for the tightest scope that has a limit."""
        reset = f"{self.reset_seconds:.0f}s".encode()
        headers = []
        if self.rpm:
            headers += [
                (b"x-ratelimit-limit-requests", str(self.rpm).encode()),
                (b"x-ratelimit-remaining-requests", str(max(self.remaining_requests, 0)).encode()),
                (b"x-ratelimit-reset-requests", reset),
            ]
        if self.tpm:
            headers += [
                (b"x-ratelimit-limit-tokens", str(self.tpm).encode()),
                (b"x-ratelimit-remaining-tokens", str(max(self.remaining_tokens, 0)).encode()),
                (b"x-ratelimit-reset-tokens", reset),
            ]
        return headers


ALLOWED = Verdict(allowed=True)


def _window(now: float) -> tuple[int, float]:
    minute = int(now // WINDOW_SECONDS)
    return minute, WINDOW_SECONDS - (now - minute * WINDOW_SECONDS)


def _month(now: float) -> str:
    return time.strftime("%Y%m", time.gmtime(now))


class Limiter:
    def __init__(
        self,
        redis_url: str,
        prefix: str = "gw",
        timeout: float = REDIS_TIMEOUT,
        spend_source: SpendSource | None = None,
    ) -> None:
        self.prefix = prefix
        self.spend_source = spend_source
        self._rebuilding: set[str] = set()
        self._retry_after: dict[str, float] = {}
        self._rebuilds: set[asyncio.Task[None]] = set()
        self._redis = aioredis.Redis.from_url(
            redis_url, socket_timeout=timeout, socket_connect_timeout=timeout, max_connections=64
        )
        self._sha: str | None = None
        self._last_warning = 0.0

    def _keys(self, scopes: list[Limits], now: float) -> list[str]:
        minute, _ = _window(now)
        month = _month(now)
        keys = []
        for limits in scopes:
            base = f"{self.prefix}:rl:{limits.scope}"
            keys += [f"{base}:{minute}:r", f"{base}:{minute}:t", f"{self.prefix}:spend:{limits.scope}:{month}"]
        return keys

    async def check(self, scopes: list[Limits], estimated_tokens: int) -> Verdict:
        active = [s for s in scopes if s.active]
        if not active:
            return ALLOWED
        now = time.time()
        args: list[int] = [estimated_tokens, WINDOW_SECONDS * 2]
        for limits in active:
            args += [limits.rpm, limits.tpm, limits.budget_micros]
        try:
            result = await self._run(self._keys(active, now), args)
        except (RedisError, OSError) as exc:
            self._failed_open(exc)
            return ALLOWED
        minute, reset = _window(now)
        if int(result[-1]):
            self._rebuild_missing(active, int(result[-1]), now)
        if result[0] == 0:
            limits = active[int(result[1]) - 1]
            reason = result[2].decode() if isinstance(result[2], bytes) else str(result[2])
            return Verdict(False, reason, limits.scope, limits.rpm, limits.tpm, 0, 0, reset, minute)
        return Verdict(True, "", "", int(result[3]), int(result[4]), int(result[1]), int(result[2]), reset, minute)

    async def settle(
        self, scopes: list[Limits], window: int, estimated_tokens: int, actual_tokens: int, cost_micros: int
    ) -> None:
        """After the answer: correct the token estimate of the minute that was charged, and add
        the spend to the current month. Never raises."""
        active = [s for s in scopes if s.active]
        if not active:
            return
        month = _month(time.time())
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for limits in active:
                    if limits.tpm and actual_tokens != estimated_tokens:
                        key = f"{self.prefix}:rl:{limits.scope}:{window}:t"
                        pipe.incrby(key, actual_tokens - estimated_tokens)
                        pipe.expire(key, WINDOW_SECONDS * 2)
                    if limits.budget_micros and cost_micros:
                        key = f"{self.prefix}:spend:{limits.scope}:{month}"
                        pipe.incrby(key, cost_micros)
                        pipe.expire(key, SPEND_TTL)
                await pipe.execute()
        except (RedisError, OSError) as exc:
            self._failed_open(exc)

    def _rebuild_missing(self, active: list[Limits], mask: int, now: float) -> None:
        """Redis lost a month spend counter: rebuild it from Postgres, off the request's path."""
        if self.spend_source is None:
            return
        for index, limits in enumerate(active):
            scope = limits.scope
            if not mask & (1 << index) or scope in self._rebuilding or self._retry_after.get(scope, 0.0) > now:
                continue
            self._rebuilding.add(scope)
            task = asyncio.get_running_loop().create_task(self._rebuild(scope, now))
            self._rebuilds.add(task)
            task.add_done_callback(self._rebuilds.discard)

    async def _rebuild(self, scope: str, now: float) -> None:
        assert self.spend_source is not None
        try:
            spent = await self.spend_source(scope, now)
            key = f"{self.prefix}:spend:{scope}:{_month(now)}"
            await self._redis.eval(_REBUILD_SCRIPT, 1, key, spent, SPEND_TTL)
        except Exception as exc:
            # Meanwhile the limiter counts from zero; the next check after the pause tries again.
            self._retry_after[scope] = time.time() + REBUILD_RETRY_SECONDS
            log.warning("limiter: rebuilding the spend of %s failed: %s", scope, exc.__class__.__name__)
        finally:
            self._rebuilding.discard(scope)

    async def _run(self, keys: list[str], args: list[int]) -> list[Any]:
        if self._sha is None:
            self._sha = await self._redis.script_load(_SCRIPT)
        try:
            return await self._redis.evalsha(self._sha, len(keys), *keys, *args)  # type: ignore[no-any-return]
        except NoScriptError:
            # Redis restarted and forgot the script: load it again once.
            self._sha = await self._redis.script_load(_SCRIPT)
            return await self._redis.evalsha(self._sha, len(keys), *keys, *args)  # type: ignore[no-any-return]

    def _failed_open(self, exc: BaseException) -> None:
        LIMITER_FAILURES.inc()
        now = time.monotonic()
        if now - self._last_warning > 10:
            self._last_warning = now
            log.warning("limiter: Redis unavailable, serving without limits: %s", exc.__class__.__name__)

    async def aclose(self) -> None:
        for task in list(self._rebuilds):
            task.cancel()
        await self._redis.aclose()

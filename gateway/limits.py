"""Rate limits and spend budgets, enforced atomically in Redis on the proxy path.

One EVALSHA per request checks and counts every scope (the key, its organisation) at once, and
only when a scope has a limit. Windows are fixed minutes. Tokens are estimated from the prompt
on the way in and corrected from the provider's usage afterwards. If Redis is unreachable the
gateway serves anyway: its own limiter must never be the reason a client fails.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
from prometheus_client import Counter
from redis.exceptions import NoScriptError, RedisError

log = logging.getLogger(__name__)
WINDOW_SECONDS = 60
REDIS_TIMEOUT = 0.05
LIMITER_FAILURES = Counter("gateway_limiter_failures_total", "Limiter checks that failed open because Redis failed")

# KEYS: per scope 3 keys (requests, tokens, month spend). ARGV: estimated tokens, window ttl,
# then per scope: rpm, tpm, budget (micro-USD); 0 means no limit.
# Returns {1, remaining_requests, remaining_tokens, rpm, tpm} for the tightest scope,
# or {0, scope index, what} when a limit would be exceeded.
_SCRIPT = """
local estimate = tonumber(ARGV[1])
local ttl = tonumber(ARGV[2])
local scopes = #KEYS / 3
for i = 1, scopes do
  local rpm, tpm, budget = tonumber(ARGV[i*3]), tonumber(ARGV[i*3+1]), tonumber(ARGV[i*3+2])
  if budget > 0 and tonumber(redis.call('GET', KEYS[i*3]) or '0') >= budget then
    return {0, i, 'budget'}
  end
  if rpm > 0 and tonumber(redis.call('GET', KEYS[i*3-2]) or '0') + 1 > rpm then
    return {0, i, 'requests'}
  end
  if tpm > 0 and tonumber(redis.call('GET', KEYS[i*3-1]) or '0') + estimate > tpm then
    return {0, i, 'tokens'}
  end
end
local best = {1, -1, -1, 0, 0}
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
    def __init__(self, redis_url: str, prefix: str = "gw", timeout: float = REDIS_TIMEOUT) -> None:
        self.prefix = prefix
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
        reset = _window(now)[1]
        if result[0] == 0:
            limits = active[int(result[1]) - 1]
            reason = result[2].decode() if isinstance(result[2], bytes) else str(result[2])
            return Verdict(False, reason, limits.scope, limits.rpm, limits.tpm, 0, 0, reset)
        return Verdict(True, "", "", int(result[3]), int(result[4]), int(result[1]), int(result[2]), reset)

    async def settle(self, scopes: list[Limits], estimated_tokens: int, actual_tokens: int, cost_micros: int) -> None:
        """After the answer: correct the token estimate and add the spend. Never raises."""
        active = [s for s in scopes if s.active]
        if not active:
            return
        now = time.time()
        minute, _ = _window(now)
        month = _month(now)
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for limits in active:
                    if limits.tpm and actual_tokens != estimated_tokens:
                        pipe.incrby(f"{self.prefix}:rl:{limits.scope}:{minute}:t", actual_tokens - estimated_tokens)
                    if limits.budget_micros and cost_micros:
                        key = f"{self.prefix}:spend:{limits.scope}:{month}"
                        pipe.incrby(key, cost_micros)
                        pipe.expire(key, 40 * 24 * 3600)
                await pipe.execute()
        except (RedisError, OSError) as exc:
            self._failed_open(exc)

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
        await self._redis.aclose()

"""Gateway key checks from an in-process cache: no database round trip per request.

A background task polls for changed keys every GATEWAY_KEY_REFRESH_SECONDS (0.5 s by
default), so a revocation reaches every worker within a second.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import psycopg

from accounts.selectors import api_key_by_hash, api_keys_changed_since
from accounts.tokens import KEY_PREFIX, hash_key
from gateway import db
from gateway.limits import Limits

log = logging.getLogger(__name__)
# Rows committed late can carry an updated_at older than the newest row already seen.
OVERLAP = timedelta(seconds=5)
FULL_RELOAD_SECONDS = 60.0
MISS_LOOKUPS_PER_SECOND = 20
NEGATIVE_TTL = 1.0


@dataclass(frozen=True, slots=True)
class KeyInfo:
    id: int
    org_id: int
    prefix: str
    allowed_models: frozenset[str]
    expires_at: float | None
    revoked: bool
    # The key's and its organisation's limits, only those that are set (empty: no limiter call).
    scopes: tuple[Limits, ...] = ()

    def usable(self, now: float) -> bool:
        return not self.revoked and (self.expires_at is None or now < self.expires_at)


def _micros(usd: Decimal | None) -> int:
    return int(usd * 1_000_000) if usd else 0


def _scopes(key_id: int, org_id: int, limits: tuple[Any, ...]) -> tuple[Limits, ...]:
    key_rpm, key_tpm, key_budget, org_rpm, org_tpm, org_budget = limits
    scopes = (
        Limits(f"key:{key_id}", key_rpm or 0, key_tpm or 0, _micros(key_budget)),
        Limits(f"org:{org_id}", org_rpm or 0, org_tpm or 0, _micros(org_budget)),
    )
    return tuple(scope for scope in scopes if scope.active)


def _key_info(row: tuple[Any, ...]) -> tuple[str, KeyInfo, datetime]:
    key_id, org_id, hashed, prefix, allowed, expires_at, revoked_at, updated_at, *limits = row
    info = KeyInfo(
        id=key_id,
        org_id=org_id,
        prefix=prefix,
        allowed_models=frozenset(allowed or ()),
        expires_at=expires_at.timestamp() if expires_at else None,
        revoked=revoked_at is not None,
        scopes=_scopes(key_id, org_id, tuple(limits)),
    )
    return hashed, info, updated_at


class KeyCache:
    def __init__(self, refresh_seconds: float) -> None:
        self.refresh_seconds = refresh_seconds
        self._keys: dict[str, KeyInfo] = {}
        self._watermark: datetime | None = None
        self._misses: dict[str, float] = {}
        self._miss_window = (0.0, 0)
        self._conn: psycopg.AsyncConnection | None = None
        self._task: asyncio.Task[None] | None = None
        self._last_full = 0.0

    async def start(self) -> None:
        try:
            await self._refresh(full=True)
        except (psycopg.Error, OSError) as exc:
            log.warning("key cache: initial load failed, will retry: %s", exc.__class__.__name__)
        self._task = asyncio.create_task(self._loop(), name="key-cache-refresh")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
        if self._conn is not None:
            await self._conn.close()

    def lookup(self, key: str) -> tuple[str, KeyInfo | None]:
        hashed = hash_key(key)
        return hashed, self._keys.get(hashed)

    async def lookup_miss(self, key: str, hashed: str) -> KeyInfo | None:
        """A key not in the cache may be seconds old: one bounded DB look-up, then remembered."""
        now = time.monotonic()
        if not key.startswith(KEY_PREFIX) or self._misses.get(hashed, 0.0) > now or not self._allow_miss(now):
            return None
        try:
            row = await api_key_by_hash(await self._connection(), hashed)
        except (psycopg.Error, OSError):
            return None
        if row is None:
            if len(self._misses) > 10_000:
                self._misses.clear()
            self._misses[hashed] = now + NEGATIVE_TTL
            return None
        hashed, info, _ = _key_info(row)
        self._keys[hashed] = info
        return info

    def _allow_miss(self, now: float) -> bool:
        second, count = self._miss_window
        if int(now) != second:
            self._miss_window = (int(now), 1)
            return True
        self._miss_window = (second, count + 1)
        return count < MISS_LOOKUPS_PER_SECOND

    async def _connection(self) -> psycopg.AsyncConnection:
        if self._conn is None or self._conn.closed or self._conn.broken:
            self._conn = await db.connect()
        return self._conn

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.refresh_seconds)
            try:
                await self._refresh(full=time.monotonic() - self._last_full > FULL_RELOAD_SECONDS)
            except (psycopg.Error, OSError) as exc:
                # Keep serving from the cache we have; a database blip must not fail requests.
                log.warning("key cache: refresh failed: %s", exc.__class__.__name__)
                self._conn = None

    async def _refresh(self, *, full: bool) -> None:
        since = None if full or self._watermark is None else self._watermark - OVERLAP
        rows = await api_keys_changed_since(await self._connection(), since)
        fresh = {} if full else self._keys
        for row in rows:
            hashed, info, updated_at = _key_info(row)
            fresh[hashed] = info
            if self._watermark is None or updated_at > self._watermark:
                self._watermark = updated_at
        if full:
            self._keys = fresh
            self._last_full = time.monotonic()

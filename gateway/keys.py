"""Gateway key checks from an in-process cache: no database round trip per request.

A background task polls for changed keys every GATEWAY_KEY_REFRESH_SECONDS (0.5 s by
default), so a revocation reaches every worker within a second. A deleted key row (its
organisation deleted, say) shows as a drop in the row count, which triggers a full reload at
once rather than at the minute's reload.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import psycopg

from accounts.selectors import (
    KEY_PREFIX,
    api_key_by_hash,
    api_key_count,
    api_keys_changed_since,
    hash_key,
    record_keys_last_used,
)
from gateway.polling import PolledTable, Rows
from gateway.limits import Limits

log = logging.getLogger(__name__)
LAST_USED_FLUSH_SECONDS = 5.0
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
    # Browser origins its organisation allows (docs/cors.md); empty for nearly every key.
    cors_origins: frozenset[str] = frozenset()

    def usable(self, now: float) -> bool:
        return not self.revoked and (self.expires_at is None or now < self.expires_at)


def _micros(usd: Decimal | None) -> int:
    return int(usd * 1_000_000) if usd else 0


def _scopes(lineage: int, org_id: int, limits: tuple[Any, ...]) -> tuple[Limits, ...]:
    key_rpm, key_tpm, key_budget, org_rpm, org_tpm, org_budget = limits
    scopes = (
        # Named after the lineage, so a rotated key keeps counting where its predecessor stopped.
        Limits(f"key:{lineage}", key_rpm or 0, key_tpm or 0, _micros(key_budget)),
        Limits(f"org:{org_id}", org_rpm or 0, org_tpm or 0, _micros(org_budget)),
    )
    return tuple(scope for scope in scopes if scope.active)


def _origins(value: Any) -> frozenset[str]:
    if not value or not isinstance(value, list):
        return frozenset()
    return frozenset(origin for origin in value if isinstance(origin, str))


def _key_info(row: tuple[Any, ...]) -> tuple[str, KeyInfo, datetime]:
    key_id, org_id, hashed, prefix, allowed, expires_at, revoked_at, updated_at, *limits, lineage, origins = row
    info = KeyInfo(
        id=key_id,
        org_id=org_id,
        prefix=prefix,
        allowed_models=frozenset(allowed or ()),
        expires_at=expires_at.timestamp() if expires_at else None,
        revoked=revoked_at is not None,
        scopes=_scopes(lineage, org_id, tuple(limits)),
        cors_origins=_origins(origins),
    )
    return hashed, info, updated_at


class KeyCache(PolledTable):
    name = "key"

    def __init__(self, refresh_seconds: float) -> None:
        super().__init__(self._fetch_keys, refresh_seconds)
        self._keys: dict[str, KeyInfo] = {}
        # Every origin some organisation allows: what a preflight, which carries no key, can be told.
        self.cors_origins: frozenset[str] = frozenset()
        self._deleted_seen = False
        self._misses: dict[str, float] = {}
        self._miss_window = (0.0, 0)
        self._used: dict[int, datetime] = {}
        self._flusher: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await super().start()
        self._flusher = asyncio.create_task(self._flush_loop(), name="key-last-used")

    async def stop(self) -> None:
        if self._flusher is not None:
            self._flusher.cancel()
        await self._flush_used()
        await super().stop()

    async def _fetch_keys(self, conn: psycopg.AsyncConnection, since: datetime | None) -> Rows:
        rows = await api_keys_changed_since(conn, since)
        if since is None:
            return rows
        cached = len(self._keys) + sum(1 for row in rows if row[2] not in self._keys)
        if await api_key_count(conn) < cached:
            # Rows were deleted: only a full load forgets them, and a deleted key must stop working now.
            self._deleted_seen = True
            return await api_keys_changed_since(conn, None)
        return rows

    def apply(self, rows: Rows, *, full: bool) -> datetime | None:
        full, self._deleted_seen = full or self._deleted_seen, False
        fresh = {} if full else self._keys
        newest = None
        origins_moved = full
        for row in rows:
            hashed, info, updated_at = _key_info(row)
            old = fresh.get(hashed)
            origins_moved = origins_moved or info.cors_origins != (old.cors_origins if old else frozenset())
            fresh[hashed] = info
            newest = updated_at if newest is None or updated_at > newest else newest
        self._keys = fresh
        if origins_moved:
            self.cors_origins = frozenset().union(*(info.cors_origins for info in fresh.values()))
        return newest

    def lookup(self, key: str) -> tuple[str, KeyInfo | None]:
        hashed = hash_key(key)
        return hashed, self._keys.get(hashed)

    def mark_used(self, info: KeyInfo) -> None:
        """Remember the use; a background task writes last-used times in batches."""
        self._used[info.id] = datetime.now(UTC)

    async def lookup_miss(self, key: str, hashed: str) -> KeyInfo | None:
        """A key not in the cache may be seconds old: one bounded DB look-up, then remembered."""
        now = time.monotonic()
        if not key.startswith(KEY_PREFIX) or self._misses.get(hashed, 0.0) > now or not self._allow_miss(now):
            return None
        try:
            row = await api_key_by_hash(await self.connection(), hashed)
        except (psycopg.Error, OSError):
            return None
        if row is None:
            if len(self._misses) > 10_000:
                self._misses.clear()
            self._misses[hashed] = now + NEGATIVE_TTL
            return None
        hashed, info, _ = _key_info(row)
        self._keys[hashed] = info
        self.cors_origins |= info.cors_origins
        return info

    def _allow_miss(self, now: float) -> bool:
        second, count = self._miss_window
        if int(now) != second:
            self._miss_window = (int(now), 1)
            return True
        self._miss_window = (second, count + 1)
        return count < MISS_LOOKUPS_PER_SECOND

    async def _flush_loop(self) -> None:
        while True:
            await asyncio.sleep(LAST_USED_FLUSH_SECONDS)
            await self._flush_used()

    async def _flush_used(self) -> None:
        used, self._used = self._used, {}
        if not used:
            return
        try:
            await record_keys_last_used(await self.connection(), used)
        except (psycopg.Error, OSError) as exc:
            # A last-used time is a convenience: keep the newest for the next try, never fail for it.
            log.warning("key cache: last-used update failed: %s", exc.__class__.__name__)
            for key_id, at in used.items():
                self._used.setdefault(key_id, at)

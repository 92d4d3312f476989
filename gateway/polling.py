"""In-process copies of small tables, refreshed by polling for changed rows.

The proxy reads them without any I/O; a background task asks Postgres every fraction of a
second for rows whose ``updated_at`` moved, and reloads everything once a minute to catch
deletions. A database blip leaves the last good copy in place.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

import psycopg

from gateway import db

log = logging.getLogger(__name__)
# Rows committed late can carry an updated_at older than the newest row already seen.
OVERLAP = timedelta(seconds=5)
FULL_RELOAD_SECONDS = 60.0

Rows = list[tuple[Any, ...]]
Fetch = Callable[[psycopg.AsyncConnection, datetime | None], Awaitable[Rows]]


class PolledTable(ABC):
    """Subclasses hold the copy; ``apply`` stores fetched rows and returns their newest updated_at."""

    name = "table"

    def __init__(self, fetch: Fetch, refresh_seconds: float) -> None:
        self._fetch = fetch
        self.refresh_seconds = refresh_seconds
        self._watermark: datetime | None = None
        self._conn: psycopg.AsyncConnection | None = None
        self._task: asyncio.Task[None] | None = None
        self._last_full = 0.0

    @abstractmethod
    def apply(self, rows: Rows, *, full: bool) -> datetime | None: ...

    async def start(self) -> None:
        try:
            await self._refresh(full=True)
        except (psycopg.Error, OSError) as exc:
            log.warning("%s cache: initial load failed, will retry: %s", self.name, exc.__class__.__name__)
        self._task = asyncio.create_task(self._loop(), name=f"{self.name}-cache-refresh")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
        if self._conn is not None:
            await self._conn.close()

    async def connection(self) -> psycopg.AsyncConnection:
        if self._conn is None or self._conn.closed or self._conn.broken:
            self._conn = await db.connect()
        return self._conn

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.refresh_seconds)
            try:
                await self._refresh(full=time.monotonic() - self._last_full > FULL_RELOAD_SECONDS)
            except (psycopg.Error, OSError) as exc:
                # Keep serving from the copy we have; a database blip must not fail requests.
                log.warning("%s cache: refresh failed: %s", self.name, exc.__class__.__name__)
                self._conn = None

    async def _refresh(self, *, full: bool) -> None:
        since = None if full or self._watermark is None else self._watermark - OVERLAP
        newest = self.apply(await self._fetch(await self.connection(), since), full=full)
        if newest is not None and (self._watermark is None or newest > self._watermark):
            self._watermark = newest
        if full:
            self._last_full = time.monotonic()

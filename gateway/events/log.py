"""The event log: attempts and requests become rows, written in batches off the hot path.

Events wait in memory and go to Postgres with COPY every GATEWAY_LOG_FLUSH_SECONDS, both tables in
one transaction. When Postgres is unreachable they stay buffered; at shutdown, or past MAX_BUFFER,
they are spooled to a JSON-lines file that a Celery task loads later (deduplicated by event id). An
accepted request is never dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import psycopg

from gateway import db, metrics
from gateway.events.records import (
    ATTEMPT_COLUMNS,
    ATTEMPT_TABLE,
    REQUEST_COLUMNS,
    REQUEST_TABLE,
    AttemptEvent,
    RequestEvent,
)

log = logging.getLogger(__name__)
MAX_BUFFER = 50_000
_COPY_ATTEMPTS = f"COPY {ATTEMPT_TABLE} ({', '.join(ATTEMPT_COLUMNS)}) FROM STDIN"
_COPY_REQUESTS = f"COPY {REQUEST_TABLE} ({', '.join(REQUEST_COLUMNS)}) FROM STDIN"
Event = AttemptEvent | RequestEvent


def _row(event: Event, columns: list[str]) -> tuple[Any, ...]:
    values = [getattr(event, name) for name in columns]
    values[columns.index("started_at")] = datetime.fromtimestamp(event.started_at, UTC)
    return tuple(values)


def spooled_line(event: Event) -> bytes:
    kind = "request" if isinstance(event, RequestEvent) else "attempt"
    return orjson.dumps({"kind": kind, **asdict(event)}, default=str) + b"\n"


_SPEND_SQL = {
    "org": f"SELECT COALESCE(SUM(cost_usd), 0) FROM {ATTEMPT_TABLE} WHERE org_id = %s AND started_at >= %s",
    # A rotated key keeps its predecessors' spend: the scope is the first key of the chain.
    "key": (
        f"SELECT COALESCE(SUM(a.cost_usd), 0) FROM {ATTEMPT_TABLE} a JOIN accounts_apikey k ON k.id = a.key_id"
        " WHERE COALESCE(k.lineage_id, k.id) = %s AND a.started_at >= %s"
    ),
}


async def month_spend_micros(scope: str, now: float) -> int:
    """What one limiter scope ("org:<id>" or "key:<lineage>") spent this UTC month, in micro-USD."""
    kind, _, ident = scope.partition(":")
    month_start = datetime.fromtimestamp(now, UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    async with await db.connect() as conn, conn.cursor() as cursor:
        await cursor.execute(_SPEND_SQL[kind], (int(ident), month_start))
        row = await cursor.fetchone()
    return round((row[0] if row else 0) * 1_000_000)


class EventLog:
    def __init__(self, *, flush_seconds: float, spool_dir: Path) -> None:
        self.flush_seconds = flush_seconds
        self.spool_dir = spool_dir
        self._buffer: list[Event] = []
        self._conn: psycopg.AsyncConnection | None = None
        self._task: asyncio.Task[None] | None = None
        self._flush_lock = asyncio.Lock()

    def record(self, event: Event) -> None:
        self._buffer.append(event)
        metrics.note(event)
        if len(self._buffer) >= MAX_BUFFER:
            self._spool(self._take())

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="attempt-log-writer")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if not await self.flush():
            self._spool(self._take())
        if self._conn is not None:
            await self._conn.close()

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.flush_seconds)
            await self.flush()

    def _take(self) -> list[Event]:
        batch, self._buffer = self._buffer, []
        return batch

    async def flush(self) -> bool:
        """Write what is buffered; on failure keep what was not written for the next try. True if all written."""
        async with self._flush_lock:
            batch = self._take()
            if not batch:
                return True
            attempts = [e for e in batch if isinstance(e, AttemptEvent)]
            requests = [e for e in batch if isinstance(e, RequestEvent)]
            # One table per statement, each committed on its own: a retry never repeats a written
            # row, and no transaction holds one table while waiting for the other.
            for events, sql, columns in (
                (attempts, _COPY_ATTEMPTS, ATTEMPT_COLUMNS),
                (requests, _COPY_REQUESTS, REQUEST_COLUMNS),
            ):
                if not events:
                    continue
                try:
                    await self._copy(sql, columns, events)
                except (psycopg.Error, OSError) as exc:
                    left: list[Event] = [*events] if events is requests else [*attempts, *requests]
                    log.warning("event log: %d events kept for retry: %s", len(left), exc.__class__.__name__)
                    self._conn = None
                    self._buffer[:0] = left
                    return False
            return True

    async def _copy(self, sql: str, columns: list[str], events: list[Any]) -> None:
        if self._conn is None or self._conn.closed or self._conn.broken:
            self._conn = await db.connect()
        async with self._conn.cursor() as cursor, cursor.copy(sql) as copy:
            for event in events:
                await copy.write_row(_row(event, columns))

    def _spool(self, batch: list[Event]) -> None:
        if not batch:
            return
        self.spool_dir.mkdir(parents=True, exist_ok=True)
        name = f"events-{os.getpid()}-{time.time_ns()}.jsonl"
        temporary = self.spool_dir / f".{name}.tmp"
        with temporary.open("wb") as handle:
            for event in batch:
                handle.write(spooled_line(event))
            handle.flush()
            os.fsync(handle.fileno())
        # Rename last, so the loader never sees a half-written file.
        temporary.rename(self.spool_dir / name)
        log.warning("event log: spooled %d events to %s", len(batch), name)

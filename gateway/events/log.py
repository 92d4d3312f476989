"""The event log: attempts and requests become rows, written in batches off the hot path.

``record`` keeps each event in memory and appends its line to the worker's current segment file
(gateway.events.spool) before returning, so a request's events are on disk before it is answered.
Every GATEWAY_LOG_FLUSH_SECONDS the writer rotates the segment and loads the batch (gateway.events.
store: deduplicated by event id, both tables in one transaction); only after the commit does it
remove the rotated segments. While Postgres is unreachable the batch stays buffered and retried,
up to GATEWAY_LOG_MAX_BUFFER events: past that, and at a shutdown without Postgres, the segments are handed to
the Celery loader and the memory freed. See README, "Event pipeline".
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from gateway import db, metrics
from gateway.events import store
from gateway.events.records import ATTEMPT_TABLE, AttemptEvent, RequestEvent
from gateway.events.spool import SEGMENT_BYTES, Segment, line

log = logging.getLogger(__name__)
MAX_BUFFER = 50_000  # about 10 s of 2,500 requests/s per worker, ~25 MB
MAX_RETRY_SECONDS = 1.0  # the longest wait between two tries while Postgres is unreachable
LOAD_TIMEOUT_SECONDS = 30.0  # a load that hangs (a stalled server) is abandoned and retried
Event = AttemptEvent | RequestEvent


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
    def __init__(self, *, flush_seconds: float, spool_dir: Path, max_buffer: int = MAX_BUFFER) -> None:
        self.flush_seconds = flush_seconds
        self.spool_dir = spool_dir
        self.max_buffer = max_buffer
        # Invariant: the events of _buffer are exactly those in _closed and _segment; a batch
        # being loaded has its own segments, held by flush() until its commit.
        self._buffer: list[bytes] = []  # the batch's events, as their lines
        self._segment: Segment | None = None
        self._closed: list[Segment] = []
        self._conn: psycopg.AsyncConnection | None = None
        self._task: asyncio.Task[None] | None = None
        self._flush_lock = asyncio.Lock()

    def record(self, event: Event) -> None:
        """The one entry point of every event: in memory, and on disk before returning (a request
        is recorded before its answer's last byte is sent, its attempts before it)."""
        data = line(event)
        self._buffer.append(data)
        metrics.note(event)
        segment = self._segment
        if segment is None or not segment.append(data):
            self._write_to_new_segment(data)
        if len(self._buffer) >= self.max_buffer:
            self._hand_off()

    def _write_to_new_segment(self, data: bytes) -> None:
        self._rotate()
        try:
            self._segment = Segment(self.spool_dir, max(SEGMENT_BYTES, len(data)))
        except OSError as exc:
            # Disk full or unwritable: answer anyway, the event still goes to Postgres from memory.
            log.error("event log: cannot write to %s: %s", self.spool_dir, exc)
            return
        self._segment.append(data)

    def _rotate(self) -> None:
        if self._segment is not None:
            self._segment.seal()
            self._closed.append(self._segment)
            self._segment = None

    def _hand_off(self) -> None:
        """Free the memory: what is buffered stays on disk, for the Celery loader to take."""
        self._rotate()
        for segment in self._closed:
            segment.release()
        log.warning("event log: %d events handed to the spool loader", len(self._buffer))
        self._closed, self._buffer = [], []

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="attempt-log-writer")

    async def stop(self) -> None:
        if self._task is not None:
            # Never mid-load: between two flushes, the writer holds nothing of its own.
            async with self._flush_lock:
                self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if not await self.flush():
            self._hand_off()
        if self._conn is not None:
            await self._conn.close()

    async def _loop(self) -> None:
        wait = self.flush_seconds
        while True:
            await asyncio.sleep(wait)
            written = await self.flush()
            wait = self.flush_seconds if written else min(max(wait, self.flush_seconds) * 2, MAX_RETRY_SECONDS)

    async def flush(self) -> bool:
        """Load what is buffered, then remove its segments; on failure keep both for the next try.
        True if everything was written."""
        async with self._flush_lock:
            self._rotate()
            batch, segments = self._buffer, self._closed
            self._buffer, self._closed = [], []
            if batch:
                try:
                    await self._load(batch)
                except (psycopg.Error, OSError, TimeoutError) as exc:
                    log.warning("event log: %d events kept for retry: %s", len(batch), exc.__class__.__name__)
                    self._buffer[:0], self._closed[:0] = batch, segments
                    await self._drop_connection()
                    if len(self._buffer) >= self.max_buffer:
                        self._hand_off()
                    return False
                except BaseException:
                    # Cancelled, perhaps after the commit: kept all the same, a reload is deduplicated.
                    self._buffer[:0], self._closed[:0] = batch, segments
                    self._abandon_connection()
                    raise
            for segment in segments:
                segment.discard()
            return True

    async def _load(self, batch: list[bytes]) -> None:
        data = store.copy_data(batch)
        async with asyncio.timeout(LOAD_TIMEOUT_SECONDS):
            if self._conn is None or self._conn.closed or self._conn.broken:
                self._conn = await db.connect()
            async with self._conn.transaction(), self._conn.cursor() as cursor:
                await store.load_async(cursor, data)

    def _abandon_connection(self) -> None:
        """Close at once, without awaiting: a load cut off mid-COPY leaves its transaction open, and
        its locks would block every TRUNCATE and DDL on the tables until the server saw the socket close."""
        conn, self._conn = self._conn, None
        if conn is not None and not conn.closed:
            conn.pgconn.finish()

    async def _drop_connection(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                await conn.close()

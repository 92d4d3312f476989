"""The attempt log: every upstream attempt becomes an event, written in batches off the hot path.

Events wait in memory and go to Postgres with COPY every GATEWAY_LOG_FLUSH_SECONDS. When
Postgres is unreachable they stay buffered; at shutdown, or past MAX_BUFFER, they are spooled
to a JSON-lines file that a Celery task loads later. An accepted request is never dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
import uuid
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import psycopg

from gateway import db

log = logging.getLogger(__name__)
MAX_BUFFER = 50_000


@dataclass(slots=True)
class AttemptEvent:
    id: uuid.UUID
    request_id: str
    attempt: int
    started_at: float
    org_id: int | None
    key_id: int | None
    requested_model: str
    model: str
    provider: str
    deployment: str
    stream: bool
    outcome: str
    status_code: int | None
    error: str
    latency_ms: float
    ttft_ms: float | None
    prompt_tokens: int | None
    completion_tokens: int | None
    cached_tokens: int | None
    rescued: bool
    final: bool
    malformed_events: int
    cost_usd: float | None = None  # usage x the serving deployment's price, when both are known


COLUMNS = [f.name for f in fields(AttemptEvent)]
_COPY_SQL = f"COPY gateway_attempt ({', '.join(COLUMNS)}) FROM STDIN"


def _row(event: AttemptEvent) -> tuple[Any, ...]:
    values = [getattr(event, name) for name in COLUMNS]
    values[COLUMNS.index("started_at")] = datetime.fromtimestamp(event.started_at, UTC)
    return tuple(values)


_SPEND_SQL = {
    "org": "SELECT COALESCE(SUM(cost_usd), 0) FROM gateway_attempt WHERE org_id = %s AND started_at >= %s",
    # A rotated key keeps its predecessors' spend: the scope is the first key of the chain.
    "key": (
        "SELECT COALESCE(SUM(a.cost_usd), 0) FROM gateway_attempt a JOIN accounts_apikey k ON k.id = a.key_id"
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


class AttemptLog:
    def __init__(self, *, flush_seconds: float, spool_dir: Path) -> None:
        self.flush_seconds = flush_seconds
        self.spool_dir = spool_dir
        self._buffer: list[AttemptEvent] = []
        self._conn: psycopg.AsyncConnection | None = None
        self._task: asyncio.Task[None] | None = None
        self._flush_lock = asyncio.Lock()

    def record(self, event: AttemptEvent) -> None:
        self._buffer.append(event)
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

    def _take(self) -> list[AttemptEvent]:
        batch, self._buffer = self._buffer, []
        return batch

    async def flush(self) -> bool:
        """Write what is buffered; on failure keep it for the next try. True if all written."""
        async with self._flush_lock:
            batch = self._take()
            if not batch:
                return True
            try:
                await self._copy(batch)
            except (psycopg.Error, OSError) as exc:
                log.warning("attempt log: %d events kept for retry: %s", len(batch), exc.__class__.__name__)
                self._conn = None
                self._buffer[:0] = batch
                return False
            return True

    async def _copy(self, batch: list[AttemptEvent]) -> None:
        if self._conn is None or self._conn.closed or self._conn.broken:
            self._conn = await db.connect()
        async with self._conn.cursor() as cursor:
            async with cursor.copy(_COPY_SQL) as copy:
                for event in batch:
                    await copy.write_row(_row(event))

    def _spool(self, batch: list[AttemptEvent]) -> None:
        if not batch:
            return
        self.spool_dir.mkdir(parents=True, exist_ok=True)
        name = f"attempts-{os.getpid()}-{time.time_ns()}.jsonl"
        temporary = self.spool_dir / f".{name}.tmp"
        with temporary.open("wb") as handle:
            for event in batch:
                handle.write(orjson.dumps(asdict(event), default=str) + b"\n")
            handle.flush()
            os.fsync(handle.fileno())
        # Rename last, so the loader never sees a half-written file.
        temporary.rename(self.spool_dir / name)
        log.warning("attempt log: spooled %d events to %s", len(batch), name)

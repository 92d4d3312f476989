"""Loading events into Postgres exactly once, for both loaders: the gateway's writer (from memory)
and the Celery task (from the segment files a dead writer left).

Both load the events' JSON lines as they are (gateway.events.spool.line): COPYed raw into the
session's staging table, then moved into each table with INSERT ... ON CONFLICT DO NOTHING, in one
transaction. Postgres reads the JSON, so the gateway's worker does no per-row work to load a batch,
and both loaders turn an event's start time into a timestamp the same way. An event loaded twice (a
writer killed between its commit and the unlink of its segment; a segment handed over during an
outage) lands once: its id is part of the primary key, with the time it started.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import psycopg

from gateway.events.records import (
    ATTEMPT_COLUMNS,
    ATTEMPT_TABLE,
    REQUEST_COLUMNS,
    REQUEST_TABLE,
    ROLLUP_BACKLOG_TABLE,
)

_STAGE = "stage_events"
_STARTED_AT = "to_timestamp((s.doc->>'started_at')::float8)"


def _move(table: str, columns: list[str], kind: str) -> str:
    values = ", ".join(_STARTED_AT if name == "started_at" else f"r.{name}" for name in columns)
    return (
        f"INSERT INTO {table} ({', '.join(columns)}) SELECT {values} FROM {_STAGE} s"
        f" CROSS JOIN LATERAL jsonb_populate_record(NULL::{table}, s.doc - 'started_at') r"
        # Lines of releases before request events had no "kind": they are attempts.
        f" WHERE coalesce(s.doc->>'kind', 'attempt') = '{kind}' ON CONFLICT DO NOTHING"
    )


_BEFORE = [
    # Per session, emptied at each commit: no catalog churn per batch.
    f"CREATE TEMP TABLE IF NOT EXISTS {_STAGE} (doc jsonb NOT NULL) ON COMMIT DELETE ROWS",
]
_COPY = f"COPY {_STAGE} (doc) FROM STDIN"
_AFTER = [
    _move(ATTEMPT_TABLE, ATTEMPT_COLUMNS, "attempt"),
    _move(REQUEST_TABLE, REQUEST_COLUMNS, "request"),
    # Events that started over 5 minutes ago (an outage, a dead writer's segment) may have missed
    # their rollup: their span is queued for the next rollup run. 5 minutes is shorter than the
    # rollups' own lateness horizon, so none slips between the two.
    f"INSERT INTO {ROLLUP_BACKLOG_TABLE} (starts_at, ends_at, created_at)"
    f" SELECT min(t), max(t) + interval '1 microsecond', now()"
    f" FROM (SELECT {_STARTED_AT} AS t FROM {_STAGE} s) started HAVING min(t) < now() - interval '5 minutes'",
]


def copy_data(lines: Iterable[bytes]) -> bytes:
    """JSON lines as COPY's text format takes them: JSON escapes every control character, so only
    the backslash, COPY's own escape, needs doubling."""
    return b"".join(lines).replace(b"\\", b"\\\\")


# Without parameters, several statements go to the server as one: a round trip each, not three.
_BEFORE_SQL = "; ".join(_BEFORE)
_AFTER_SQL = "; ".join(_AFTER)


def load(cursor: psycopg.Cursor[Any], data: bytes) -> None:
    """Load ``data`` (from copy_data) in the cursor's transaction (the caller commits)."""
    cursor.execute(_BEFORE_SQL)
    with cursor.copy(_COPY) as copy:
        copy.write(data)
    cursor.execute(_AFTER_SQL)


async def load_async(cursor: psycopg.AsyncCursor[Any], data: bytes) -> None:
    """``load`` for the gateway's async writer."""
    await cursor.execute(_BEFORE_SQL)
    async with cursor.copy(_COPY) as copy:
        await copy.write(data)
    await cursor.execute(_AFTER_SQL)

"""Loading events into Postgres exactly once, for both loaders: the gateway's writer (from memory)
and the Celery task (from the segment files a dead writer left).

Each batch is COPYed into the session's staging tables, then moved with INSERT ... ON CONFLICT DO
NOTHING, both tables in one transaction. An event loaded twice (a writer killed between its commit
and the unlink of its segment; a segment handed over during an outage) lands once: its id is part
of the primary key, with the day it started on.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from gateway.events.records import (
    ATTEMPT_COLUMNS,
    ATTEMPT_TABLE,
    REQUEST_COLUMNS,
    REQUEST_TABLE,
    ROLLUP_BACKLOG_TABLE,
    AttemptEvent,
    RequestEvent,
)

Rows = dict[str, list[tuple[Any, ...]]]  # "attempt"/"request" -> rows in column order
COLUMNS = {"attempt": ATTEMPT_COLUMNS, "request": REQUEST_COLUMNS}
_TABLES = {"attempt": ATTEMPT_TABLE, "request": REQUEST_TABLE}


def _statements(kind: str) -> tuple[str, str, str]:
    table, columns = _TABLES[kind], ", ".join(COLUMNS[kind])
    stage = f"stage_{table}"
    return (
        # Per session, emptied at each commit: no catalog churn per batch.
        f"CREATE TEMP TABLE IF NOT EXISTS {stage} (LIKE {table} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS",
        f"COPY {stage} ({columns}) FROM STDIN",
        f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {stage} ON CONFLICT DO NOTHING",
    )


_SQL = {kind: _statements(kind) for kind in COLUMNS}
_STARTED_AT = {kind: columns.index("started_at") for kind, columns in COLUMNS.items()}


def rows_of_events(events: list[AttemptEvent | RequestEvent]) -> Rows:
    rows: Rows = {"attempt": [], "request": []}
    for event in events:
        kind = "request" if isinstance(event, RequestEvent) else "attempt"
        values = [getattr(event, name) for name in COLUMNS[kind]]
        values[_STARTED_AT[kind]] = datetime.fromtimestamp(event.started_at, UTC)
        rows[kind].append(tuple(values))
    return rows


def add_line(rows: Rows, line: dict[str, Any]) -> None:
    """One spooled line; lines of older releases lack "kind" (attempts) and later columns (null)."""
    kind = line.pop("kind", "attempt")
    line["started_at"] = datetime.fromtimestamp(line["started_at"], UTC)
    rows[kind].append(tuple(line.get(name) for name in COLUMNS[kind]))


def count(rows: Rows) -> int:
    return sum(len(kind_rows) for kind_rows in rows.values())


# Events older than this when loaded (an outage, a dead writer's segment) may have missed their
# rollup: shorter than the rollups' own lateness horizon, so none slips between the two.
LATE_AFTER = timedelta(minutes=5)
_MARK_LATE = f"INSERT INTO {ROLLUP_BACKLOG_TABLE} (starts_at, ends_at, created_at) VALUES (%s, %s, now())"


def late_span(rows: Rows, now: datetime) -> tuple[datetime, datetime] | None:
    """The span of ``rows`` to roll up again, when some are late."""
    times = [row[_STARTED_AT[kind]] for kind, kind_rows in rows.items() for row in kind_rows]
    if not times or min(times) >= now - LATE_AFTER:
        return None
    return min(times), max(times) + timedelta(microseconds=1)


def load(cursor: psycopg.Cursor[Any], rows: Rows) -> None:
    """Load ``rows`` in the cursor's transaction (the caller commits)."""
    if span := late_span(rows, datetime.now(UTC)):
        cursor.execute(_MARK_LATE, span)
    for kind, kind_rows in rows.items():
        if kind_rows:
            create, copy_sql, merge = _SQL[kind]
            cursor.execute(create)
            with cursor.copy(copy_sql) as copy:
                for row in kind_rows:
                    copy.write_row(row)
            cursor.execute(merge)


async def load_async(cursor: psycopg.AsyncCursor[Any], rows: Rows) -> None:
    """``load`` for the gateway's async writer."""
    if span := late_span(rows, datetime.now(UTC)):
        await cursor.execute(_MARK_LATE, span)
    for kind, kind_rows in rows.items():
        if kind_rows:
            create, copy_sql, merge = _SQL[kind]
            await cursor.execute(create)
            async with cursor.copy(copy_sql) as copy:
                for row in kind_rows:
                    await copy.write_row(row)
            await cursor.execute(merge)

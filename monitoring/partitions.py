"""Day partitions of the raw traffic tables: made ahead, filled from DEFAULT, dropped when expired.

monitoring_attempt and monitoring_request are RANGE-partitioned on started_at, one partition per
UTC day (``<table>_pYYYYMMDD``), with a DEFAULT partition for rows of a day that has none yet. Rows
are kept RAW_RETENTION_DAYS days, then their whole partition is dropped (the rollups keep the
numbers). Every step is idempotent, and a session advisory lock lets one worker at a time run it.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.db import connection, transaction

from monitoring.models import Attempt, Request

log = logging.getLogger(__name__)
DAYS_AHEAD = 7
TABLES = (Attempt._meta.db_table, Request._meta.db_table)
_LOCK_KEY = 0x6D6F6E5F70617274 % 2**63  # "mon_part": one maintainer at a time
_LOCK_TIMEOUT = "5s"  # a busy table: give up, the next run tries again


@dataclass
class Maintained:
    created: int = 0  # day partitions made
    moved: int = 0  # rows moved out of DEFAULT
    dropped: int = 0  # day partitions dropped
    skipped: bool = False  # another worker holds the lock


def maintain_partitions(*, now: datetime, retention_days: int, days_ahead: int = DAYS_AHEAD) -> Maintained:
    """Give today and the next ``days_ahead`` days a partition, move DEFAULT's rows into theirs, and
    drop the partitions whose every row is older than ``retention_days``."""
    done = Maintained()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [_LOCK_KEY])
        if not _one(cursor):
            return Maintained(skipped=True)
        try:
            for table in TABLES:
                _maintain(table, now=now, retention_days=retention_days, days_ahead=days_ahead, done=done)
        finally:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [_LOCK_KEY])
    if done.created or done.moved or done.dropped:
        log.info(
            "partitions: %d created, %d rows moved from DEFAULT, %d dropped", done.created, done.moved, done.dropped
        )
    return done


def _maintain(table: str, *, now: datetime, retention_days: int, days_ahead: int, done: Maintained) -> None:
    today = now.astimezone(UTC).date()
    # A day's partition is dropped once its end is older than the retention: its rows all are.
    first_kept = (now - timedelta(days=retention_days)).astimezone(UTC).date()
    existing = day_partitions(table)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table}_default WHERE started_at < %s", [_midnight(first_kept)])
    wanted = {today + timedelta(days=n) for n in range(days_ahead + 1)} | _days_in_default(table)
    for day in sorted(d for d in wanted - set(existing) if d >= first_kept):
        done.moved += _add_day(table, day)
        done.created += 1
    for day, name in existing.items():
        if day < first_kept:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(f"SET LOCAL lock_timeout = '{_LOCK_TIMEOUT}'")
                cursor.execute(f"DROP TABLE IF EXISTS {name}")
            done.dropped += 1


def day_partitions(table: str) -> dict[date, str]:
    """The day partitions of ``table``, by day."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
            " WHERE i.inhparent = %s::regclass",
            [table],
        )
        names = [row[0] for row in cursor.fetchall()]
    pattern = re.compile(rf"^{re.escape(table)}_p(\d{{8}})$")
    return {datetime.strptime(m.group(1), "%Y%m%d").date(): name for name in names if (m := pattern.match(name))}


def _days_in_default(table: str) -> set[date]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT DISTINCT (started_at AT TIME ZONE 'UTC')::date FROM {table}_default")
        return {row[0] for row in cursor.fetchall()}


def _add_day(table: str, day: date) -> int:
    """Attach ``day``'s partition, with the rows DEFAULT holds for it; the number of rows moved."""
    name = f"{table}_p{day:%Y%m%d}"
    low, high = _midnight(day), _midnight(day + timedelta(days=1))
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL lock_timeout = '{_LOCK_TIMEOUT}'")
        # No writer may add a row of this day to DEFAULT between the move and the attach.
        cursor.execute(f"LOCK TABLE {table}_default IN ACCESS EXCLUSIVE MODE")
        cursor.execute(f"CREATE TABLE {name} (LIKE {table} INCLUDING DEFAULTS)")
        cursor.execute(
            f"WITH moved AS (DELETE FROM {table}_default WHERE started_at >= %s AND started_at < %s RETURNING *)"
            f" INSERT INTO {name} SELECT * FROM moved",
            [low, high],
        )
        moved = cursor.rowcount
        # Bounds are literals (DDL takes no parameters), made from dates here, never from input.
        cursor.execute(
            f"ALTER TABLE {table} ATTACH PARTITION {name}"
            f" FOR VALUES FROM ('{low.isoformat()}') TO ('{high.isoformat()}')"
        )
    return moved


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def _one(cursor: Any) -> Any:
    row = cursor.fetchone()
    return row[0] if row else None

from __future__ import annotations

import logging
from pathlib import Path

import orjson
from django.db import connection, transaction

from gateway.events import spool, store

log = logging.getLogger(__name__)


def ingest_spooled_events(*, spool_dir: Path) -> int:
    """Load the segment files no live gateway worker holds (its writer died, or handed them over
    during an outage): each in one transaction, then removed. Safe to run twice on the same file,
    beside another loader, or after being killed half-way: each event lands once, by its id.
    The number of events read."""
    loaded = 0
    for path in sorted(spool_dir.glob(f"*{spool.SUFFIX}")) if spool_dir.exists() else []:
        with spool.claim(path) as handle:
            if handle is None:
                continue  # its writer is alive, or another loader has it
            rows = _rows(handle.read(), path)
            with transaction.atomic(), connection.cursor() as cursor:
                store.load(cursor.cursor, rows)
            path.unlink(missing_ok=True)
        loaded += store.count(rows)
    if loaded:
        log.info("loaded %d spooled events", loaded)
    return loaded


def _rows(data: bytes, path: Path) -> store.Rows:
    rows: store.Rows = {"attempt": [], "request": []}
    for number, line in enumerate(data.splitlines(), 1):
        if not line.strip():
            continue
        try:
            store.add_line(rows, orjson.loads(line))
        except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
            # Only the last line of a writer killed mid-write can be cut; its request was not answered.
            log.warning("%s:%d: skipped an unreadable event line (%s)", path.name, number, exc.__class__.__name__)
    return rows

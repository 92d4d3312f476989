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
            lines = _readable_lines(spool.written(handle.read()), path)
            with transaction.atomic(), connection.cursor() as cursor:
                store.load(cursor.cursor, store.copy_data(lines))
            path.unlink(missing_ok=True)
        loaded += len(lines)
    if loaded:
        log.info("loaded %d spooled events", loaded)
    return loaded


def _readable_lines(data: bytes, path: Path) -> list[bytes]:
    lines = []
    for number, line in enumerate(data.splitlines(keepends=True), 1):
        if not line.strip():
            continue
        try:
            orjson.loads(line)
        except orjson.JSONDecodeError:
            # Only the last line of a writer killed mid-write can be cut; its request was not answered.
            log.warning("%s:%d: skipped an unreadable event line", path.name, number)
            continue
        lines.append(line if line.endswith(b"\n") else line + b"\n")
    return lines

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime
from pathlib import Path

import orjson

from gateway.models import Attempt

log = logging.getLogger(__name__)


def ingest_spooled_attempts(*, spool_dir: Path) -> int:
    """Load attempt events that the proxy spooled to disk; safe to run twice on the same file."""
    loaded = 0
    for path in sorted(spool_dir.glob("attempts-*.jsonl")) if spool_dir.exists() else []:
        claimed = path.with_name(f".{path.name}.{os.getpid()}.loading")
        try:
            path.rename(claimed)
        except FileNotFoundError:
            continue  # another worker claimed it
        rows = [orjson.loads(line) for line in claimed.read_bytes().splitlines() if line.strip()]
        for row in rows:
            row["started_at"] = datetime.fromtimestamp(row["started_at"], UTC)
        Attempt.objects.bulk_create([Attempt(**row) for row in rows], ignore_conflicts=True, batch_size=1000)
        claimed.unlink()
        loaded += len(rows)
    if loaded:
        log.info("loaded %d spooled attempt events", loaded)
    return loaded

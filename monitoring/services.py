from __future__ import annotations

import logging
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from monitoring.models import Attempt, Request

log = logging.getLogger(__name__)
_MODELS: dict[str, type[Attempt] | type[Request]] = {"attempt": Attempt, "request": Request}


def ingest_spooled_events(*, spool_dir: Path) -> int:
    """Load the attempt and request events the proxy spooled to disk; safe to run twice on the same
    file, and beside another worker (each event lands once, by its id)."""
    loaded = 0
    for path in sorted(spool_dir.glob("*.jsonl")) if spool_dir.exists() else []:
        claimed = path.with_name(f".{path.name}.{os.getpid()}.loading")
        try:
            path.rename(claimed)
        except FileNotFoundError:
            continue  # another worker claimed it
        rows: dict[str, list[Any]] = {"attempt": [], "request": []}
        for line in claimed.read_bytes().splitlines():
            if line.strip():
                row = orjson.loads(line)
                kind = row.pop("kind", "attempt")  # files spooled before requests were recorded
                row["started_at"] = datetime.fromtimestamp(row["started_at"], UTC)
                rows[kind].append(_MODELS[kind](**row))
        for kind, objects in rows.items():
            _MODELS[kind].objects.bulk_create(objects, ignore_conflicts=True, batch_size=1000)
        claimed.unlink()
        loaded += sum(len(objects) for objects in rows.values())
    if loaded:
        log.info("loaded %d spooled events", loaded)
    return loaded

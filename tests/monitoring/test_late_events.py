"""Events that reach Postgres long after they happened (an outage, a dead writer's segment) are
still counted by the rollups: whichever loader loads them queues their span for the next run."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

from django.utils import timezone

from gateway.events.spool import line
from monitoring import rollups
from monitoring.models import RequestMinute, RollupBacklog, UptimeWindow
from monitoring.services import ingest_spooled_events
from tests.monitoring.event_faults import request_events

HOUR_AGO = time.time() - 3600


def _spool(directory: Path, request_id: str, started_at: float) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"events-9-{request_id}.jsonl").write_bytes(
        b"".join(line(e) for e in request_events(request_id, started_at))
    )


def test_events_loaded_an_hour_late_are_rolled_up_by_the_next_run(transactional_db: None, tmp_path: Path) -> None:
    rollups.roll_up(now=timezone.now())  # the hour was rolled up before its events arrived
    _spool(tmp_path, "late-1", HOUR_AGO)
    assert ingest_spooled_events(spool_dir=tmp_path) == 2
    span = RollupBacklog.objects.get()
    assert span.starts_at == datetime.fromtimestamp(HOUR_AGO, UTC)

    rollups.roll_up(now=timezone.now())
    minute = datetime.fromtimestamp(HOUR_AGO // 60 * 60, UTC)
    assert RequestMinute.objects.get(org_id=1, bucket=minute).requests == 1
    assert UptimeWindow.objects.filter(org_id=1, model="").get().requests == 1
    assert not RollupBacklog.objects.exists()


def test_events_loaded_on_time_queue_nothing(transactional_db: None, tmp_path: Path) -> None:
    _spool(tmp_path, "fresh-1", time.time())
    assert ingest_spooled_events(spool_dir=tmp_path) == 2
    assert not RollupBacklog.objects.exists()

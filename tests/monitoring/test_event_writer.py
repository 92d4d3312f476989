"""The gateway's writer keeps what it could not commit: a load cancelled half-way (a shutdown)
leaves its batch and segments for the next flush."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from gateway.events.log import EventLog
from monitoring.models import Request
from tests.monitoring.event_faults import request_events


def test_a_load_cancelled_half_way_is_loaded_by_the_next_flush(transactional_db: None, tmp_path: Path) -> None:
    log = EventLog(flush_seconds=60, spool_dir=tmp_path)

    async def cancel_a_flush_then_stop() -> None:
        for number in range(5000):
            for event in request_events(f"writer-cancel-{number}"):
                log.record(event)
        flushing = asyncio.create_task(log.flush())
        while log._buffer:  # the batch is taken as the flush starts
            await asyncio.sleep(0)
        await asyncio.sleep(0.01)
        flushing.cancel()
        await asyncio.gather(flushing, return_exceptions=True)
        assert len(log._buffer) == 10_000
        await log.stop()

    asyncio.run(cancel_a_flush_then_stop())
    assert Request.objects.filter(request_id__startswith="writer-cancel-").count() == 5000
    assert not list(tmp_path.iterdir())


def test_a_spool_that_cannot_be_written_still_loads_every_event_from_memory(
    transactional_db: None, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    not_a_directory = tmp_path / "spool"
    not_a_directory.write_bytes(b"")
    log = EventLog(flush_seconds=60, spool_dir=not_a_directory)

    async def record_then_flush() -> bool:
        for number in range(20):
            for event in request_events(f"writer-unwritable-{number}"):
                log.record(event)
        loaded = await log.flush()
        await log.stop()
        return loaded

    assert asyncio.run(record_then_flush())
    assert Request.objects.filter(request_id__startswith="writer-unwritable-").count() == 20
    assert "cannot write to" in caplog.text

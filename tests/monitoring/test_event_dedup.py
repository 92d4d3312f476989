"""Every event lands once, by its id: whichever loader loads it, and however often."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

from gateway.events.log import EventLog
from gateway.events.records import AttemptEvent, RequestEvent
from gateway.events.spool import line, written
from monitoring.models import Attempt, Request
from monitoring.services import ingest_spooled_events
from tests.monitoring.event_faults import request_events


def _events(request_id: str) -> list[AttemptEvent | RequestEvent]:
    return request_events(request_id)


def _segment(directory: Path, name: str, events: list[AttemptEvent | RequestEvent]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_bytes(b"".join(line(event) for event in events))
    return path


def test_a_segment_loaded_twice_gives_one_row_per_event(transactional_db: None, tmp_path: Path) -> None:
    events = _events("dedup-twice-1") + _events("dedup-twice-2")
    segment = _segment(tmp_path, "events-1-1.jsonl", events)
    shutil.copy(segment, tmp_path / "events-1-2.jsonl")  # as if a loader died after its commit
    assert ingest_spooled_events(spool_dir=tmp_path) == 8
    assert Request.objects.filter(request_id__startswith="dedup-twice-").count() == 2
    assert Attempt.objects.filter(request_id__startswith="dedup-twice-").count() == 2
    assert not list(tmp_path.iterdir())


def test_events_the_writer_loaded_are_not_loaded_again_from_its_segment(transactional_db: None, tmp_path: Path) -> None:
    log = EventLog(flush_seconds=60, spool_dir=tmp_path)
    events = _events("dedup-writer-1")

    async def record_and_flush() -> None:
        for event in events:
            log.record(event)
        assert len(list(tmp_path.glob("*.jsonl"))) == 1
        # A copy of the segment, as a writer killed between its commit and its unlink leaves it.
        shutil.copy(next(tmp_path.glob("*.jsonl")), tmp_path / "events-2-2.jsonl")
        assert await log.flush()
        await log.stop()

    asyncio.run(record_and_flush())
    assert ingest_spooled_events(spool_dir=tmp_path) == 2
    assert Request.objects.filter(request_id="dedup-writer-1").count() == 1
    assert Attempt.objects.get(request_id="dedup-writer-1").cost_usd == 0.5
    assert not list(tmp_path.iterdir())


def test_a_live_writers_segment_is_left_to_it(db: None, tmp_path: Path) -> None:
    log = EventLog(flush_seconds=60, spool_dir=tmp_path)
    for event in _events("dedup-live-1"):
        log.record(event)
    assert ingest_spooled_events(spool_dir=tmp_path) == 0
    assert len(list(tmp_path.glob("*.jsonl"))) == 1
    log._hand_off()  # what the writer does when it cannot load them itself
    assert ingest_spooled_events(spool_dir=tmp_path) == 2
    assert Attempt.objects.filter(request_id="dedup-live-1").count() == 1
    assert Request.objects.filter(request_id="dedup-live-1").count() == 1


def test_each_event_is_in_its_segment_when_record_returns(db: None, tmp_path: Path) -> None:
    log = EventLog(flush_seconds=60, spool_dir=tmp_path)
    attempt, request = _events("dedup-pending-1")
    log.record(attempt)
    (segment,) = tmp_path.glob("*.jsonl")
    assert written(segment.read_bytes()) == line(attempt)
    log.record(request)
    assert written(segment.read_bytes()) == line(attempt) + line(request)
    log._hand_off()
    assert segment.read_bytes() == line(attempt) + line(request)  # cut to its lines when let go


def test_a_full_segment_is_followed_by_a_new_one_and_every_event_loads(db: None, tmp_path: Path) -> None:
    log = EventLog(flush_seconds=60, spool_dir=tmp_path)
    events = [event for number in range(3000) for event in _events(f"dedup-full-{number}")]
    for event in events:
        log.record(event)
    segments = sorted(tmp_path.glob("*.jsonl"))
    assert len(segments) > 1
    assert sum(len(written(path.read_bytes())) for path in segments) == sum(len(line(e)) for e in events)
    log._hand_off()
    assert ingest_spooled_events(spool_dir=tmp_path) == 6000
    assert Request.objects.filter(request_id__startswith="dedup-full-").count() == 3000


def test_a_killed_writers_segment_is_read_up_to_its_last_line(db: None, tmp_path: Path) -> None:
    attempt, request = _events("dedup-mapped-1")
    path = tmp_path / "events-7-7.jsonl"
    path.write_bytes(line(attempt) + line(request) + bytes(4096))  # the rest of a 1 MiB map, as left by kill -9
    assert ingest_spooled_events(spool_dir=tmp_path) == 2
    assert Request.objects.filter(request_id="dedup-mapped-1").count() == 1


def test_a_line_cut_by_a_kill_is_skipped_and_the_rest_loaded(db: None, tmp_path: Path) -> None:
    whole = _events("dedup-cut-1")
    path = _segment(tmp_path, "events-3-3.jsonl", whole)
    path.write_bytes(path.read_bytes() + line(_events("dedup-cut-2")[1])[:40])
    assert ingest_spooled_events(spool_dir=tmp_path) == 2
    assert Request.objects.filter(request_id="dedup-cut-1").count() == 1


def test_text_with_escapes_and_unicode_is_loaded_exactly(transactional_db: None, tmp_path: Path) -> None:
    attempt, request = _events("dedup-text-1")
    assert isinstance(attempt, AttemptEvent)
    attempt.error = 'C:\\path\\n "quoted"\ttab\nnewline \\\\ ünïcødé 🚀 \x00'
    log = EventLog(flush_seconds=60, spool_dir=tmp_path)

    async def record_and_flush() -> None:
        log.record(attempt)
        log.record(request)
        assert await log.flush()
        await log.stop()

    asyncio.run(record_and_flush())
    row = Attempt.objects.get(request_id="dedup-text-1")
    assert row.error == attempt.error.replace("\x00", "")
    assert row.started_at.timestamp() == round(attempt.started_at, 6)

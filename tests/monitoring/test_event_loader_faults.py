"""The Celery loader of spooled events: killed with kill -9 half-way, or cut from a restarted Redis,
it still loads every event of every dead writer's segment, once."""

from __future__ import annotations

import time
from pathlib import Path

from config.embedded import start_redis
from gateway.events.spool import line
from monitoring.models import Attempt, Request
from monitoring.services import ingest_spooled_events
from simulator.harness import SimulatorServer
from tests.monitoring.event_faults import (
    CeleryWorker,
    GatewayProcess,
    Load,
    assert_each_answered_once,
    new_key,
    request_events,
)

FILES, REQUESTS_PER_FILE = 10, 2000


def _dead_writers_segments(spool: Path, prefix: str) -> None:
    spool.mkdir(parents=True)
    for number in range(FILES):
        events = [e for n in range(REQUESTS_PER_FILE) for e in request_events(f"{prefix}-{number}-{n}")]
        (spool / f"events-{90000 + number}-1.jsonl").write_bytes(b"".join(line(event) for event in events))


def test_kill_9_of_the_celery_worker_while_it_loads_loses_and_doubles_nothing(
    transactional_db: None, tmp_path: Path
) -> None:
    _dead_writers_segments(tmp_path / "spool", "celery-kill")
    redis = start_redis(tmp_path / "redis", throwaway=True)
    worker = CeleryWorker(tmp_path, redis).start()
    try:
        worker.ingest()
        deadline = time.monotonic() + 60
        while not (loaded := Request.objects.filter(request_id__startswith="celery-kill-").count()):
            assert worker.process is not None and worker.process.poll() is None, "the worker exited"
            assert time.monotonic() < deadline, "the worker never loaded a segment"
            time.sleep(0.02)
        worker.kill()
    finally:
        worker.stop()
        redis.stop()
    total = FILES * REQUESTS_PER_FILE
    assert 0 < loaded < total, "the worker was not killed half-way"
    assert list((tmp_path / "spool").glob("*.jsonl")), "the worker left nothing to load again"
    ingest_spooled_events(spool_dir=tmp_path / "spool")  # the next run of the task
    assert Request.objects.filter(request_id__startswith="celery-kill-").count() == total
    assert (
        Request.objects.filter(request_id__startswith="celery-kill-").values("request_id").distinct().count() == total
    )
    assert Attempt.objects.filter(request_id__startswith="celery-kill-").count() == total
    assert not list((tmp_path / "spool").glob("*.jsonl"))


def test_a_redis_restart_under_load_loses_no_answered_request(
    transactional_db: None, simulator: SimulatorServer, tmp_path: Path
) -> None:
    redis = start_redis(tmp_path / "redis", throwaway=True)
    key = new_key(rpm_limit=10**6)  # every request checks and settles its limits in Redis
    gateway = GatewayProcess(tmp_path, simulator, env={"REDIS_URL": redis.url, "GATEWAY_LOG_FLUSH_SECONDS": "1"})
    worker = CeleryWorker(tmp_path, redis)
    try:
        gateway.start(key)
        worker.start()
        with Load(gateway.url, key) as load:
            load.wait_for(50)
            redis.stop()  # a restart, with nothing persisted: queued tasks are gone too
            time.sleep(1)
            redis = start_redis(tmp_path / "redis", throwaway=True)
            load.wait_for(50)
            gateway.kill_worker()  # so that some events can only reach Postgres through Celery
            load.wait_for(20)  # its successor serves
        gateway.stop()
        assert list(gateway.spool.glob("*.jsonl"))
        worker.ingest()  # through the restarted broker, to the worker that was connected before
        deadline = time.monotonic() + 30
        while list(gateway.spool.glob("*.jsonl")):
            assert time.monotonic() < deadline, "the worker did not load the segments after the restart"
            time.sleep(0.2)
        assert_each_answered_once(load)
    finally:
        gateway.stop()
        worker.stop()
        redis.stop()

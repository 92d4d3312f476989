"""A real Celery worker, fed through the real Redis broker, loads attempt events that a proxy
worker spooled to disk while Postgres was down."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson

from monitoring.models import Attempt
from monitoring.tasks import ingest_spooled_events
from tests.live import database_url

ROOT = Path(__file__).resolve().parents[2]


def _spool(directory: Path, request_id: str) -> None:
    directory.mkdir(parents=True)
    event = {
        "id": "01a21390-0000-7000-8000-000000000001",
        "request_id": request_id,
        "attempt": 1,
        "started_at": time.time(),
        "org_id": 1,
        "key_id": 1,
        "requested_model": "m",
        "model": "m",
        "provider": "p",
        "deployment": "p/m",
        "stream": False,
        "outcome": "ok",
        "status_code": None,
        "error": "",
        "latency_ms": 1.0,
        "ttft_ms": 1.0,
        "prompt_tokens": 1,
        "completion_tokens": 1,
        "cached_tokens": None,
        "rescued": False,
        "final": True,
        "malformed_events": 0,
    }
    (directory / "attempts-1-1.jsonl").write_bytes(orjson.dumps(event) + b"\n")


def test_a_worker_ingests_spooled_attempts(tmp_path: Path, transactional_db: None) -> None:
    _spool(tmp_path / "spool", "spooled-by-a-crashed-proxy")
    env = {**os.environ, "DATABASE_URL": database_url(), "DATA_DIR": str(tmp_path)}
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "solo", "--loglevel", "WARNING"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        ingest_spooled_events.delay()
        deadline = time.monotonic() + 30
        while not Attempt.objects.filter(request_id="spooled-by-a-crashed-proxy").exists():
            assert worker.poll() is None, "the worker exited"
            assert time.monotonic() < deadline, "the worker never loaded the spooled events"
            time.sleep(0.2)
        assert not list((tmp_path / "spool").glob("*.jsonl"))
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=30)

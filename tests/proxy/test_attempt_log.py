"""Every upstream attempt becomes one event; a rescued request shows its failed attempts."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx

from gateway.events.log import EventLog
from gateway.events.records import AttemptEvent
from gateway.ids import uuid7 as new_event_id
from monitoring.models import Attempt
from monitoring.services import ingest_spooled_events
from tests.proxy.conftest import LiveGateway, hi


def test_rescued_request_logs_the_failed_and_the_rescuing_attempt(gw: LiveGateway) -> None:
    gw.sim.set_fault("sim-a", status=503)
    response = gw.post(hi(), **{"x-request-id": "log-rescued-1"})
    rows = gw.attempts_logged("log-rescued-1", 2)
    assert [(r.provider, r.outcome, r.status_code, r.rescued, r.final) for r in rows] == [
        ("sim-a", "server_error", 503, False, False),
        ("sim-b", "ok", None, True, True),
    ]
    final = rows[1]
    assert final.org_id is not None and final.key_id is not None
    assert final.completion_tokens == response.json()["usage"]["completion_tokens"]
    assert final.ttft_ms is not None and final.latency_ms >= final.ttft_ms


def test_client_disconnect_mid_stream_cancels_the_attempt_at_once(gw: LiveGateway) -> None:
    gw.sim.set_fault("sim-a", inter_token=0.2, tokens=100)
    headers = {"authorization": f"Bearer {gw.key}", "x-request-id": "log-disconnect-1"}
    with httpx.stream(
        "POST", f"{gw.url}/v1/chat/completions", json=hi(stream=True), headers=headers, timeout=10
    ) as response:
        for _ in response.iter_raw():
            break
    rows = gw.attempts_logged("log-disconnect-1", 1)
    assert rows[0].outcome == "client_disconnected"
    assert rows[0].latency_ms < 3000  # the full answer would take 20 s


def _event(request_id: str) -> AttemptEvent:
    return AttemptEvent(
        id=new_event_id(),
        request_id=request_id,
        attempt=1,
        started_at=time.time(),
        org_id=1,
        key_id=1,
        requested_model="chat",
        model="chat",
        provider="p",
        deployment="p/chat",
        stream=False,
        outcome="ok",
        status_code=None,
        error="",
        latency_ms=1.0,
        ttft_ms=1.0,
        prompt_tokens=1,
        completion_tokens=1,
        cached_tokens=None,
        rescued=False,
        final=True,
        malformed_events=0,
    )


def test_events_are_spooled_when_postgres_is_down_and_loaded_later(db: None, tmp_path: Path, settings: object) -> None:
    log = EventLog(flush_seconds=60, spool_dir=tmp_path)

    async def shutdown_without_database() -> None:
        from gateway import db as gateway_db

        original = gateway_db.conninfo
        gateway_db.conninfo = lambda: "host=127.0.0.1 port=1 dbname=nothing connect_timeout=1"  # type: ignore[assignment]
        try:
            log.record(_event("spooled-1"))
            log.record(_event("spooled-2"))
            await log.stop()
        finally:
            gateway_db.conninfo = original  # type: ignore[assignment]

    asyncio.run(shutdown_without_database())
    assert len(list(tmp_path.glob("events-*.jsonl"))) == 1
    assert ingest_spooled_events(spool_dir=tmp_path) == 2
    assert ingest_spooled_events(spool_dir=tmp_path) == 0
    assert set(Attempt.objects.values_list("request_id", flat=True)) >= {"spooled-1", "spooled-2"}

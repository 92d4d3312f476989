"""GET /metrics: its bearer token, and what it reads at scrape time (deployment state, spool backlog)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families
from pytest_django.fixtures import Settings as SettingsWrapper

from gateway import metrics
from monitoring.models import DeploymentStateChange

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "metrics-token-for-tests-0123456789"


def _scrape(client: Client) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


@pytest.fixture
def token(settings: SettingsWrapper, tmp_path: Path) -> str:
    settings.METRICS_TOKEN = TOKEN
    settings.GATEWAY_SPOOL_DIR = tmp_path / "spool"
    return TOKEN


def test_without_metrics_token_the_endpoint_does_not_exist(settings: SettingsWrapper, client: Client) -> None:
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 404


def test_a_missing_or_wrong_token_gets_401_and_no_metrics(token: str, client: Client, db: None) -> None:
    for header in ({}, {"HTTP_AUTHORIZATION": "Bearer wrong-token"}, {"HTTP_AUTHORIZATION": token}):
        response = client.get("/metrics", **header)
        assert response.status_code == 401
        assert response["WWW-Authenticate"] == "Bearer"
        assert b"gateway_" not in response.content
    right = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert right.status_code == 200
    assert right["Content-Type"].startswith("text/plain; version=0.0.4")


def test_a_short_metrics_token_stops_startup_with_one_line() -> None:
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={**os.environ, "METRICS_TOKEN": "short"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "METRICS_TOKEN is shorter than 16 characters" in result.stderr
    assert "Traceback" not in result.stderr


def test_deployment_state_is_the_latest_change_of_each_deployment(token: str, client: Client, db: None) -> None:
    def change(deployment: str, at: datetime, old: str, new: str) -> None:
        DeploymentStateChange.objects.create(deployment=deployment, provider="p1", at=at, old=old, new=new)

    change("p1/a", datetime(2026, 3, 1, 10, tzinfo=UTC), "unknown", "up")
    change("p1/a", datetime(2026, 3, 1, 11, tzinfo=UTC), "up", "down")
    change("p1/b", datetime(2026, 3, 1, 9, tzinfo=UTC), "unknown", "degraded")
    scraped = _scrape(client)

    def state(deployment: str, name: str) -> float:
        labels = (("deployment", deployment), ("provider", "p1"), ("state", name))
        return scraped[("gateway_deployment_state", labels)]

    assert [state("p1/a", s) for s in ("up", "degraded", "down", "unknown")] == [0, 0, 1, 0]
    assert [state("p1/b", s) for s in ("up", "degraded", "down", "unknown")] == [0, 1, 0, 0]
    since = scraped[("gateway_deployment_state_since_timestamp_seconds", (("deployment", "p1/a"), ("provider", "p1")))]
    assert since == datetime(2026, 3, 1, 11, tzinfo=UTC).timestamp()


def test_spool_backlog_counts_unloaded_files_and_the_age_of_the_oldest(
    token: str, settings: SettingsWrapper, client: Client, db: None
) -> None:
    spool: Path = settings.GATEWAY_SPOOL_DIR
    spool.mkdir(parents=True)
    assert _scrape(client)[("gateway_event_spool_files", ())] == 0
    (spool / "events-1-1.jsonl").write_bytes(b"x" * 100)
    (spool / "events-2-2.jsonl").write_bytes(b"y" * 50)
    (spool / ".events-3-3.jsonl.tmp").write_bytes(b"half-written, not yet backlog")
    now = time.time()
    os.utime(spool / "events-1-1.jsonl", (now - 120, now - 120))
    scraped = _scrape(client)
    assert scraped[("gateway_event_spool_files", ())] == 2
    assert scraped[("gateway_event_spool_bytes", ())] == 150
    assert 120 <= scraped[("gateway_event_spool_lag_seconds", ())] < 150


def test_breaker_opens_cooldowns_and_probes_are_exposed(token: str, client: Client, db: None) -> None:
    before = _scrape(client)
    metrics.note_breaker_open("sim-x/chat")
    metrics.note_cooldown("sim-x/chat", 7.5)
    metrics.note_probe("sim-x", "sim-x/chat", "completion", "ok", 0.0021)
    metrics.note_probe("sim-x", "sim-x/chat", "liveness", "misconfigured", None)
    after = _scrape(client)

    def grew(name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        return after[key] - before.get(key, 0.0)

    assert grew("gateway_breaker_opens_total", deployment="sim-x/chat") == 1
    assert grew("gateway_cooldowns_total", deployment="sim-x/chat") == 1
    assert grew("gateway_cooldown_seconds_total", deployment="sim-x/chat") == 7.5
    until = after[("gateway_cooldown_until_timestamp_seconds", (("deployment", "sim-x/chat"),))]
    assert time.time() < until <= time.time() + 7.5
    assert grew("gateway_probes_total", provider="sim-x", deployment="sim-x/chat", kind="completion", result="ok") == 1
    assert grew("gateway_probe_cost_usd_total", provider="sim-x", deployment="sim-x/chat", kind="completion") == (
        pytest.approx(0.0021)
    )
    probe = dict(provider="sim-x", deployment="sim-x/chat", kind="liveness", result="misconfigured")
    assert grew("gateway_probes_total", **probe) == 1

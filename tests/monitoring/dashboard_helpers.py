"""Test data for the dashboard: a gateway config with one model on two deployments, a frozen clock for the
views, and raw traffic rolled up as the minutely job would."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from unittest import mock

import pytest

from gateway.events.outcomes import Outcome
from monitoring import rollups
from tests.monitoring.incident_helpers import state_change
from tests.monitoring.traffic import attempt, request, save

# In the past of the real clock, so that sessions made now are still valid at this "now".
NOW = datetime(2026, 3, 31, 12, 0, tzinfo=UTC)
MODEL = "chat"
PRIMARY = "sim-a/chat"
BACKUP = "sim-b/chat"


def write_config(tmp_path: Path) -> Path:
    config = tmp_path / "gateway.yaml"
    config.write_text(
        "providers:\n"
        "  - {name: sim-a, kind: openai, base_url: 'http://127.0.0.1:9/v1', api_key: sk-sim-a-0001}\n"
        "  - {name: sim-b, kind: openai, base_url: 'http://127.0.0.1:9/v1', api_key: sk-sim-b-0001}\n"
        "models:\n"
        "  - name: chat\n    deployments: [{provider: sim-a, model: chat}, {provider: sim-b, model: chat}]\n"
        "  - name: other\n    deployments: [{provider: sim-b, model: other}]\n"
    )
    return config


@pytest.fixture
def gateway_config(tmp_path: Path, settings: object) -> Path:
    path = write_config(tmp_path)
    settings.GATEWAY_CONFIG = str(path)  # type: ignore[attr-defined]
    return path


@pytest.fixture
def frozen() -> Iterator[datetime]:
    """The pages' clock stopped at NOW (Django's, which the views read)."""
    with mock.patch("django.utils.timezone.now", return_value=NOW):
        yield NOW


def traffic(
    org_id: int, *, start: datetime, minutes: int, failing: set[int] = frozenset(), per_minute: int = 4
) -> None:
    """``per_minute`` requests a minute from ``start``; in the ``failing`` minutes the first attempt fails
    on PRIMARY and BACKUP rescues every other request (the rest fail with a 5xx)."""
    start = start.astimezone(UTC)  # UTC arithmetic: a local time plus minutes is wall-clock time in Python
    rows = []
    for minute in range(minutes):
        at = start + timedelta(minutes=minute)
        for n in range(per_minute):
            moment = at + timedelta(seconds=n * (60 // per_minute))
            latency = 100.0 + 10 * n
            if minute in failing:
                rescued = n % 2 == 0
                outcome = Outcome.OK if rescued else Outcome.SERVER_ERROR
                rows.append(
                    request(
                        moment,
                        org_id=org_id,
                        model=MODEL,
                        outcome=outcome,
                        failovers=1,
                        rescued=rescued,
                        latency_ms=latency,
                        ttft_ms=latency / 2,
                    )
                )
                rows.append(
                    attempt(moment, deployment=PRIMARY, outcome=Outcome.SERVER_ERROR, final=False, org_id=org_id)
                )
                if rescued:
                    rows.append(attempt(moment, deployment=BACKUP, rescued=True, latency_ms=latency, org_id=org_id))
            else:
                rows.append(request(moment, org_id=org_id, model=MODEL, latency_ms=latency, ttft_ms=latency / 2))
                rows.append(attempt(moment, deployment=PRIMARY, latency_ms=latency, org_id=org_id))
    save(*rows)
    rollups.roll_span(start=start, end=start + timedelta(minutes=minutes))


def states(start: datetime) -> None:
    """PRIMARY up from ``start``, down 10 minutes an hour later; BACKUP up throughout."""
    state_change(PRIMARY, start, "unknown", "up")
    state_change(PRIMARY, start + timedelta(hours=1), "up", "down")
    state_change(PRIMARY, start + timedelta(hours=1, minutes=10), "down", "up")
    state_change(BACKUP, start, "unknown", "up")

"""A small history for report tests: January 2026 (UTC), long past, so a report of it is complete whatever
the real clock says (the API and pages read it); services that take ``now`` get ``NOW``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from gateway.events.outcomes import Outcome
from monitoring import rollups
from monitoring.models import DeploymentStateChange, Incident, IncidentScope, IncidentStatus
from tests.monitoring.traffic import attempt, request, save

START = datetime(2026, 1, 1, tzinfo=UTC)
END = datetime(2026, 2, 1, tzinfo=UTC)
NOW = datetime(2026, 2, 3, 12, tzinfo=UTC)


def january(org_id: int, *, deployment: str = "sim-a/chat") -> None:
    """Ten requests every six hours, an hour of failures on 10 January, the deployment down for 20 minutes."""
    rows = []
    at = START
    while at < END:
        rows += [
            request(at + timedelta(seconds=n), org_id=org_id, latency_ms=100.0 + 10 * n, ttft_ms=40.0)
            for n in range(10)
        ]
        rows.append(attempt(at, deployment=deployment))
        at += timedelta(hours=6)
    outage = datetime(2026, 1, 10, 9, tzinfo=UTC)
    rows += [request(outage + timedelta(minutes=m), org_id=org_id, outcome=Outcome.SERVER_ERROR) for m in range(60)]
    rows += [
        request(outage + timedelta(minutes=m, seconds=30), org_id=org_id, rescued=True, failovers=1) for m in range(60)
    ]
    save(*rows)
    rollups.roll_span(start=START, end=END)
    for at, old, new in (
        (START - timedelta(days=1), "unknown", "up"),
        (outage, "up", "down"),
        (outage + timedelta(minutes=20), "down", "up"),
    ):
        DeploymentStateChange.objects.create(deployment=deployment, provider="sim-a", at=at, old=old, new=new)
    Incident.objects.create(
        scope=IncidentScope.ORGANIZATION,
        organization_id=org_id,
        title="errors over 5 %",
        status=IncidentStatus.RESOLVED,
        opened_at=outage,
        resolved_at=outage + timedelta(hours=1),
        affected_requests=60,
        rescued_requests=60,
    )

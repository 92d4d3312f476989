"""Status page test data: a gateway config with two providers, an organisation's traffic through the real
rollups, deployment states and state changes, and incidents opened by the real incident code (whose titles
and timelines name deployments and count requests, which the public page must never show)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from accounts.models import Organization
from gateway.events.outcomes import Outcome
from monitoring import incidents, rollups
from monitoring.models import DeploymentStatus, Probe
from statuspage.models import StatusComponent, StatusPage
from tests.monitoring.incident_helpers import routed, state_change
from tests.monitoring.traffic import request, save

# Far from the real clock, so rows other tests commit at the real time never fall in the 90 days.
NOW = datetime(2031, 3, 10, 12, 0, tzinfo=UTC)
AZURE, OPENAI = "northwind-azure", "contoso-openai"
AZURE_4O, OPENAI_4O, OPENAI_EMBED = f"{AZURE}/gpt-4o", f"{OPENAI}/gpt-4o", f"{OPENAI}/embed-small"
PROVIDER_SECRET = "sk-northwind-provider-secret-0001"
SLUG = "Qw3rty-Status-Page-Slug0"


def write_config(directory: Path) -> Path:
    path = directory / "statuspage-gateway.yaml"
    path.write_text(
        "providers:\n"
        f"  - {{name: {AZURE}, kind: openai, base_url: 'https://northwind.internal.example/v1', "
        f"api_key: {PROVIDER_SECRET}}}\n"
        f"  - {{name: {OPENAI}, kind: openai, base_url: 'https://contoso.internal.example/v1', api_key: sk-c-0002}}\n"
        "models:\n"
        "  - name: gpt-4o\n"
        f"    deployments: [{{provider: {AZURE}, model: gpt-4o}}, {{provider: {OPENAI}, model: gpt-4o}}]\n"
        f"  - name: embed-small\n    deployments: [{{provider: {OPENAI}, model: embed-small}}]\n"
    )
    return path


def page(org: Organization, *components: tuple[str, str, str], enabled: bool = True, **extra: object) -> StatusPage:
    """A page with (kind, target, public name) components, in that order."""
    status_page = StatusPage.objects.create(organization=org, enabled=enabled, slug=SLUG, title="Acme status", **extra)
    StatusComponent.objects.bulk_create(
        StatusComponent(page=status_page, kind=kind, target=target, name=name, position=n)
        for n, (kind, target, name) in enumerate(components)
    )
    return status_page


def states(by_deployment: dict[str, str], *, since: datetime = NOW - timedelta(hours=2)) -> None:
    """Each deployment's state now."""
    for deployment, state in by_deployment.items():
        defaults = {"provider": deployment.split("/")[0], "state": state, "since": since, "next_probe_at": NOW}
        DeploymentStatus.objects.update_or_create(deployment=deployment, defaults={**defaults, "reason": state})


def traffic(org: Organization, *, day: datetime, ok: int, failed: int, model: str = "gpt-4o") -> None:
    """``ok`` then ``failed`` requests starting at ``day`` (one a second), rolled up."""
    rows = [request(day + timedelta(seconds=n), org_id=org.pk, model=model) for n in range(ok)]
    rows += [
        request(day + timedelta(seconds=ok + n), org_id=org.pk, model=model, outcome=Outcome.SERVER_ERROR)
        for n in range(failed)
    ]
    save(*rows)
    rollups.roll_span(start=day - timedelta(minutes=5), end=day + timedelta(seconds=ok + failed, minutes=5))


def deployment_incident(org: Organization, deployment: str, *, start: datetime, minutes: int) -> None:
    """The deployment goes down and comes back, as the state machine records it; the incident job opens and
    resolves the incident (the organisation sent a request through it, so it is concerned)."""
    routed(org, start - timedelta(minutes=10), through=deployment)
    state_change(deployment, start - timedelta(days=30), "unknown", "up")
    state_change(deployment, start, "up", "down", "circuit breaker open")
    state_change(deployment, start + timedelta(minutes=minutes), "down", "up", "probes and traffic healthy")
    incidents.process_state_changes()


def organization_incident(org: Organization, *, at: datetime) -> None:
    """10 of 15 requests fail in one window: the organisation's own incident opens (its title and first
    update give the error rate and the counts)."""
    traffic(org, day=at, ok=5, failed=10)
    incidents.evaluate_organizations(now=at + timedelta(minutes=1))


def probe(deployment: str, *, result: str = "ok", at: datetime = NOW) -> None:
    Probe.objects.create(deployment=deployment, provider=deployment.split("/")[0], at=at, kind="liveness",
                         result=result, status=200 if result == "ok" else 503, latency_ms=80.0,
                         detail="" if result == "ok" else "HTTP 503")  # fmt: skip

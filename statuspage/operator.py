"""The operator's page: every provider and deployment, its state now and since when, its last probe, and
its 90-day provider bar (UTC days; the operator's maintenance windows left out, no organisation's)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from monitoring import day_bars, probes, states
from monitoring.day_bars import DayCell
from monitoring.models import DeploymentStatus
from providers.configured import gateway_config
from statuspage import status

UTC_ZONE = ZoneInfo("UTC")
# The operator thinks in deployment states, not in the public page's words.
STATE_LABELS = {status.OPERATIONAL: "Up", status.DEGRADED: "Degraded", status.MAJOR: "Down", status.NO_DATA: "Unknown"}


@dataclass(frozen=True)
class DeploymentRow:
    report: states.DeploymentReport
    status: str
    cells: list[DayCell]


@dataclass(frozen=True)
class ProviderRow:
    name: str
    status: str  # the worst of its deployments
    counts: dict[str, int]  # deployment state -> how many
    deployments: list[DeploymentRow]

    @property
    def status_label(self) -> str:
        return STATE_LABELS[self.status]


def known_deployments() -> dict[str, str]:
    """Every configured deployment (id -> provider), and those no longer configured that still have a state."""
    config = gateway_config()
    known = {d.id: d.provider.name for d in config.deployments()} if config is not None else {}
    known.update(DeploymentStatus.objects.exclude(deployment__in=list(known)).values_list("deployment", "provider"))
    return known


def providers(*, now: datetime) -> list[ProviderRow]:
    first, last = day_bars.last_days(tz=UTC_ZONE, now=now)
    reports = states.deployment_reports(
        deployments=known_deployments(), now=now, shared_state=probes.shared_view(now=time.time())
    )
    bars = day_bars.provider_bars(
        deployments=[r.deployment for r in reports], first=first, last=last, tz=UTC_ZONE, now=now
    )
    by_provider: dict[str, list[DeploymentRow]] = {}
    for report in reports:
        row = DeploymentRow(report, status.deployment_status(report.state), bars[report.deployment])
        by_provider.setdefault(report.provider, []).append(row)
    return [
        ProviderRow(
            name=name,
            status=status.worst(r.status for r in rows),
            counts={state: sum(1 for r in rows if r.report.state == state) for state in states.State},
            deployments=rows,
        )
        for name, rows in sorted(by_provider.items())
    ]

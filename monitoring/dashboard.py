"""Reads for an organisation's uptime dashboard, from rollups, uptime windows and state changes only.

Every figure is one of docs/uptime.md's: effective uptime (``monitoring.uptime``), provider uptime, and
traffic totals (``monitoring.stats``). What is new here is only which of them a page shows together.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import Q, QuerySet

from gateway.conf.domain import resolve_model
from monitoring.incident_selectors import incidents_of
from monitoring.models import DeploymentState, DeploymentStatus, Incident, IncidentScope, IncidentStatus, RequestDay
from monitoring.stats import TrafficStats, request_stats_by_period
from monitoring.uptime import EffectiveUptime, ProviderUptime, effective_uptimes, provider_uptimes
from providers.configured import gateway_config

# The headline's periods, each ending now.
PERIODS = (
    ("24h", "24 h", timedelta(hours=24)),
    ("7d", "7 d", timedelta(days=7)),
    ("30d", "30 d", timedelta(days=30)),
    ("90d", "90 d", timedelta(days=90)),
)


@dataclass(frozen=True)
class DeploymentRow:
    deployment: str
    provider: str
    uptimes: list[ProviderUptime]  # one per period of PERIODS
    state: str  # monitoring.models.DeploymentState; unknown when never evaluated
    since: datetime | None


@dataclass(frozen=True)
class ModelRow:
    model: str
    uptimes: list[EffectiveUptime]
    deployments: list[DeploymentRow]


@dataclass(frozen=True)
class Rescue:
    label: str
    stats: TrafficStats

    @property
    def share(self) -> Decimal | None:
        """Rescued requests as a percentage of all requests (docs/uptime.md, "Dashboard"); None: no request."""
        if not self.stats.requests:
            return None
        return Decimal(self.stats.rescued * 100) / Decimal(self.stats.requests)


@dataclass(frozen=True)
class Headline:
    overall: list[EffectiveUptime]
    models: list[ModelRow]
    rescues: list[Rescue]
    open_incidents: list[Incident]


def models_of(*, organization_id: int) -> list[str]:
    """The models the organisation's clients asked for, as long as rollups keep them (one query). A name a
    client made up with control characters has no page (no URL can carry it) and is left out."""
    models = RequestDay.objects.filter(org_id=organization_id).exclude(model="").values_list("model", flat=True)
    return sorted(name for name in set(models.distinct()) if name.isprintable())


def deployments_by_model(models: list[str]) -> dict[str, list[tuple[str, str]]]:
    """Each model's configured deployments as (deployment, provider); none for a model the config lacks."""
    config = gateway_config()
    result: dict[str, list[tuple[str, str]]] = {}
    for model in models:
        resolved = resolve_model(config, model) if config is not None else None
        if resolved is None:
            result[model] = []
            continue
        served, pinned = resolved
        deployments = [pinned] if pinned is not None else list(served.deployments)
        result[model] = [(d.id, d.provider.name) for d in deployments]
    return result


def deployment_states(deployments: list[str]) -> dict[str, DeploymentStatus]:
    return {s.deployment: s for s in DeploymentStatus.objects.filter(deployment__in=deployments)}


def headline(*, organization_id: int, models: list[str], now: datetime) -> Headline:
    periods = [(now - length, now) for _, _, length in PERIODS]
    by_model = deployments_by_model(models)
    used = sorted({d for pairs in by_model.values() for d, _ in pairs})
    states = deployment_states(used)
    own = provider_uptimes(deployments=used, periods=periods, now=now, organization_id=organization_id) if used else {}
    effective = effective_uptimes(organization_id=organization_id, models=["", *models], periods=periods, now=now)
    rows = []
    for model in models:
        deployment_rows = []
        for deployment, provider in by_model[model]:
            status = states.get(deployment)
            deployment_rows.append(
                DeploymentRow(
                    deployment,
                    provider,
                    own[deployment],
                    status.state if status else DeploymentState.UNKNOWN.value,
                    status.since if status else None,
                )
            )
        rows.append(ModelRow(model, effective[model], deployment_rows))
    return Headline(
        overall=effective[""],
        models=rows,
        rescues=[
            Rescue(label, stats)
            for (_, label, _), stats in zip(
                PERIODS,
                request_stats_by_period(organization_id=organization_id, periods=periods, quantiles=False),
                strict=True,
            )
        ],
        open_incidents=list(incidents_of(organization_id=organization_id).filter(status=IncidentStatus.OPEN)),
    )


def incidents_between(
    *, organization_id: int, start: datetime, end: datetime, deployments: list[str] | None = None
) -> QuerySet[Incident]:
    """The organisation's incidents open at some time of [start, end), or only those of ``deployments``."""
    overlapping = Q(opened_at__lt=end) & (Q(resolved_at__isnull=True) | Q(resolved_at__gt=start))
    incidents = incidents_of(organization_id=organization_id).filter(overlapping)
    if deployments is not None:
        incidents = incidents.filter(scope=IncidentScope.DEPLOYMENT, deployment__in=deployments)
    return incidents

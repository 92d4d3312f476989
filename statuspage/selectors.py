"""Reads for status pages: which models and deployments an organisation uses (what its components may
show), and which deployments serve a model, from the rollups and the gateway config."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from gateway.conf.domain import GatewayConfig, resolve_model
from monitoring.day_bars import BAR_DAYS
from monitoring.models import RequestDay
from statuspage.models import StatusComponent, StatusPage

Kind = StatusComponent.Kind


@dataclass(frozen=True)
class Source:
    """Something a component can show, as the organisation's own members see it (internal names)."""

    kind: str
    target: str
    label: str

    @property
    def value(self) -> str:
        return f"{self.kind}:{self.target}"


def page_of(*, organization_id: int) -> StatusPage | None:
    return StatusPage.objects.filter(organization_id=organization_id).first()


def used_models(*, organization_id: int, now: datetime) -> list[str]:
    """The models the organisation's clients asked for in the last 90 days (from the day rollups)."""
    since = now - timedelta(days=BAR_DAYS)
    rows = RequestDay.objects.filter(org_id=organization_id, bucket__gte=since.replace(hour=0, minute=0, second=0))
    return sorted(set(rows.values_list("model", flat=True).distinct()))


def model_deployments(config: GatewayConfig | None, model: str) -> tuple[str, ...] | None:
    """The deployments that serve ``model`` as a client names it (a pinned "provider/model" is one);
    None when the config cannot say."""
    resolved = resolve_model(config, model) if config is not None else None
    if resolved is None:
        return None
    found, pinned = resolved
    return (pinned.id,) if pinned is not None else tuple(d.id for d in found.deployments)


def sources(*, organization_id: int, config: GatewayConfig | None, now: datetime) -> list[Source]:
    """What a component may show: all models, each model used or configured, and each deployment of them."""
    models = sorted(set(used_models(organization_id=organization_id, now=now)) | set(config.models if config else ()))
    found = [Source(Kind.ALL_MODELS, "", "All models: effective uptime (what your clients saw)")]
    found += [Source(Kind.MODEL, m, f"Model {m}: effective uptime") for m in models]
    deployments: dict[str, str] = {}
    for model in models:
        for deployment in model_deployments(config, model) or ():
            deployments.setdefault(deployment, model)
    providers = {d.id: d.provider.name for d in config.deployments()} if config else {}
    found += [
        Source(Kind.DEPLOYMENT, d, f"Deployment {d} (provider {providers.get(d, '?')}): provider uptime")
        for d in sorted(deployments)
    ]
    return found

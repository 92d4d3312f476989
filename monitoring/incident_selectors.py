"""Reads for incidents and alert settings: what an organisation sees, and the settings it chose."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db.models import Prefetch, Q, QuerySet

from monitoring.models import (
    AlertChannel,
    AlertDelivery,
    Incident,
    IncidentImpact,
    IncidentScope,
    IncidentUpdate,
    MaintenanceChange,
    MaintenanceWindow,
    MonitoringSettings,
)


def settings_by_organization(organization_ids: Iterable[int]) -> dict[int, MonitoringSettings]:
    """Each organisation's settings, the defaults (unsaved) for one that never changed them."""
    ids = set(organization_ids)
    saved = {s.organization_id: s for s in MonitoringSettings.objects.filter(organization_id__in=ids)}
    return {org_id: saved.get(org_id) or MonitoringSettings(organization_id=org_id) for org_id in ids}


def settings_of(organization_id: int) -> MonitoringSettings:
    return settings_by_organization([organization_id])[organization_id]


def incidents_of(*, organization_id: int) -> QuerySet[Incident]:
    """The organisation's own incidents, and those of deployments it uses; each with ``impact`` (its own counts,
    prefetched as a list) and a timeline of the updates it may see (other organisations' notes left out)."""
    visible_updates = IncidentUpdate.objects.filter(
        Q(organization__isnull=True) | Q(organization_id=organization_id)
    ).select_related("author")
    return (
        Incident.objects.filter(
            Q(scope=IncidentScope.ORGANIZATION, organization_id=organization_id)
            | Q(scope=IncidentScope.DEPLOYMENT, impacts__organization_id=organization_id)
        )
        .prefetch_related(
            Prefetch("updates", queryset=visible_updates, to_attr="timeline"),
            Prefetch("impacts", queryset=IncidentImpact.objects.filter(organization_id=organization_id), to_attr="own"),
        )
        .order_by("-opened_at", "-id")
    )


def own_counts(incident: Incident) -> tuple[int, int]:
    """(affected, rescued) requests of the organisation ``incidents_of`` was asked for."""
    own: list[IncidentImpact] = getattr(incident, "own", [])
    if own:
        return own[0].affected_requests, own[0].rescued_requests
    if incident.scope == IncidentScope.ORGANIZATION:
        return incident.affected_requests, incident.rescued_requests
    return 0, 0


def duration(incident: Incident, *, now: datetime) -> timedelta:
    return (incident.resolved_at or now) - incident.opened_at


def channels_of(*, organization_id: int | None) -> QuerySet[AlertChannel]:
    """An organisation's channels; None: the operator's."""
    if organization_id is None:
        return AlertChannel.objects.filter(organization__isnull=True)
    return AlertChannel.objects.filter(organization_id=organization_id)


def recent_deliveries(*, organization_id: int | None, limit: int = 20) -> list[AlertDelivery]:
    channels = channels_of(organization_id=organization_id)
    return list(AlertDelivery.objects.filter(channel__in=channels).select_related("channel")[:limit])


def windows_of(*, organization_id: int | None) -> QuerySet[MaintenanceWindow]:
    """An organisation's windows and the operator's (which apply to it too); None: the operator's only."""
    scope = Q(organization__isnull=True)
    if organization_id is not None:
        scope |= Q(organization_id=organization_id)
    return MaintenanceWindow.objects.filter(scope).select_related("created_by").order_by("-starts_at", "-id")


def maintenance_history(*, organization_id: int | None, limit: int = 50) -> list[MaintenanceChange]:
    query = MaintenanceChange.objects.select_related("actor")
    if organization_id is None:
        query = query.filter(organization__isnull=True)
    else:
        query = query.filter(organization_id=organization_id)
    return list(query[:limit])

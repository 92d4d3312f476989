"""Incidents open and close themselves: a deployment going down (from its state changes, read in order,
once), or an organisation's effective error rate over its threshold. Each transition queues its alerts
in the same transaction."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, OuterRef, Q, Sum

from accounts.models import Organization, User
from gateway.events.records import LOCAL_INBOUNDS
from monitoring import error_rates, incident_messages, maintenance, notify
from monitoring.incident_selectors import settings_by_organization
from monitoring.models import (
    Attempt,
    DeploymentState,
    DeploymentStateChange,
    Incident,
    IncidentImpact,
    IncidentScope,
    IncidentStatus,
    IncidentUpdate,
    MaintenanceWindow,
    Request,
    StateChangeCursor,
)

CURSOR = "incidents"
BATCH = 500
# The same 5-minute windows effective uptime is measured in.
ORG_WINDOW = timedelta(minutes=5)
# Below this many requests in the window a few failures are noise, not an outage (2 of 3 is 67%).
ORG_MIN_REQUESTS = 10
# An organisation "uses" a deployment it sent a request through this recently: it hears of its incidents.
USED_LOOKBACK = timedelta(days=7)
# A request starts before its attempts, by at most the gateway's request budget (600 s by default).
REQUEST_LEAD = timedelta(minutes=10)
# Resolved incidents keep folding in late (spooled) events this long.
LATE_EVENTS = timedelta(hours=1)


# Deployments


def process_state_changes(*, batch: int = BATCH) -> int:
    """Open and resolve deployment incidents from the state changes not read yet. Two workers at once are safe:
    each batch moves the cursor with a conditional UPDATE first, and only the one that moved it goes on."""
    cursor, _ = StateChangeCursor.objects.get_or_create(name=CURSOR)
    changes = list(DeploymentStateChange.objects.filter(id__gt=cursor.last_id).order_by("id")[:batch])
    if not changes:
        return 0
    with transaction.atomic():
        moved = StateChangeCursor.objects.filter(name=CURSOR, last_id=cursor.last_id).update(last_id=changes[-1].pk)
        if moved != 1:
            return 0  # another worker read these
        for change in changes:
            _apply(change)
    return len(changes)


def _apply(change: DeploymentStateChange) -> None:
    incident = Incident.objects.filter(
        scope=IncidentScope.DEPLOYMENT, deployment=change.deployment, status=IncidentStatus.OPEN
    ).first()
    reason = f": {change.reason}" if change.reason else ""
    if incident is None:
        if change.new == DeploymentState.DOWN:
            _open_deployment_incident(change, reason)
    elif change.new == DeploymentState.UP:
        resolve(incident, at=change.at, message=f"{change.deployment} is up again{reason}.")
    else:
        IncidentUpdate.objects.create(
            incident=incident, kind=IncidentUpdate.Kind.UPDATE, at=change.at, message=_state_message(change) + reason
        )


def _state_message(change: DeploymentStateChange) -> str:
    described = {
        DeploymentState.DOWN: "is down",
        DeploymentState.DEGRADED: "answers again, but degraded",
        DeploymentState.UNKNOWN: "has no probe or traffic to judge by",
    }
    return f"{change.deployment} {described.get(DeploymentState(change.new), change.new)} ({change.old} → {change.new})"


def _open_deployment_incident(change: DeploymentStateChange, reason: str) -> None:
    covering = maintenance.window_covering(at=change.at, organization_id=None, deployment=change.deployment)
    incident = Incident.objects.create(
        scope=IncidentScope.DEPLOYMENT,
        deployment=change.deployment,
        title=f"{change.deployment} down",
        opened_at=change.at,
        during_maintenance=covering is not None,
    )
    IncidentUpdate.objects.create(
        incident=incident, kind=IncidentUpdate.Kind.OPENED, at=change.at, message=_state_message(change) + reason
    )
    if covering is not None:
        _note_maintenance(incident, covering, organization_id=None)
    users = (
        Attempt.objects.filter(
            deployment=change.deployment, started_at__gte=change.at - USED_LOOKBACK, started_at__lt=change.at
        )
        .values_list("org_id", flat=True)
        .distinct()
    )
    IncidentImpact.objects.bulk_create(
        [
            IncidentImpact(incident=incident, organization_id=pk)
            for pk in Organization.objects.filter(pk__in=users).values_list("pk", flat=True)
        ],
        ignore_conflicts=True,
    )
    concerned = IncidentImpact.objects.filter(incident=incident).values_list("organization_id", flat=True)
    own = maintenance.own_windows_covering(at=change.at, organization_ids=concerned, deployment=change.deployment)
    for org_id, window in own.items():
        _note_maintenance(incident, window, organization_id=org_id)
    _announce(incident, "opened", now=change.at)


def _note_maintenance(incident: Incident, window: MaintenanceWindow, *, organization_id: int | None) -> None:
    """On the timeline (an organisation's own window: on its timeline only) why no alert was sent."""
    IncidentUpdate.objects.create(
        incident=incident,
        kind=IncidentUpdate.Kind.UPDATE,
        at=incident.opened_at,
        organization_id=organization_id,
        message=(
            f"Opened during the maintenance window “{window.title}” ({window.starts_at:%Y-%m-%d %H:%M} to "
            f"{window.ends_at:%Y-%m-%d %H:%M} UTC): no alert is sent for this incident."
        ),
    )


# Organisations


def evaluate_organizations(*, now: datetime) -> None:
    """Open an incident for each organisation whose error rate over the last 5-minute window (and the current
    one) is over its threshold, and resolve the open ones that are back under it. Reads the rollups."""
    counts = error_rates.error_counts_by_organization(now=now, windows=[ORG_WINDOW])
    open_incidents = {
        i.organization_id: i
        for i in Incident.objects.filter(scope=IncidentScope.ORGANIZATION, status=IncidentStatus.OPEN)
    }
    org_ids = set(Organization.objects.filter(pk__in=set(counts) | set(open_incidents)).values_list("pk", flat=True))
    thresholds = settings_by_organization(org_ids)
    for org_id in org_ids:
        window = counts.get(org_id, {}).get(ORG_WINDOW, error_rates.NO_REQUESTS)
        threshold = float(thresholds[org_id].error_rate_threshold)
        over = window.requests >= ORG_MIN_REQUESTS and window.rate * 100 > threshold
        incident = open_incidents.get(org_id)
        if over and incident is None:
            _open_organization_incident(org_id, window, threshold, now=now)
        elif not over and incident is not None:
            since = error_rates.span_start(now=now, window=ORG_WINDOW)
            resolve(incident, at=now, message=f"Error rate back to {_percent(window.rate)} since {since:%H:%M} UTC.")


def _open_organization_incident(
    org_id: int, window: error_rates.ErrorCounts, threshold: float, *, now: datetime
) -> None:
    since = error_rates.span_start(now=now, window=ORG_WINDOW)
    opened_at = error_rates.first_failure_since(organization_id=org_id, since=since, now=now) or now
    message = (
        f"{window.failures} of {window.requests} requests failed since {since:%H:%M} UTC "
        f"({_percent(window.rate)}, threshold {threshold:g}%)."
    )
    covering = maintenance.window_covering(at=opened_at, organization_id=org_id)
    try:
        with transaction.atomic():
            incident = Incident.objects.create(
                scope=IncidentScope.ORGANIZATION,
                organization_id=org_id,
                title=f"Error rate {_percent(window.rate)} (over {threshold:g}%)",
                opened_at=opened_at,
                during_maintenance=covering is not None,
            )
            IncidentUpdate.objects.create(
                incident=incident, kind=IncidentUpdate.Kind.OPENED, at=opened_at, message=message
            )
            if covering is not None:
                _note_maintenance(incident, covering, organization_id=None)
            refresh_impact(incident, now=now)
            _announce(incident, "opened", now=now)
    except IntegrityError:
        pass  # another worker opened it first


def _percent(rate: float) -> str:
    return f"{int(rate * 10000) / 100:g}%"  # truncated, never rounded up


# Both


def resolve(incident: Incident, *, at: datetime, message: str) -> bool:
    """Resolve an open incident; False when another worker already did."""
    with transaction.atomic():
        won = Incident.objects.filter(pk=incident.pk, status=IncidentStatus.OPEN).update(
            status=IncidentStatus.RESOLVED, resolved_at=at
        )
        if won != 1:
            return False
        incident.status, incident.resolved_at = IncidentStatus.RESOLVED, at
        refresh_impact(incident, now=at)
        minutes = int((at - incident.opened_at).total_seconds() // 60)
        IncidentUpdate.objects.create(
            incident=incident,
            kind=IncidentUpdate.Kind.RESOLVED,
            at=at,
            message=f"{message} Resolved after {minutes} min.",
        )
        _announce(incident, "resolved", now=at)
    return True


def refresh_open_impacts(*, now: datetime) -> int:
    """Recount the requests of open incidents, and of those resolved recently (their late events)."""
    incidents = list(Incident.objects.filter(status=IncidentStatus.OPEN)) + list(
        Incident.objects.filter(status=IncidentStatus.RESOLVED, resolved_at__gte=now - LATE_EVENTS)
    )
    for incident in incidents:
        refresh_impact(incident, now=now)
    return len(incidents)


def refresh_impact(incident: Incident, *, now: datetime) -> tuple[int, int]:
    """Count the incident's affected and rescued requests, per organisation and in total."""
    end = incident.resolved_at or now
    if incident.scope == IncidentScope.DEPLOYMENT:
        counts = _deployment_impact(incident.deployment, start=incident.opened_at, end=end)
    else:
        counts = _organization_impact(incident.organization_id or 0, start=incident.opened_at, end=end)
    existing = set(Organization.objects.filter(pk__in=counts).values_list("pk", flat=True))
    IncidentImpact.objects.bulk_create(
        [
            IncidentImpact(incident=incident, organization_id=org_id, affected_requests=a, rescued_requests=r)
            for org_id, (a, r) in counts.items()
            if org_id in existing
        ],
        update_conflicts=True,
        unique_fields=["incident", "organization"],
        update_fields=["affected_requests", "rescued_requests"],
    )
    totals = IncidentImpact.objects.filter(incident=incident).aggregate(
        a=Sum("affected_requests"), r=Sum("rescued_requests")
    )
    incident.affected_requests, incident.rescued_requests = totals["a"] or 0, totals["r"] or 0
    incident.save(update_fields=["affected_requests", "rescued_requests"])
    return incident.affected_requests, incident.rescued_requests


def _deployment_impact(deployment: str, *, start: datetime, end: datetime) -> dict[int, tuple[int, int]]:
    """Per organisation: its requests with an attempt through the deployment during the incident, and how many
    of them another deployment then answered."""
    attempts = Attempt.objects.filter(
        deployment=deployment, started_at__gte=start, started_at__lt=end, org_id__isnull=False
    )
    affected = dict(attempts.values("org_id").annotate(n=Count("request_id", distinct=True)).values_list("org_id", "n"))
    through = attempts.filter(request_id=OuterRef("request_id"), org_id=OuterRef("org_id"))
    rescued = dict(
        Request.objects.filter(rescued=True, started_at__gte=start - REQUEST_LEAD, started_at__lt=end)
        .filter(Exists(through))
        .values("org_id")
        .annotate(n=Count("id"))
        .values_list("org_id", "n")
    )
    return {org_id: (n, rescued.get(org_id, 0)) for org_id, n in affected.items() if org_id is not None}


def _organization_impact(org_id: int, *, start: datetime, end: datetime) -> dict[int, tuple[int, int]]:
    counts = (
        Request.objects.filter(org_id=org_id, started_at__gte=start, started_at__lt=end)
        .exclude(inbound__in=LOCAL_INBOUNDS)
        .aggregate(a=Count("id"), r=Count("id", filter=Q(rescued=True)))
    )
    return {org_id: (counts["a"], counts["r"])}


# Notes


def add_note(
    *, incident: Incident, organization: Organization, author: User, message: str, now: datetime
) -> IncidentUpdate:
    """A note by an organisation's owner or admin; on a shared deployment incident only that organisation sees it."""
    return IncidentUpdate.objects.create(
        incident=incident,
        kind=IncidentUpdate.Kind.NOTE,
        at=now,
        message=message,
        author=author,
        organization=organization,
    )


# Alerts


def _announce(incident: Incident, transition: str, *, now: datetime) -> None:
    """Queue the alerts of a transition; none for an incident that opened during maintenance (nor its recovery)."""
    if incident.during_maintenance:
        return
    if incident.scope == IncidentScope.ORGANIZATION:
        org_ids = {incident.organization_id} if incident.organization_id else set()
    else:
        org_ids = set(IncidentImpact.objects.filter(incident=incident).values_list("organization_id", flat=True))
        # An organisation whose own window covers the deployment when it went down is not told either.
        org_ids -= set(
            maintenance.own_windows_covering(
                at=incident.opened_at, organization_ids=org_ids, deployment=incident.deployment
            )
        )
    names = dict(Organization.objects.filter(pk__in=org_ids).values_list("pk", "name"))
    deployment = incident.scope == IncidentScope.DEPLOYMENT
    notify.queue(
        organization_ids=org_ids,
        preference=notify.PREFERENCE[incident.scope],
        dedup_key=f"incident:{incident.pk}:{transition}",
        message_for=lambda org_id: incident_messages.for_organization(
            incident, transition, org_id=org_id, org_name=names[org_id]
        ),
        now=now,
        # The operator hears of every deployment incident, whichever organisations it concerns.
        operator_message=incident_messages.for_operator(incident, transition) if deployment else None,
    )

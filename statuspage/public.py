"""What the public page and its JSON show: current status, a 90-day bar per component and the incident
history, under public names only. No key, no internal model, deployment or provider name (unless the
organisation typed it as a public name) and no traffic volume leaves this module: incident titles and
timelines are rewritten, since the recorded ones name deployments and count requests."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.db.models import Q

from monitoring import day_bars
from monitoring.day_bars import DayCell
from monitoring.incident_selectors import incidents_of
from monitoring.models import DeploymentStatus, Incident, IncidentScope, IncidentStatus, IncidentUpdate
from monitoring.uptime import day_spans, truncate_percent
from providers.configured import gateway_config
from statuspage import selectors, status
from statuspage.models import StatusComponent, StatusPage

Kind = StatusComponent.Kind
INCIDENT_LIMIT = 50  # the most recent of the 90 days; older ones are "Incident" in the bars' tooltips
FALLBACK_TITLE = "Incident"
ORG_INCIDENT_TITLE = "Elevated error rate"
UPSTREAM_TITLE = "An upstream provider is down"


@dataclass(frozen=True)
class PublicComponent:
    name: str
    position: int
    status: str
    cells: list[DayCell]  # with public incident titles

    @property
    def status_label(self) -> str:
        return status.LABELS[self.status]


@dataclass(frozen=True)
class PublicUpdate:
    kind: str  # investigating, note or resolved
    at: datetime
    body: str


@dataclass(frozen=True)
class PublicIncident:
    title: str
    impact: str  # major: the organisation's own error rate; minor: one provider down (failover may hide it)
    status: str  # open or resolved
    opened_at: datetime
    resolved_at: datetime | None
    during_maintenance: bool
    updates: list[PublicUpdate]


@dataclass(frozen=True)
class PublicView:
    title: str
    time_zone: str
    now: datetime
    first: date
    last: date
    overall: status.Overall
    components: list[PublicComponent]
    incidents: list[PublicIncident]


@dataclass(frozen=True)
class _Context:
    organization_id: int
    components: list[StatusComponent]
    models: dict[str, tuple[str, ...] | None]  # each model shown -> the deployments serving it (None: unknown)
    used: list[str]  # the models "all models" stands for
    states: dict[str, str]  # deployment -> its state now


def build(*, page: StatusPage, now: datetime) -> PublicView:
    organization = page.organization
    tz = ZoneInfo(organization.timezone)
    first, last = day_bars.last_days(tz=tz, now=now)
    context = _context(page, now=now)
    incidents = _incidents(organization_id=organization.pk, first=first, tz=tz, now=now)
    open_org_incident = any(
        i.scope == IncidentScope.ORGANIZATION and i.status == IncidentStatus.OPEN for i in incidents
    )
    titles = {i.title: _public_title(i, context) for i in incidents}
    shown = []
    bars = _bars(context, first=first, last=last, tz=tz, now=now)
    for position, (component, cells) in enumerate(zip(context.components, bars, strict=True)):
        shown.append(
            PublicComponent(
                name=component.name,
                position=position,
                status=_status(component, context, open_org_incident=open_org_incident),
                cells=_public_cells(cells, component, titles),
            )
        )
    return PublicView(
        title=page.title,
        time_zone=organization.timezone,
        now=now,
        first=first,
        last=last,
        overall=status.overall([c.status for c in shown]),
        components=shown,
        incidents=[_public_incident(i, titles[i.title], page) for i in incidents],
    )


def _context(page: StatusPage, *, now: datetime) -> _Context:
    components = list(page.components.all())
    config = gateway_config()
    shown = [c.target for c in components if c.kind == Kind.MODEL]
    used = (
        selectors.used_models(organization_id=page.organization_id, now=now)
        if any(c.kind == Kind.ALL_MODELS for c in components)
        else []
    )
    models = {m: selectors.model_deployments(config, m) for m in {*shown, *used}}
    deployments = {d for ds in models.values() for d in ds or ()}
    deployments |= {c.target for c in components if c.kind == Kind.DEPLOYMENT}
    states = dict(DeploymentStatus.objects.filter(deployment__in=deployments).values_list("deployment", "state"))
    return _Context(page.organization_id, components, models, used, states)


def _model_status(model: str, context: _Context) -> str:
    return status.model_status([context.states.get(d) for d in context.models.get(model) or ()])


def _status(component: StatusComponent, context: _Context, *, open_org_incident: bool) -> str:
    if component.kind == Kind.DEPLOYMENT:
        return status.deployment_status(context.states.get(component.target))
    models = context.used if component.kind == Kind.ALL_MODELS else [component.target]
    return status.effective_status([_model_status(m, context) for m in models], open_org_incident=open_org_incident)


def _bars(context: _Context, *, first: date, last: date, tz: ZoneInfo, now: datetime) -> list[list[DayCell]]:
    """Each component's cells, in order: every bar of a kind computed in one batch."""
    components = context.components
    targets = sorted({c.target for c in components if c.kind == Kind.DEPLOYMENT})
    own = (
        day_bars.provider_bars(
            deployments=targets, first=first, last=last, tz=tz, now=now, organization_id=context.organization_id
        )
        if targets
        else {}
    )
    seen = [c for c in components if c.kind != Kind.DEPLOYMENT]
    effective = (
        day_bars.effective_bars(
            organization_id=context.organization_id,
            bars=[(c.target, context.models.get(c.target)) if c.kind == Kind.MODEL else (None, None) for c in seen],
            first=first,
            last=last,
            tz=tz,
            now=now,
        )
        if seen
        else []
    )
    by_component = dict(zip(map(id, seen), effective, strict=True))
    return [own[c.target] if c.kind == Kind.DEPLOYMENT else by_component[id(c)] for c in components]


def _public_cells(cells: list[DayCell], component: StatusComponent, titles: dict[str, str]) -> list[DayCell]:
    """The same cells, each incident under its public title (a deployment's are all its own outages)."""
    if component.kind == Kind.DEPLOYMENT:
        return [dataclasses.replace(c, incidents=(f"{component.name}: outage",) * len(c.incidents)) for c in cells]
    return [dataclasses.replace(c, incidents=tuple(titles.get(t, FALLBACK_TITLE) for t in c.incidents)) for c in cells]


def _incidents(*, organization_id: int, first: date, tz: ZoneInfo, now: datetime) -> list[Incident]:
    """The organisation's incidents open at some time of the 90 days, newest first, with the timeline it
    may see (other organisations' notes are never fetched)."""
    start = day_spans(first=first, last=first, tz=tz)[0][1]
    window = Q(opened_at__lt=now) & (Q(resolved_at__isnull=True) | Q(resolved_at__gt=start))
    return list(incidents_of(organization_id=organization_id).filter(window)[:INCIDENT_LIMIT])


def _public_title(incident: Incident, context: _Context) -> str:
    if incident.scope == IncidentScope.ORGANIZATION:
        return ORG_INCIDENT_TITLE
    for component in context.components:
        if component.kind == Kind.DEPLOYMENT and component.target == incident.deployment:
            return f"{component.name}: outage"
    for component in context.components:
        if component.kind == Kind.MODEL and incident.deployment in (context.models.get(component.target) or ()):
            return f"{component.name}: {UPSTREAM_TITLE[0].lower()}{UPSTREAM_TITLE[1:]}"
    return UPSTREAM_TITLE


def _public_incident(incident: Incident, title: str, page: StatusPage) -> PublicIncident:
    organization_scope = incident.scope == IncidentScope.ORGANIZATION
    opened = (
        "More requests than usual are failing; we are looking into it."
        if organization_scope
        else "An upstream provider stopped answering."
    )
    updates = []
    for update in getattr(incident, "timeline", []):
        if update.kind == IncidentUpdate.Kind.OPENED:
            updates.append(PublicUpdate("investigating", update.at, opened))
        elif update.kind == IncidentUpdate.Kind.RESOLVED:
            updates.append(PublicUpdate("resolved", update.at, "This incident has been resolved."))
        elif (
            update.kind == IncidentUpdate.Kind.NOTE
            and page.show_notes
            and update.organization_id == page.organization_id
        ):
            updates.append(PublicUpdate("note", update.at, update.message))
    return PublicIncident(
        title=title,
        impact="major" if organization_scope else "minor",
        status=incident.status,
        opened_at=incident.opened_at,
        resolved_at=incident.resolved_at,
        during_maintenance=incident.during_maintenance,
        updates=updates,
    )


def as_json(view: PublicView, *, url: str) -> dict[str, object]:
    """The same content as the page; shaped like Statuspage's summary.json, with Better Stack's per-day
    history under each component."""
    return {
        "page": {"name": view.title, "url": url, "time_zone": view.time_zone, "updated_at": view.now.isoformat()},
        "status": {"indicator": view.overall.indicator, "description": view.overall.description},
        "components": [
            {
                "name": c.name,
                "position": c.position,
                "status": c.status,
                "days": [
                    {
                        "date": cell.day.isoformat(),
                        "level": cell.level,
                        "label": cell.label,
                        "uptime_percent": None if cell.percent is None else truncate_percent(cell.percent),
                        "downtime_minutes": cell.downtime_minutes,
                        "incidents": list(cell.incidents),
                    }
                    for cell in c.cells
                ],
            }
            for c in view.components
        ],
        "incidents": [
            {
                "name": i.title,
                "status": i.status,
                "impact": i.impact,
                "during_maintenance": i.during_maintenance,
                "started_at": i.opened_at.isoformat(),
                "resolved_at": i.resolved_at.isoformat() if i.resolved_at else None,
                "updates": [{"status": u.kind, "body": u.body, "created_at": u.at.isoformat()} for u in i.updates],
            }
            for i in view.incidents
        ],
    }

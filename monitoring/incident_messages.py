"""What an alert about an incident says: to an organisation (its own requests), and to the operator (all of them)."""

from __future__ import annotations

from monitoring import notify
from monitoring.models import Incident, IncidentImpact


def for_organization(incident: Incident, transition: str, *, org_id: int, org_name: str) -> notify.Message:
    impact = IncidentImpact.objects.filter(incident=incident, organization_id=org_id).first()
    affected, rescued = (impact.affected_requests, impact.rescued_requests) if impact else (0, 0)
    verb = "Resolved" if transition == "resolved" else "Incident"
    subject = f"[{org_name}] {verb}: {incident.title}"
    lines = [f"{incident.title}.", f"Opened {incident.opened_at:%Y-%m-%d %H:%M:%S} UTC."]
    if incident.resolved_at is not None:
        lines.append(f"Resolved {incident.resolved_at:%Y-%m-%d %H:%M:%S} UTC, after {_duration(incident)}.")
        lines.append(f"Your requests affected: {affected}, rescued by failover: {rescued}.")
    url = notify.site_url(f"/orgs/{org_id}/incidents/{incident.pk}/")
    payload = {
        "event": f"incident.{transition}",
        "organization": {"id": org_id, "name": org_name},
        "incident": {
            "id": incident.pk,
            "scope": incident.scope,
            "deployment": incident.deployment,
            "title": incident.title,
            "status": incident.status,
            "opened_at": incident.opened_at.isoformat(),
            "resolved_at": incident.resolved_at.isoformat() if incident.resolved_at else None,
            "affected_requests": affected,
            "rescued_requests": rescued,
        },
    }
    return notify.Message(subject=subject, body="\n".join(lines), url=url, payload=payload)


def for_operator(incident: Incident, transition: str) -> notify.Message:
    """A deployment incident as the operator is told of it: every organisation's requests together."""
    concerned = IncidentImpact.objects.filter(incident=incident).count()
    verb = "Resolved" if transition == "resolved" else "Incident"
    lines = [f"{incident.title}.", f"Opened {incident.opened_at:%Y-%m-%d %H:%M:%S} UTC."]
    if incident.resolved_at is not None:
        lines.append(f"Resolved {incident.resolved_at:%Y-%m-%d %H:%M:%S} UTC, after {_duration(incident)}.")
    lines.append(
        f"Organisations concerned: {concerned}; requests affected: {incident.affected_requests}, "
        f"rescued by failover: {incident.rescued_requests}."
    )
    payload = {
        "event": f"incident.{transition}",
        "organization": None,
        "incident": {
            "id": incident.pk,
            "scope": incident.scope,
            "deployment": incident.deployment,
            "title": incident.title,
            "status": incident.status,
            "opened_at": incident.opened_at.isoformat(),
            "resolved_at": incident.resolved_at.isoformat() if incident.resolved_at else None,
            "organizations": concerned,
            "affected_requests": incident.affected_requests,
            "rescued_requests": incident.rescued_requests,
        },
    }
    return notify.Message(
        subject=f"[Operator] {verb}: {incident.title}",
        body="\n".join(lines),
        url=notify.site_url("/operator/alerts/"),
        payload=payload,
    )


def _duration(incident: Incident) -> str:
    seconds = int(((incident.resolved_at or incident.opened_at) - incident.opened_at).total_seconds())
    return f"{seconds // 60} min {seconds % 60} s"

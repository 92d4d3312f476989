"""Management API: an organisation's incidents with their timelines."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.decorators import api_view
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.access import ORG_PARAMETER, get_actor_for_request
from monitoring import incident_selectors
from monitoring.models import Incident, IncidentStatus

MAX_INCIDENTS = 100


class IncidentUpdateSerializer(serializers.Serializer[Any]):
    kind = serializers.ChoiceField(choices=["opened", "update", "note", "resolved"])
    at = serializers.DateTimeField()
    message = serializers.CharField()
    author = serializers.EmailField(source="author.email", allow_null=True, default=None, help_text="For notes.")


class IncidentSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField(source="incident.pk")
    scope = serializers.ChoiceField(
        source="incident.scope",
        choices=["deployment", "organization"],
        help_text="A deployment down, or this organisation's error rate over its threshold.",
    )
    deployment = serializers.CharField(source="incident.deployment", help_text="Empty for an organisation incident.")
    title = serializers.CharField(source="incident.title")
    status = serializers.ChoiceField(source="incident.status", choices=["open", "resolved"])
    opened_at = serializers.DateTimeField(source="incident.opened_at")
    resolved_at = serializers.DateTimeField(source="incident.resolved_at", allow_null=True)
    during_maintenance = serializers.BooleanField(
        source="incident.during_maintenance",
        help_text="Opened inside a maintenance window covering it: no alert was sent for it.",
    )
    duration_seconds = serializers.IntegerField(help_text="Until resolved, or until now while open.")
    affected_requests = serializers.IntegerField(help_text="This organisation's requests during the incident.")
    rescued_requests = serializers.IntegerField(help_text="Of those, the ones failover answered.")
    timeline = IncidentUpdateSerializer(many=True, source="incident.timeline")


class IncidentQuerySerializer(serializers.Serializer[Any]):
    status = serializers.ChoiceField(choices=IncidentStatus.values, required=False)


@extend_schema(
    summary="Incidents with their timelines",
    description=(
        "This organisation's incidents (its error rate over its threshold) and those of the deployments it "
        f"uses, newest first, at most {MAX_INCIDENTS}. Request counts are this organisation's own; notes other "
        "organisations added to a shared deployment incident are not shown."
    ),
    parameters=[
        ORG_PARAMETER,
        OpenApiParameter("status", OpenApiTypes.STR, enum=IncidentStatus.values, description="Only these."),
    ],
    responses={200: IncidentSerializer(many=True), 400: OpenApiResponse(description="Bad parameter")},
    tags=["incidents"],
)
@api_view(["GET"])
def incident_list(request: Request, org_id: int) -> Response:
    actor = get_actor_for_request(request, org_id)
    query = IncidentQuerySerializer(data={k: v for k, v in request.query_params.items() if k == "status"})
    query.is_valid(raise_exception=True)
    incidents = incident_selectors.incidents_of(organization_id=actor.organization.pk)
    if "status" in query.validated_data:
        incidents = incidents.filter(status=query.validated_data["status"])
    now = timezone.now()
    rows = [_row(incident, now) for incident in incidents[:MAX_INCIDENTS]]
    return Response(IncidentSerializer(rows, many=True).data)


def _row(incident: Incident, now: Any) -> dict[str, Any]:
    affected, rescued = incident_selectors.own_counts(incident)
    return {
        "incident": incident,
        "duration_seconds": int(incident_selectors.duration(incident, now=now).total_seconds()),
        "affected_requests": affected,
        "rescued_requests": rescued,
    }

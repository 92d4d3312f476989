"""The management API for an organisation's traffic: usage and cost, and provider health."""

from __future__ import annotations

import csv
import io
import time
from datetime import date
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.decorators import api_view, renderer_classes
from rest_framework.exceptions import NotFound
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.access import MAX_DB_ID, ORG_PARAMETER, get_actor_for_request
from accounts.models import ApiKey, Organization
from django.utils import timezone

from monitoring import health, probes, states, traffic, usage
from monitoring.models import DeploymentStatus
from providers.configured import gateway_config


class UsageQuerySerializer(serializers.Serializer[Any]):
    group_by = serializers.CharField(
        required=False,
        default="day,model,key",
        max_length=50,
        help_text="Comma-separated: any of day, model, key.",
    )
    key = serializers.IntegerField(required=False, min_value=1, max_value=MAX_DB_ID, help_text="Only this key.")

    def __init__(self, *args: Any, organization: Organization | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.organization = organization
        # "from" is a Python keyword: both dates are added by name.
        self.fields["from"] = serializers.DateField(
            required=False, help_text="First UTC day (default: 29 days before to)."
        )
        self.fields["to"] = serializers.DateField(required=False, help_text="Last UTC day, included (default: today).")

    def validate_group_by(self, value: str) -> list[str]:
        groups = [part.strip() for part in value.split(",") if part.strip()]
        unknown = [g for g in groups if g not in usage.GROUPS]
        if unknown or not groups:
            raise serializers.ValidationError(f"Use a comma-separated list of: {', '.join(usage.GROUPS)}.")
        return groups

    def validate_key(self, value: int) -> int:
        if not ApiKey.objects.filter(organization=self.organization, pk=value).exists():
            raise serializers.ValidationError("No such key in this organisation.")
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start: date | None = attrs.get("from")
        end: date | None = attrs.get("to")
        default = usage.default_range()
        end = end or (default.end if start is None else max(default.end, start))
        if start is None:
            start = end - (default.end - default.start)
        problems = usage.range_problems(start=start, end=end)
        if problems:
            raise serializers.ValidationError({field: [message] for field, message in problems.items()})
        attrs["period"] = usage.DateRange(start, end)
        return attrs


class UsageRowSerializer(serializers.Serializer[Any]):
    day = serializers.DateField(required=False, help_text="When grouped by day.")
    model = serializers.CharField(required=False, help_text="When grouped by model.")
    key_id = serializers.IntegerField(required=False, allow_null=True, help_text="When grouped by key.")
    key_name = serializers.CharField(required=False, allow_null=True, help_text="When grouped by key.")
    requests = serializers.IntegerField()
    prompt_tokens = serializers.IntegerField()
    completion_tokens = serializers.IntegerField()
    cached_tokens = serializers.IntegerField()
    cost_usd = serializers.DecimalField(max_digits=30, decimal_places=6)


class UsageTotalsSerializer(serializers.Serializer[Any]):
    requests = serializers.IntegerField()
    prompt_tokens = serializers.IntegerField()
    completion_tokens = serializers.IntegerField()
    cached_tokens = serializers.IntegerField()
    cost_usd = serializers.DecimalField(max_digits=30, decimal_places=6)


class UsageReportSerializer(serializers.Serializer[Any]):
    start = serializers.DateField(source="period.start")
    end = serializers.DateField(source="period.end")
    group_by = serializers.ListField(child=serializers.CharField())
    rows = UsageRowSerializer(many=True)
    totals = UsageTotalsSerializer()


class DeploymentHealthSerializer(serializers.Serializer[Any]):
    deployment = serializers.CharField()
    provider = serializers.CharField()
    status = serializers.ChoiceField(choices=["ok", "degraded", "failing", "unknown"])
    last_outcome = serializers.CharField(allow_null=True)
    last_attempt_at = serializers.DateTimeField(allow_null=True)
    last_success_at = serializers.DateTimeField(allow_null=True)
    attempts_5m = serializers.IntegerField()
    failures_5m = serializers.IntegerField()


class ProviderHealthSerializer(serializers.Serializer[Any]):
    source = serializers.CharField(help_text='"attempt_log": estimated from recent attempts, not the live breakers.')
    note = serializers.CharField()
    deployments = DeploymentHealthSerializer(many=True)


class AttemptSerializer(serializers.Serializer[Any]):
    attempt = serializers.IntegerField(help_text="1 for the first try, then in order.")
    started_at = serializers.DateTimeField()
    provider = serializers.CharField()
    deployment = serializers.CharField()
    model = serializers.CharField()
    outcome = serializers.CharField(help_text="ok, or why the attempt failed (docs: the Outcome vocabulary).")
    status_code = serializers.IntegerField(allow_null=True, help_text="The upstream's HTTP status, if it sent one.")
    latency_ms = serializers.FloatField()
    ttft_ms = serializers.FloatField(allow_null=True)
    prompt_tokens = serializers.IntegerField(allow_null=True)
    completion_tokens = serializers.IntegerField(allow_null=True)
    cost_usd = serializers.DecimalField(max_digits=20, decimal_places=12, allow_null=True)


class RequestTraceSerializer(serializers.Serializer[Any]):
    request_id = serializers.CharField(source="request.request_id")
    started_at = serializers.DateTimeField(source="request.started_at")
    inbound = serializers.CharField(source="request.inbound")
    requested_model = serializers.CharField(source="request.requested_model")
    model = serializers.CharField(source="request.model", help_text="The model that answered, empty if none did.")
    provider = serializers.CharField(source="request.provider", help_text="The provider that answered, if any.")
    stream = serializers.BooleanField(source="request.stream")
    status = serializers.IntegerField(source="request.status", help_text="The HTTP status the client got.")
    outcome = serializers.CharField(source="request.outcome")
    error_code = serializers.CharField(source="request.error_code")
    failovers = serializers.IntegerField(source="request.failovers")
    rescued = serializers.BooleanField(source="request.rescued")
    latency_ms = serializers.FloatField(source="request.latency_ms")
    ttft_ms = serializers.FloatField(source="request.ttft_ms", allow_null=True)
    prompt_tokens = serializers.IntegerField(source="request.prompt_tokens", allow_null=True)
    completion_tokens = serializers.IntegerField(source="request.completion_tokens", allow_null=True)
    cost_usd = serializers.DecimalField(source="request.cost_usd", max_digits=20, decimal_places=12, allow_null=True)
    attempts = AttemptSerializer(many=True)


# CSV


class CSVRenderer(BaseRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        if isinstance(data, dict) and "rows" in data and "columns" in data:
            writer.writerow(data["columns"])
            for row in data["rows"]:
                writer.writerow([_cell(row.get(column)) for column in data["columns"]])
        elif isinstance(data, dict):  # an error
            writer.writerow(["field", "message"])
            for field, messages in data.items():
                for message in messages if isinstance(messages, list) else [messages]:
                    writer.writerow([_cell(field), _cell(message)])
        return out.getvalue().encode()


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    # A spreadsheet would run a cell starting with these as a formula (key names are user input).
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


_USAGE_COLUMNS = {"day": ["day"], "model": ["model"], "key": ["key_id", "key_name"]}
_TOTAL_COLUMNS = ["requests", "prompt_tokens", "completion_tokens", "cached_tokens", "cost_usd"]


# Usage


@extend_schema(
    summary="Usage and cost by day, model and key",
    description=(
        "Requests, tokens and cost from the attempt log, one request counted once (the attempt that "
        "answered it). JSON, or CSV with `?format=csv` or `Accept: text/csv`. At most 366 days."
    ),
    parameters=[
        ORG_PARAMETER,
        OpenApiParameter("from", OpenApiTypes.DATE, description="First UTC day (default: 29 days before `to`)."),
        OpenApiParameter("to", OpenApiTypes.DATE, description="Last UTC day, included (default: today)."),
        OpenApiParameter("group_by", OpenApiTypes.STR, description="Comma-separated: day, model, key (default: all)."),
        OpenApiParameter("key", OpenApiTypes.INT, description="Only this key's usage."),
        OpenApiParameter("format", OpenApiTypes.STR, enum=["json", "csv"], description="Response format."),
    ],
    responses={
        (200, "application/json"): UsageReportSerializer,
        (200, "text/csv"): OpenApiTypes.STR,
        400: OpenApiResponse(description="Bad range or parameter"),
    },
    tags=["usage"],
)
@api_view(["GET"])
@renderer_classes([JSONRenderer, CSVRenderer])
def usage_report(request: Request, org_id: int) -> Response:
    actor = get_actor_for_request(request, org_id)
    params = {k: v for k, v in request.query_params.items() if k in ("from", "to", "group_by", "key")}
    query = UsageQuerySerializer(data=params, organization=actor.organization)
    query.is_valid(raise_exception=True)
    period: usage.DateRange = query.validated_data["period"]
    groups: list[str] = query.validated_data["group_by"]
    key_id: int | None = query.validated_data.get("key")
    org_id = actor.organization.pk
    rows = usage.usage_rows(organization_id=org_id, period=period, group_by=groups, key_id=key_id)
    if request.accepted_renderer.format == "csv":
        columns = [c for g in usage.GROUPS if g in groups for c in _USAGE_COLUMNS[g]] + _TOTAL_COLUMNS
        response = Response({"columns": columns, "rows": rows})
        filename = f"usage-{org_id}-{period.start.isoformat()}-{period.end.isoformat()}.csv"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
    report = {
        "period": period,
        "group_by": [g for g in usage.GROUPS if g in groups],
        "rows": rows,
        "totals": usage.usage_totals(organization_id=org_id, period=period, key_id=key_id),
    }
    return Response(UsageReportSerializer(report).data)


# Provider health


@extend_schema(
    summary="Provider health per deployment (from the attempt log)",
    description=(
        "Stopgap until the workers share their circuit breakers: per deployment, a status from all traffic "
        "in the attempt log, and this organisation's own last outcome, last success and attempts and "
        "failures of the last five minutes."
    ),
    responses=ProviderHealthSerializer,
    parameters=[ORG_PARAMETER],
    tags=["health"],
)
@api_view(["GET"])
def provider_health(request: Request, org_id: int) -> Response:
    actor = get_actor_for_request(request, org_id)
    report = {
        "source": health.SOURCE,
        "note": (
            "Estimated from the attempt log; the live breaker state of each worker is not shared yet. The status"
            " reflects all traffic; counts, outcomes and times are your organisation's own."
        ),
        "deployments": health.deployment_health(organization_id=actor.organization.pk),
    }
    return Response(ProviderHealthSerializer(report).data)


# One request


@extend_schema(
    summary="One request as the gateway saw it, with every attempt",
    description=(
        "Which provider served this request, and why it failed over: the status the client got, then each "
        "upstream attempt in order with its outcome. `request_id` is the `X-Request-ID` of the response."
    ),
    responses={200: RequestTraceSerializer, 404: OpenApiResponse(description="No such request in this organisation")},
    parameters=[ORG_PARAMETER, OpenApiParameter("request_id", OpenApiTypes.STR, OpenApiParameter.PATH)],
    tags=["traffic"],
)
@api_view(["GET"])
def request_detail(request: Request, org_id: int, request_id: str) -> Response:
    actor = get_actor_for_request(request, org_id)
    # The gateway keeps only printable ASCII ids of up to 128 characters: nothing else can exist.
    valid = len(request_id) <= 128 and request_id.isascii() and request_id.isprintable()
    trace = traffic.request_trace(organization_id=actor.organization.pk, request_id=request_id) if valid else None
    if trace is None:
        raise NotFound("No request with this id in this organisation.")
    return Response(RequestTraceSerializer(trace).data)


# Deployments: state, probes and shared health


class DeploymentStateSerializer(serializers.Serializer[Any]):
    deployment = serializers.CharField()
    provider = serializers.CharField()
    state = serializers.ChoiceField(choices=["up", "degraded", "down", "unknown"])
    since = serializers.DateTimeField(allow_null=True, help_text="When the current state began.")
    reason = serializers.CharField()
    last_probe_at = serializers.DateTimeField(allow_null=True)
    last_probe_kind = serializers.CharField(allow_null=True, help_text="liveness or completion.")
    last_probe_result = serializers.CharField(allow_null=True, help_text="ok, failed or misconfigured.")
    last_probe_detail = serializers.CharField()
    cooldown_until = serializers.DateTimeField(allow_null=True, help_text="Rate-limit cool-down in force, if any.")
    breaker_opens_today = serializers.IntegerField(help_text="Circuit breaker opens since 00:00 UTC.")


def _deployment_reports(deployments: dict[str, str]) -> list[states.DeploymentReport]:
    shared_view = probes.shared_view(now=time.time())
    return states.deployment_reports(deployments=deployments, now=timezone.now(), shared_state=shared_view)


def _configured_deployments() -> dict[str, str]:
    config = gateway_config()
    return {} if config is None else {d.id: d.provider.name for d in config.deployments()}


@extend_schema(
    summary="The deployments this organisation's models run on, with their health",
    description=(
        "Every configured deployment of the models the organisation can use: its state (up, degraded, down, "
        "unknown), since when and why, the last probe and its result, any rate-limit cool-down and the "
        "circuit breaker opens of today."
    ),
    responses=DeploymentStateSerializer(many=True),
    parameters=[ORG_PARAMETER],
    tags=["health"],
)
@api_view(["GET"])
def org_deployments(request: Request, org_id: int) -> Response:
    get_actor_for_request(request, org_id)
    return Response(DeploymentStateSerializer(_deployment_reports(_configured_deployments()), many=True).data)


@extend_schema(
    summary="Operator view: every deployment across organisations",
    description="For staff users and operator keys only (404 to anyone else).",
    responses=DeploymentStateSerializer(many=True),
    tags=["health"],
)
@api_view(["GET"])
def operator_deployments(request: Request) -> Response:
    key = request.auth if isinstance(request.auth, ApiKey) else None
    if not (key.is_operator if key is not None else getattr(request.user, "is_staff", False)):
        raise NotFound()
    known = _configured_deployments()
    # Deployments no longer configured still show while they have a state.
    known.update(DeploymentStatus.objects.exclude(deployment__in=list(known)).values_list("deployment", "provider"))
    return Response(DeploymentStateSerializer(_deployment_reports(known), many=True).data)

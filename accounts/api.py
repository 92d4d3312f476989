"""The management API: an organisation's keys, usage, provider credentials and provider health.

Every endpoint lives under /api/orgs/<org_id>/ and answers 404 to anyone who is not a member of
that organisation (and to a management key of another organisation). Secrets are write-only: a
gateway key's plaintext is returned once, by the call that creates it; a provider key never is.
"""

from __future__ import annotations

from decimal import Decimal

import csv
import io
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.decorators import api_view, renderer_classes
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from accounts import health, selectors, services, usage
from accounts.forms import MAX_ALLOWED_MODELS, check_provider_name
from accounts.models import KEY_SCOPES, SCOPE_MANAGEMENT, ApiKey, Membership, Organization, ProviderCredential, User
from accounts.providers import configured_provider_names, credential_problem

MAX_DB_ID = 2**63 - 1


@dataclass(frozen=True)
class Actor:
    """Who is calling, as far as one organisation is concerned."""

    organization: Organization
    user: User | None  # None for an operator's management key
    can_manage: bool

    @property
    def user_id(self) -> int | None:
        return self.user.pk if self.user is not None else None


def _get_actor_for_request(request: Request, org_id: int) -> Actor:
    if org_id > MAX_DB_ID:
        raise exceptions.NotFound()
    key = request.auth if isinstance(request.auth, ApiKey) else None
    if key is not None:
        if key.organization_id != org_id:
            raise exceptions.NotFound()
        if key.is_operator:
            return Actor(organization=key.organization, user=None, can_manage=True)
    user = request.user
    membership = (
        Membership.objects.select_related("organization", "user")
        .filter(organization_id=org_id, user_id=user.pk)
        .first()
    )
    if membership is None:
        raise exceptions.NotFound()
    return Actor(organization=membership.organization, user=membership.user, can_manage=membership.can_manage)


def _require_manager(actor: Actor, what: str) -> None:
    if not actor.can_manage:
        raise exceptions.PermissionDenied(f"Only owners and admins can {what}.")


def _get_key_for_actor(actor: Actor, key_id: int) -> ApiKey:
    key = (
        ApiKey.objects.select_related("created_by").filter(pk=key_id, organization=actor.organization).first()
        if key_id <= MAX_DB_ID
        else None
    )
    if key is None:
        raise exceptions.NotFound()
    return key


# Serializers


class ApiKeySerializer(serializers.ModelSerializer[ApiKey]):
    status = serializers.CharField(read_only=True, help_text="active, expired or revoked")
    created_by = serializers.SlugRelatedField(slug_field="email", read_only=True)

    class Meta:
        model = ApiKey
        fields = [
            "id",
            "name",
            "prefix",
            "status",
            "scopes",
            "allowed_models",
            "rpm_limit",
            "tpm_limit",
            "monthly_budget_usd",
            "created_by",
            "created_at",
            "expires_at",
            "revoked_at",
            "last_used_at",
        ]
        read_only_fields = fields


class ApiKeyCreatedSerializer(ApiKeySerializer):
    key = serializers.CharField(read_only=True, help_text="The key itself: shown this once, never again.")

    class Meta(ApiKeySerializer.Meta):
        fields = [*ApiKeySerializer.Meta.fields, "key"]
        read_only_fields = fields


class ApiKeyCreateSerializer(serializers.Serializer[Any]):
    name = serializers.CharField(max_length=100)
    expires_at = serializers.DateTimeField(required=False, allow_null=True, help_text="Optional; in the future.")
    allowed_models = serializers.ListField(
        child=serializers.CharField(max_length=200),
        required=False,
        max_length=MAX_ALLOWED_MODELS,
        help_text="Model names this key may call; empty means every model.",
    )
    rpm_limit = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=10**9)
    tpm_limit = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=10**12)
    monthly_budget_usd = serializers.DecimalField(
        required=False, allow_null=True, max_digits=12, decimal_places=2, min_value=Decimal("0.01")
    )
    scopes = serializers.ListField(
        child=serializers.ChoiceField(choices=KEY_SCOPES),
        required=False,
        max_length=len(KEY_SCOPES),
        help_text='"management" lets the key call this API. Owners and admins only.',
    )

    def __init__(
        self, *args: Any, organization: Organization | None = None, can_manage: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.organization = organization
        self.can_manage = can_manage

    def validate_name(self, name: str) -> str:
        if ApiKey.objects.filter(organization=self.organization, name=name).exists():
            raise serializers.ValidationError("A key with this name already exists in this organisation.")
        return name

    def validate_expires_at(self, value: Any) -> Any:
        if value is not None and value <= timezone.now():
            raise serializers.ValidationError("Choose a time in the future.")
        return value

    def validate_allowed_models(self, names: list[str]) -> list[str]:
        names = list(dict.fromkeys(name.strip() for name in names if name.strip()))
        known = selectors.configured_model_names()
        unknown = [name for name in names if known is not None and name not in known]
        if unknown:
            raise serializers.ValidationError(
                f"Unknown model(s): {', '.join(unknown)}. Configured: {', '.join(known or [])}."
            )
        return names

    def validate_scopes(self, scopes: list[str]) -> list[str]:
        if SCOPE_MANAGEMENT in scopes and not self.can_manage:
            raise serializers.ValidationError("Only owners and admins can create keys with the management scope.")
        return sorted(set(scopes))

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if self.organization is not None:
            limits = {name: attrs[name] for name in ("rpm_limit", "tpm_limit", "monthly_budget_usd") if name in attrs}
            problems = services.limits_over_ceiling(organization=self.organization, limits=limits, empty_allowed=True)
            if problems:
                raise serializers.ValidationError({field: [problem] for field, problem in problems.items()})
        return attrs


class ProviderCredentialSerializer(serializers.ModelSerializer[ProviderCredential]):
    created_by = serializers.SlugRelatedField(slug_field="email", read_only=True)
    test_status = serializers.CharField(read_only=True, help_text="untested, ok or failed")

    class Meta:
        model = ProviderCredential
        fields = [
            "id",
            "provider",
            "last4",
            "created_by",
            "created_at",
            "updated_at",
            "test_status",
            "last_tested_at",
            "last_test_ok",
            "last_test_message",
        ]
        read_only_fields = fields


class ProviderCredentialWriteSerializer(serializers.Serializer[Any]):
    provider = serializers.CharField(max_length=100, help_text="A provider name from the gateway configuration.")
    secret = serializers.CharField(
        write_only=True,
        min_length=services.MIN_SECRET_LENGTH,
        max_length=services.MAX_SECRET_LENGTH,
        help_text="The provider API key. Write-only: only its last four characters are ever returned.",
    )

    def validate_provider(self, name: str) -> str:
        problem = check_provider_name(name, configured_provider_names()) or credential_problem(name)
        if problem is not None:
            raise serializers.ValidationError(problem)
        return name


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
_ORG = OpenApiParameter("org_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="Organisation id.")


# Keys


@extend_schema(
    methods=["GET"],
    summary="List the organisation's API keys",
    responses=ApiKeySerializer(many=True),
    parameters=[_ORG],
    tags=["keys"],
)
@extend_schema(
    methods=["POST"],
    summary="Create an API key",
    description="The response carries the key itself (`key`), this once only.",
    request=ApiKeyCreateSerializer,
    responses={
        201: ApiKeyCreatedSerializer,
        400: OpenApiResponse(description="Invalid input"),
        403: OpenApiResponse(description="Email not verified, or scope not allowed"),
    },
    parameters=[_ORG],
    tags=["keys"],
)
@api_view(["GET", "POST"])
def keys(request: Request, org_id: int) -> Response:
    actor = _get_actor_for_request(request, org_id)
    if request.method == "GET":
        listed: QuerySet[ApiKey] = selectors.api_keys_of(organization=actor.organization)
        return Response(ApiKeySerializer(listed, many=True).data)
    if actor.user is not None and not actor.user.email_verified:
        raise exceptions.PermissionDenied("Verify your email address before creating API keys.")
    serializer = ApiKeyCreateSerializer(data=request.data, organization=actor.organization, can_manage=actor.can_manage)
    serializer.is_valid(raise_exception=True)
    data = serializer.validated_data
    try:
        created = services.create_api_key(
            organization=actor.organization,
            name=data["name"],
            created_by=actor.user,
            expires_at=data.get("expires_at"),
            allowed_models=data.get("allowed_models") or [],
            scopes=data.get("scopes") or [],
            rpm_limit=data.get("rpm_limit"),
            tpm_limit=data.get("tpm_limit"),
            monthly_budget_usd=data.get("monthly_budget_usd"),
        )
    except services.KeyNameTaken:
        raise exceptions.ValidationError(
            {"name": ["A key with this name already exists in this organisation."]}
        ) from None
    body = ApiKeyCreatedSerializer(created.api_key).data
    body["key"] = created.plaintext
    response = Response(body, status=status.HTTP_201_CREATED)
    response["Cache-Control"] = "no-store"
    return response


@extend_schema(
    summary="Revoke an API key",
    description="Owners and admins revoke any key; members their own. The gateway refuses it within a second.",
    request=None,
    responses={200: ApiKeySerializer, 403: OpenApiResponse(description="Not your key"), 404: OpenApiResponse()},
    parameters=[_ORG],
    tags=["keys"],
)
@api_view(["POST"])
def key_revoke(request: Request, org_id: int, key_id: int) -> Response:
    actor = _get_actor_for_request(request, org_id)
    key = _get_key_for_actor(actor, key_id)
    if not (actor.can_manage or (actor.user_id is not None and key.created_by_id == actor.user_id)):
        raise exceptions.PermissionDenied("Only owners and admins can revoke other people's keys.")
    services.revoke_api_key(api_key=key)
    return Response(ApiKeySerializer(key).data)


# Usage


@extend_schema(
    summary="Usage and cost by day, model and key",
    description=(
        "Requests, tokens and cost from the attempt log, one request counted once (the attempt that "
        "answered it). JSON, or CSV with `?format=csv` or `Accept: text/csv`. At most 366 days."
    ),
    parameters=[
        _ORG,
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
    actor = _get_actor_for_request(request, org_id)
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


# Provider credentials


@extend_schema(
    methods=["GET"],
    summary="List the organisation's provider keys (last four characters only)",
    responses=ProviderCredentialSerializer(many=True),
    parameters=[_ORG],
    tags=["providers"],
)
@extend_schema(
    methods=["POST"],
    summary="Add or replace the organisation's key for a provider",
    description="201 when added, 200 when it replaced a key. The secret is never returned.",
    request=ProviderCredentialWriteSerializer,
    responses={
        201: ProviderCredentialSerializer,
        200: ProviderCredentialSerializer,
        400: OpenApiResponse(description="Invalid input"),
        403: OpenApiResponse(description="Not an admin"),
    },
    parameters=[_ORG],
    tags=["providers"],
)
@api_view(["GET", "POST"])
def provider_credentials(request: Request, org_id: int) -> Response:
    actor = _get_actor_for_request(request, org_id)
    if request.method == "GET":
        listed = selectors.provider_credentials_of(organization=actor.organization)
        return Response(ProviderCredentialSerializer(listed, many=True).data)
    _require_manager(actor, "manage provider keys")
    serializer = ProviderCredentialWriteSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    try:
        credential, created = services.set_provider_credential(
            organization=actor.organization,
            provider=serializer.validated_data["provider"],
            secret=serializer.validated_data["secret"],
            created_by=actor.user,
        )
    except services.AccountsError as exc:
        raise exceptions.ValidationError({"secret": [str(exc)]}) from None
    code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return Response(ProviderCredentialSerializer(credential).data, status=code)


@extend_schema(
    summary="Delete the organisation's key for a provider",
    description="Its requests use the gateway's own key again.",
    responses={204: None, 403: OpenApiResponse(description="Not an admin"), 404: OpenApiResponse()},
    parameters=[_ORG],
    tags=["providers"],
)
@api_view(["DELETE"])
def provider_credential(request: Request, org_id: int, credential_id: int) -> Response:
    actor = _get_actor_for_request(request, org_id)
    credential = (
        ProviderCredential.objects.filter(
            pk=credential_id, organization=actor.organization, ciphertext__isnull=False
        ).first()
        if credential_id <= MAX_DB_ID
        else None
    )
    if credential is None:
        raise exceptions.NotFound()
    _require_manager(actor, "manage provider keys")
    services.delete_provider_credential(credential=credential)
    return Response(status=status.HTTP_204_NO_CONTENT)


# Provider health


@extend_schema(
    summary="Provider health per deployment (from the attempt log)",
    description=(
        "Stopgap until the workers share their circuit breakers: per deployment, a status from all traffic "
        "in the attempt log, and this organisation's own last outcome, last success and attempts and "
        "failures of the last five minutes."
    ),
    responses=ProviderHealthSerializer,
    parameters=[_ORG],
    tags=["health"],
)
@api_view(["GET"])
def provider_health(request: Request, org_id: int) -> Response:
    actor = _get_actor_for_request(request, org_id)
    report = {
        "source": health.SOURCE,
        "note": (
            "Estimated from the attempt log; the live breaker state of each worker is not shared yet. The status"
            " reflects all traffic; counts, outcomes and times are your organisation's own."
        ),
        "deployments": health.deployment_health(organization_id=actor.organization.pk),
    }
    return Response(ProviderHealthSerializer(report).data)

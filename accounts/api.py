"""The management API for an organisation's gateway keys.

Every endpoint lives under /api/orgs/<org_id>/ and answers 404 to anyone who is not a member of
that organisation (and to a management key of another organisation). A gateway key's plaintext is
returned once, by the call that creates it. The endpoints of the other apps (providers, monitoring)
follow the same rules, through accounts.access.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.decorators import api_view
from rest_framework.request import Request
from rest_framework.response import Response

from accounts import selectors, services
from accounts.access import MAX_DB_ID, ORG_PARAMETER, Actor, get_actor_for_request
from accounts.forms import MAX_ALLOWED_MODELS, ModelNames
from accounts.models import KEY_SCOPES, SCOPE_MANAGEMENT, ApiKey, Membership, Organization


class OrganizationSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    name = serializers.CharField()
    role = serializers.CharField(help_text="owner, admin or member; operator for an operator's management key.")


@extend_schema(
    summary="The caller's organisations",
    description="With a session, every organisation the user belongs to; with a management key, its own.",
    responses=OrganizationSerializer(many=True),
    tags=["organisations"],
)
@api_view(["GET"])
def organizations(request: Request) -> Response:
    key = request.auth if isinstance(request.auth, ApiKey) else None
    if key is not None and key.is_operator:
        return Response(OrganizationSerializer([{"id": key.organization_id, "name": key.organization.name,
                                                  "role": "operator"}], many=True).data)  # fmt: skip
    memberships = Membership.objects.filter(user_id=request.user.pk).select_related("organization")
    if key is not None:
        # A person's management key speaks for its own organisation only.
        memberships = memberships.filter(organization_id=key.organization_id)
    rows = [{"id": m.organization_id, "name": m.organization.name, "role": m.role} for m in memberships.order_by("pk")]
    return Response(OrganizationSerializer(rows, many=True).data)


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
        self,
        *args: Any,
        organization: Organization | None = None,
        # The schema generator builds this serializer bare; it never validates with it.
        model_names: ModelNames = lambda: None,
        can_manage: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.organization = organization
        self.model_names = model_names
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
        known = self.model_names() if names else None
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


# Keys


def keys(request: Request, org_id: int, *, model_names: ModelNames) -> Response:
    """Routed by providers.api, which reads the gateway config for the models a key may name."""
    actor = get_actor_for_request(request, org_id)
    if request.method == "GET":
        listed: QuerySet[ApiKey] = selectors.api_keys_of(organization=actor.organization)
        return Response(ApiKeySerializer(listed, many=True).data)
    if actor.user is not None and not actor.user.email_verified:
        raise exceptions.PermissionDenied("Verify your email address before creating API keys.")
    serializer = ApiKeyCreateSerializer(
        data=request.data, organization=actor.organization, model_names=model_names, can_manage=actor.can_manage
    )
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
    parameters=[ORG_PARAMETER],
    tags=["keys"],
)
@api_view(["POST"])
def key_revoke(request: Request, org_id: int, key_id: int) -> Response:
    actor = get_actor_for_request(request, org_id)
    key = _get_key_for_actor(actor, key_id)
    if not (actor.can_manage or (actor.user_id is not None and key.created_by_id == actor.user_id)):
        raise exceptions.PermissionDenied("Only owners and admins can revoke other people's keys.")
    services.revoke_api_key(api_key=key)
    return Response(ApiKeySerializer(key).data)

"""The management API for the operator's providers as an organisation sees them: its own keys
for them, and the endpoint that creates its gateway keys (their models are checked against the
gateway config, which accounts does not read). Provider keys are write-only: never returned."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.decorators import api_view
from rest_framework.request import Request
from rest_framework.response import Response

from accounts import api as accounts_api
from accounts import selectors
from accounts.access import MAX_DB_ID, ORG_PARAMETER, get_actor_for_request, require_manager
from accounts.api import ApiKeyCreatedSerializer, ApiKeyCreateSerializer, ApiKeySerializer
from accounts.models import ProviderCredential
from accounts.services import AccountsError
from providers import services
from providers.configured import configured_model_names, configured_provider_names, credential_problem
from providers.forms import check_provider_name


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


# Gateway keys


@extend_schema(
    methods=["GET"],
    summary="List the organisation's API keys",
    responses=ApiKeySerializer(many=True),
    parameters=[ORG_PARAMETER],
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
    parameters=[ORG_PARAMETER],
    tags=["keys"],
)
@api_view(["GET", "POST"])
def keys(request: Request, org_id: int) -> Response:
    return accounts_api.keys(request, org_id, model_names=configured_model_names)


# Provider credentials


@extend_schema(
    methods=["GET"],
    summary="List the organisation's provider keys (last four characters only)",
    responses=ProviderCredentialSerializer(many=True),
    parameters=[ORG_PARAMETER],
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
    parameters=[ORG_PARAMETER],
    tags=["providers"],
)
@api_view(["GET", "POST"])
def provider_credentials(request: Request, org_id: int) -> Response:
    actor = get_actor_for_request(request, org_id)
    if request.method == "GET":
        listed = selectors.provider_credentials_of(organization=actor.organization)
        return Response(ProviderCredentialSerializer(listed, many=True).data)
    require_manager(actor, "manage provider keys")
    serializer = ProviderCredentialWriteSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    try:
        credential, created = services.set_provider_credential(
            organization=actor.organization,
            provider=serializer.validated_data["provider"],
            secret=serializer.validated_data["secret"],
            created_by=actor.user,
        )
    except AccountsError as exc:
        raise exceptions.ValidationError({"secret": [str(exc)]}) from None
    code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return Response(ProviderCredentialSerializer(credential).data, status=code)


@extend_schema(
    summary="Delete the organisation's key for a provider",
    description="Its requests use the gateway's own key again.",
    responses={204: None, 403: OpenApiResponse(description="Not an admin"), 404: OpenApiResponse()},
    parameters=[ORG_PARAMETER],
    tags=["providers"],
)
@api_view(["DELETE"])
def provider_credential(request: Request, org_id: int, credential_id: int) -> Response:
    actor = get_actor_for_request(request, org_id)
    credential = (
        ProviderCredential.objects.filter(
            pk=credential_id, organization=actor.organization, ciphertext__isnull=False
        ).first()
        if credential_id <= MAX_DB_ID
        else None
    )
    if credential is None:
        raise exceptions.NotFound()
    require_manager(actor, "manage provider keys")
    services.delete_provider_credential(credential=credential)
    return Response(status=status.HTTP_204_NO_CONTENT)

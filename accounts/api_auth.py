"""Management API authentication: a gateway key with the management scope, as a Bearer token.

The key acts with the rights of the person who created it, as they are now in the key's
organisation, and only there. An operator key (``is_operator``: created from the command line or
on the first run) acts as an admin of its organisation. A key whose creator was deleted is refused:
a missing creator never makes a key an operator's. Browser sessions go through DRF's
SessionAuthentication (CSRF included).
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.request import Request

from accounts.models import ApiKey, User
from accounts.tokens import KEY_PREFIX, hash_key

MAX_KEY_LENGTH = 200


class OperatorKeyUser:
    """``request.user`` for an operator's management key, which acts for no person."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    pk = None
    id = None

    def __init__(self, key: ApiKey) -> None:
        self.key = key

    def __str__(self) -> str:
        return f"key {self.key.prefix}"


class ManagementKeyAuthentication(BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[User | OperatorKeyUser, ApiKey] | None:
        header = get_authorization_header(request).split()
        if not header or header[0].lower() != b"bearer":
            return None  # not ours: the session may authenticate the request
        if len(header) != 2 or len(header[1]) > MAX_KEY_LENGTH:
            raise exceptions.AuthenticationFailed("Malformed Authorization header: use 'Bearer sk-gw-...'.")
        try:
            token = header[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("Malformed Authorization header: use 'Bearer sk-gw-...'.") from None
        if not token.startswith(KEY_PREFIX):
            raise exceptions.AuthenticationFailed("This is not a gateway key.")
        key = ApiKey.objects.select_related("organization", "created_by").filter(hashed=hash_key(token)).first()
        if key is None or key.status != "active":
            raise exceptions.AuthenticationFailed("Invalid, revoked or expired key.")
        if not key.has_management_scope:
            raise exceptions.PermissionDenied("This key has no management scope.")
        if key.is_operator:
            return OperatorKeyUser(key), key
        user = key.created_by
        if user is None or not user.is_active:
            raise exceptions.AuthenticationFailed("Invalid, revoked or expired key.")
        return user, key

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'


class ManagementKeyScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    target_class = "accounts.api_auth.ManagementKeyAuthentication"
    name = "managementKey"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        scheme: dict[str, Any] = build_bearer_security_scheme_object(
            header_name="Authorization", token_prefix="Bearer", bearer_format="sk-gw-..."
        )
        scheme["description"] = "A gateway API key with the management scope."
        return scheme

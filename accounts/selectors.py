from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg
from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from accounts.links import INVITE_MAX_AGE
from accounts.models import ApiKey, Invitation, Membership, Organization, User
from gateway.config import ConfigFileError, load_config

_KEY_COLUMNS = "id, organization_id, hashed, prefix, allowed_models, expires_at, revoked_at, updated_at"


async def api_keys_changed_since(
    conn: psycopg.AsyncConnection, since: datetime | None
) -> list[tuple[Any, ...]]:
    """Key rows for the proxy's in-process cache: all of them, or those changed since ``since``."""
    async with conn.cursor() as cursor:
        if since is None:
            await cursor.execute(f"SELECT {_KEY_COLUMNS} FROM accounts_apikey")
        else:
            await cursor.execute(
                f"SELECT {_KEY_COLUMNS} FROM accounts_apikey WHERE updated_at >= %s", (since,)
            )
        return await cursor.fetchall()


async def api_key_by_hash(conn: psycopg.AsyncConnection, hashed: str) -> tuple[Any, ...] | None:
    async with conn.cursor() as cursor:
        await cursor.execute(f"SELECT {_KEY_COLUMNS} FROM accounts_apikey WHERE hashed = %s", (hashed,))
        return await cursor.fetchone()


def memberships_for_user(*, user: User) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(user=user)
        .select_related("organization")
        .order_by("organization__name", "organization_id")
    )


def members_of(*, organization: Organization) -> QuerySet[Membership]:
    return Membership.objects.filter(organization=organization).select_related("user").order_by(
        "user__email"
    )


def pending_invitations(*, organization: Organization) -> QuerySet[Invitation]:
    return Invitation.objects.filter(
        organization=organization,
        accepted_at__isnull=True,
        created_at__gt=timezone.now() - INVITE_MAX_AGE,
    ).order_by("email")


def api_keys_of(*, organization: Organization) -> QuerySet[ApiKey]:
    return (
        ApiKey.objects.filter(organization=organization)
        .select_related("created_by")
        .order_by("-created_at", "-pk")
    )


def active_key_count(*, organization: Organization) -> int:
    now = timezone.now()
    return (
        ApiKey.objects.filter(organization=organization, revoked_at__isnull=True)
        .exclude(expires_at__lte=now)
        .count()
    )


def configured_model_names() -> list[str] | None:
    """The gateway's model names, or None when no readable gateway config is set."""
    if not settings.GATEWAY_CONFIG:
        return None
    try:
        return sorted(load_config(settings.GATEWAY_CONFIG).models)
    except (ConfigFileError, OSError):
        return None

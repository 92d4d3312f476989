from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg
from django.db.models import QuerySet
from django.utils import timezone

from accounts.crypto import CredentialDecryptError, decrypt_secret
from accounts.links import INVITE_MAX_AGE
from accounts.models import ApiKey, Invitation, Membership, Organization, ProviderCredential, User

# The key format and its keyed hash, for the proxy's key check: the gateway reads accounts through
# this module only.
from accounts.tokens import KEY_PREFIX as KEY_PREFIX
from accounts.tokens import hash_key as hash_key

# The key, then its organisation's limits, then its lineage (the first key of its rotation chain,
# which its limiter counters are named after), then its organisation's CORS origins. A change to the
# key or its organisation counts as a change of the key. The organisation's limits are capped by the
# operator's ceiling here, so no row stored before a ceiling was set (or written around the forms)
# can exceed it; LEAST ignores NULLs and 0 means "none" for every limit.
_KEY_QUERY = (
    "SELECT k.id, k.organization_id, k.hashed, k.prefix, k.allowed_models, k.expires_at, k.revoked_at,"
    " GREATEST(k.updated_at, o.updated_at), k.rpm_limit, k.tpm_limit, k.monthly_budget_usd,"
    " LEAST(NULLIF(o.rpm_limit, 0), NULLIF(o.max_rpm, 0)),"
    " LEAST(NULLIF(o.tpm_limit, 0), NULLIF(o.max_tpm, 0)),"
    " LEAST(NULLIF(o.monthly_budget_usd, 0), NULLIF(o.max_monthly_budget_usd, 0)),"
    " COALESCE(k.lineage_id, k.id), o.cors_allowed_origins"
    " FROM accounts_apikey k JOIN accounts_organization o ON o.id = k.organization_id"
)


async def api_keys_changed_since(conn: psycopg.AsyncConnection, since: datetime | None) -> list[tuple[Any, ...]]:
    """Key rows for the proxy's in-process cache: all of them, or those changed since ``since``."""
    async with conn.cursor() as cursor:
        if since is None:
            await cursor.execute(_KEY_QUERY)
        else:
            await cursor.execute(f"{_KEY_QUERY} WHERE k.updated_at >= %s OR o.updated_at >= %s", (since, since))
        return await cursor.fetchall()


async def api_key_count(conn: psycopg.AsyncConnection) -> int:
    """How many key rows exist: fewer than the proxy's cache holds means some were deleted."""
    async with conn.cursor() as cursor:
        await cursor.execute("SELECT count(*) FROM accounts_apikey")
        row = await cursor.fetchone()
    return int(row[0]) if row else 0


async def api_key_by_hash(conn: psycopg.AsyncConnection, hashed: str) -> tuple[Any, ...] | None:
    async with conn.cursor() as cursor:
        await cursor.execute(f"{_KEY_QUERY} WHERE k.hashed = %s", (hashed,))
        return await cursor.fetchone()


async def record_keys_last_used(conn: psycopg.AsyncConnection, used: dict[int, datetime]) -> int:
    """One UPDATE for a batch of ``{key_id: last use}``; never moves a time backwards.

    For the proxy, every few seconds per worker. It leaves ``updated_at`` alone on purpose: that
    column drives the workers' key-cache refresh, and a use changes nothing they cache.
    Returns the number of rows updated.
    """
    if not used:
        return 0
    ids, times = zip(*sorted(used.items()), strict=True)
    async with conn.cursor() as cursor:
        await cursor.execute(
            "UPDATE accounts_apikey AS k SET last_used_at = u.used_at"
            " FROM unnest(%s::bigint[], %s::timestamptz[]) AS u(id, used_at)"
            " WHERE k.id = u.id AND (k.last_used_at IS NULL OR k.last_used_at < u.used_at)",
            (list(ids), list(times)),
        )
        return int(cursor.rowcount)


_CREDENTIAL_COLUMNS = "organization_id, provider, ciphertext, updated_at"


async def provider_credentials_changed_since(
    conn: psycopg.AsyncConnection, since: datetime | None
) -> list[tuple[Any, ...]]:
    """Organisations' own provider keys for the proxy: ``(org_id, provider_name, ciphertext, updated_at)``.

    All rows when ``since`` is None, else those changed at or after it. A NULL ciphertext means the
    organisation deleted its key: drop it from the cache and use the operator's key again. Decrypt
    with ``provider_secret``.
    """
    async with conn.cursor() as cursor:
        if since is None:
            await cursor.execute(f"SELECT {_CREDENTIAL_COLUMNS} FROM accounts_providercredential")
        else:
            await cursor.execute(
                f"SELECT {_CREDENTIAL_COLUMNS} FROM accounts_providercredential WHERE updated_at >= %s",
                (since,),
            )
        return await cursor.fetchall()


def provider_secret(ciphertext: str) -> str | None:
    """The provider key a stored ciphertext holds, or None when no key of CREDENTIALS_KEYS opens it."""
    try:
        return decrypt_secret(ciphertext)
    except CredentialDecryptError:
        return None


def memberships_for_user(*, user: User) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(user=user)
        .select_related("organization")
        .order_by("organization__name", "organization_id")
    )


def members_of(*, organization: Organization) -> QuerySet[Membership]:
    return Membership.objects.filter(organization=organization).select_related("user").order_by("user__email")


def pending_invitations(*, organization: Organization) -> QuerySet[Invitation]:
    return Invitation.objects.filter(
        organization=organization,
        accepted_at__isnull=True,
        created_at__gt=timezone.now() - INVITE_MAX_AGE,
    ).order_by("email")


def api_keys_of(*, organization: Organization) -> QuerySet[ApiKey]:
    return ApiKey.objects.filter(organization=organization).select_related("created_by").order_by("-created_at", "-pk")


def active_key_count(*, organization: Organization) -> int:
    now = timezone.now()
    return (
        ApiKey.objects.filter(organization=organization, revoked_at__isnull=True).exclude(expires_at__lte=now).count()
    )


def provider_credentials_of(*, organization: Organization) -> QuerySet[ProviderCredential]:
    """The organisation's current provider keys (deleted ones are kept as empty rows, not listed)."""
    return (
        ProviderCredential.objects.filter(organization=organization, ciphertext__isnull=False)
        .select_related("created_by")
        .order_by("provider")
    )

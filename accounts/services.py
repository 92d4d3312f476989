from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from accounts.models import ApiKey, Membership, Organization, User
from accounts.tokens import generate_key, hash_key


@dataclass(frozen=True)
class CreatedKey:
    api_key: ApiKey
    plaintext: str


def create_organization(*, name: str, owner: User | None = None) -> Organization:
    with transaction.atomic():
        org = Organization.objects.create(name=name)
        if owner is not None:
            Membership.objects.create(organization=org, user=owner, role=Membership.Role.OWNER)
    return org


def create_api_key(
    *,
    organization: Organization,
    name: str,
    created_by: User | None = None,
    expires_at: datetime | None = None,
    allowed_models: list[str] | None = None,
) -> CreatedKey:
    plaintext, prefix = generate_key()
    api_key = ApiKey.objects.create(
        organization=organization,
        name=name,
        prefix=prefix,
        hashed=hash_key(plaintext),
        created_by=created_by,
        expires_at=expires_at,
        allowed_models=allowed_models or [],
    )
    return CreatedKey(api_key=api_key, plaintext=plaintext)


def revoke_api_key(*, api_key: ApiKey) -> bool:
    """Revoke once; returns False when it was already revoked."""
    now = timezone.now()
    updated = ApiKey.objects.filter(pk=api_key.pk, revoked_at__isnull=True).update(
        revoked_at=now, updated_at=now
    )
    api_key.refresh_from_db()
    return updated == 1


def bootstrap_local_operator(*, data_dir: Path) -> dict[str, str]:
    """First run of ./gw up: an admin login and a first API key, each shown once."""
    email = "admin@localhost"
    password_file = data_dir / "admin-password.txt"
    welcome = {"email": email, "password_file": str(password_file)}
    if User.objects.filter(email=email).exists():
        return welcome
    password = secrets.token_urlsafe(12)
    with transaction.atomic():
        user = User.objects.create_superuser(email, password)
        org = create_organization(name="Local", owner=user)
        created = create_api_key(organization=org, name="quickstart", created_by=user)
    password_file.write_text(password + "\n")
    password_file.chmod(0o600)
    welcome.update(password=password, api_key=created.plaintext)
    return welcome


DEMO_TRAFFIC_KEY_NAME = "demo traffic"


def issue_demo_traffic_key() -> str:
    """A fresh key for demo mode's traffic generator; the previous run's key is revoked."""
    org = Organization.objects.order_by("pk").first() or create_organization(name="Local")
    with transaction.atomic():
        for old in ApiKey.objects.filter(organization=org, name__startswith=DEMO_TRAFFIC_KEY_NAME):
            revoke_api_key(api_key=old)
            # Names are unique per org: free this one for the new key.
            ApiKey.objects.filter(pk=old.pk).update(name=f"{DEMO_TRAFFIC_KEY_NAME} (revoked {old.pk})")
        created = create_api_key(organization=org, name=DEMO_TRAFFIC_KEY_NAME)
    return created.plaintext

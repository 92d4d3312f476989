"""Organisations' own keys for the operator's providers: store, delete, and test one."""

from __future__ import annotations

import httpx
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts import crypto
from accounts.models import Organization, ProviderCredential, User
from accounts.services import AccountsError, violated_constraint
from providers.checks import CheckResult, check_secret
from providers.configured import credential_problem

MIN_SECRET_LENGTH = 12
MAX_SECRET_LENGTH = 10_000


def set_provider_credential(
    *, organization: Organization, provider: str, secret: str, created_by: User | None = None
) -> tuple[ProviderCredential, bool]:
    """Store (or replace) the organisation's key for a provider; returns (credential, created).

    A replaced key is a new credential: its test status starts over. The secret is encrypted
    before it leaves this function and only its last four characters are kept in clear.
    """
    if not MIN_SECRET_LENGTH <= len(secret) <= MAX_SECRET_LENGTH:
        raise AccountsError(f"A key is {MIN_SECRET_LENGTH} to {MAX_SECRET_LENGTH} characters long.")
    problem = credential_problem(provider)
    if problem is not None:
        raise AccountsError(problem)
    now = timezone.now()
    values = {
        "ciphertext": crypto.encrypt_secret(secret),
        "last4": crypto.last_four(secret),
        "created_by": created_by,
        "created_at": now,
        "updated_at": now,
        "last_tested_at": None,
        "last_test_ok": None,
        "last_test_message": "",
    }
    for _ in range(2):  # a concurrent first insert loses the race once, then updates
        try:
            with transaction.atomic():
                existing = (
                    ProviderCredential.objects.select_for_update()
                    .filter(organization=organization, provider=provider)
                    .first()
                )
                if existing is None:
                    credential = ProviderCredential.objects.create(
                        organization=organization, provider=provider, **values
                    )
                    return credential, True
                was_active = existing.is_active
                for field, value in values.items():
                    setattr(existing, field, value)
                existing.save()
                return existing, not was_active
        except IntegrityError as exc:
            if violated_constraint(exc) != "one_credential_per_provider":
                raise
    raise AccountsError("This key was changed at the same moment by someone else. Try again.")


def delete_provider_credential(*, credential: ProviderCredential) -> bool:
    """Forget the secret; the row stays (NULL ciphertext, fresh updated_at) so the proxy sees it.

    Returns False when it was already deleted.
    """
    updated = ProviderCredential.objects.filter(pk=credential.pk, ciphertext__isnull=False).update(
        ciphertext=None,
        last4="",
        last_tested_at=None,
        last_test_ok=None,
        last_test_message="",
        updated_at=timezone.now(),
    )
    credential.refresh_from_db()
    return updated == 1


def check_provider_credential(
    *, credential: ProviderCredential, transport: httpx.BaseTransport | None = None
) -> CheckResult:
    """Make one cheap call with the stored key and record the outcome on the credential."""
    ciphertext = credential.ciphertext
    if ciphertext is None:
        raise AccountsError("This key was deleted.")
    try:
        secret = crypto.decrypt_secret(ciphertext)
    except crypto.CredentialDecryptError:
        result = CheckResult(False, "The stored key cannot be decrypted: it must be entered again.")
    else:
        result = check_secret(provider_name=credential.provider, secret=secret, transport=transport)
    now = timezone.now()
    # Recorded only if the key was not replaced or deleted meanwhile: the result is about this one.
    # updated_at is left alone: a test changes nothing the proxy caches.
    ProviderCredential.objects.filter(pk=credential.pk, ciphertext=ciphertext).update(
        last_tested_at=now, last_test_ok=result.ok, last_test_message="" if result.ok else result.message
    )
    credential.refresh_from_db()
    return result

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any


from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accounts.links import INVITE_MAX_AGE, VERIFY_MAX_AGE, invitation_token, verification_token
from accounts import crypto
from accounts.models import (
    KEY_SCOPES,
    ApiKey,
    Invitation,
    Membership,
    Organization,
    ProviderCredential,
    User,
)
from accounts.selectors import memberships_for_user
from accounts.throttle import INVITATIONS_PER_ORGANIZATION
from accounts.tokens import generate_key, hash_key

log = logging.getLogger(__name__)


class AccountsError(Exception):
    """A refused action, with a message fit to show the user."""


class KeyNameTaken(IntegrityError):
    """The organisation already has a key with this name (revoked keys keep theirs)."""


@dataclass(frozen=True)
class CreatedKey:
    api_key: ApiKey
    plaintext: str


def _new_org_limits() -> dict[str, Any]:
    """NEW_ORG_* settings: the starting limits, and the ceiling the organisation cannot lift itself."""
    rpm, tpm = settings.NEW_ORG_RPM or None, settings.NEW_ORG_TPM or None
    budget = settings.NEW_ORG_MONTHLY_BUDGET_USD or None
    return {
        "rpm_limit": rpm,
        "max_rpm": rpm,
        "tpm_limit": tpm,
        "max_tpm": tpm,
        "monthly_budget_usd": budget,
        "max_monthly_budget_usd": budget,
    }


def create_organization(*, name: str, owner: User | None = None, by_operator: bool = False) -> Organization:
    """A new organisation; unless the operator makes it, it starts at the NEW_ORG_* limits."""
    limits = {} if by_operator else _new_org_limits()
    with transaction.atomic():
        org = Organization.objects.create(name=name, **limits)
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
    scopes: list[str] | None = None,
    rpm_limit: int | None = None,
    tpm_limit: int | None = None,
    monthly_budget_usd: Decimal | None = None,
    is_operator: bool = False,
    lineage_id: int | None = None,
) -> CreatedKey:
    unknown = set(scopes or []) - set(KEY_SCOPES)
    if unknown:
        raise AccountsError(f"Unknown scope(s): {', '.join(sorted(unknown))}.")
    limits = {"rpm_limit": rpm_limit, "tpm_limit": tpm_limit, "monthly_budget_usd": monthly_budget_usd}
    problems = limits_over_ceiling(organization=organization, limits=limits, empty_allowed=True)
    if problems:
        raise LimitsOverCeiling(problems)
    plaintext, prefix = generate_key()
    try:
        with transaction.atomic():
            api_key = ApiKey.objects.create(
                organization=organization,
                name=name,
                prefix=prefix,
                hashed=hash_key(plaintext),
                created_by=created_by,
                expires_at=expires_at,
                allowed_models=allowed_models or [],
                scopes=sorted(set(scopes or [])),
                rpm_limit=rpm_limit,
                tpm_limit=tpm_limit,
                monthly_budget_usd=monthly_budget_usd,
                is_operator=is_operator,
                lineage_id=lineage_id,
            )
    except IntegrityError as exc:
        if violated_constraint(exc) == "unique_key_name_per_org":
            raise KeyNameTaken(name) from exc
        raise
    return CreatedKey(api_key=api_key, plaintext=plaintext)


def violated_constraint(exc: IntegrityError) -> str | None:
    diag = getattr(exc.__cause__, "diag", None)
    return getattr(diag, "constraint_name", None)


def revoke_api_key(*, api_key: ApiKey) -> bool:
    """Revoke once; returns False when it was already revoked."""
    now = timezone.now()
    updated = ApiKey.objects.filter(pk=api_key.pk, revoked_at__isnull=True).update(revoked_at=now, updated_at=now)
    api_key.refresh_from_db()
    return updated == 1


def revoke_api_keys(*, keys: QuerySet[ApiKey]) -> int:
    """Revoke every key of the queryset not yet revoked; returns how many were."""
    now = timezone.now()
    return keys.filter(revoked_at__isnull=True).update(revoked_at=now, updated_at=now)


def revoke_keys_created_by(*, user: User, organization_id: int | None = None) -> int:
    """Revoke the keys someone created (in one organisation, or everywhere)."""
    keys = ApiKey.objects.filter(created_by=user)
    if organization_id is not None:
        keys = keys.filter(organization_id=organization_id)
    return revoke_api_keys(keys=keys)


def deactivate_user(*, user: User) -> int:
    """Log someone out of everything: no login, and none of the keys they created works."""
    with transaction.atomic():
        if user.is_active:
            user.is_active = False
            user.save(update_fields=["is_active"])
        return revoke_keys_created_by(user=user)


def delete_user(*, user: User) -> None:
    """Delete an account. Its keys are revoked first and kept (their creator becomes empty), so
    the proxy sees the revocation; a missing creator never turns a key into an operator's key."""
    with transaction.atomic():
        revoke_keys_created_by(user=user)
        user.delete()


def delete_membership(*, membership: Membership) -> None:
    """The operator's removal of a membership: no last-owner rule, the same key revocation."""
    with transaction.atomic():
        revoke_keys_created_by(user=membership.user, organization_id=membership.organization_id)
        membership.delete()


def delete_organization(*, organization: Organization) -> None:
    """Delete an organisation with everything in it; its keys are revoked first.

    The key rows go with it: the proxy notices deleted rows by their count within a refresh.
    """
    with transaction.atomic():
        revoke_api_keys(keys=ApiKey.objects.filter(organization=organization))
        organization.delete()


LOCAL_OPERATOR_EMAIL = "admin@localhost"


def bootstrap_local_operator(*, data_dir: Path) -> dict[str, str]:
    """First run of ./gw up: an admin login and a first API key, each shown once."""
    email = LOCAL_OPERATOR_EMAIL
    password_file = data_dir / "admin-password.txt"
    welcome = {"email": email, "password_file": str(password_file)}
    if User.objects.filter(email=email).exists():
        return welcome
    password = secrets.token_urlsafe(12)
    with transaction.atomic():
        user = User.objects.create_superuser(email, password)
        org = create_organization(name="Local", owner=user, by_operator=True)
        created = create_api_key(organization=org, name="quickstart", created_by=user, is_operator=True)
    password_file.write_text(password + "\n")
    password_file.chmod(0o600)
    welcome.update(password=password, api_key=created.plaintext)
    return welcome


DEMO_TRAFFIC_KEY_NAME = "demo traffic"


def issue_demo_traffic_key() -> str:
    """A fresh key for demo mode's traffic generator; the previous run's key is revoked. The traffic goes to
    the organisation ./gw up's admin lands on (its first), so that its dashboard is the one that fills."""
    admin = User.objects.filter(email=LOCAL_OPERATOR_EMAIL).first()
    landing = memberships_for_user(user=admin).first() if admin is not None else None
    org = (
        landing.organization
        if landing is not None
        else Organization.objects.order_by("pk").first() or create_organization(name="Local", by_operator=True)
    )
    with transaction.atomic():
        for old in ApiKey.objects.filter(organization=org, name__startswith=DEMO_TRAFFIC_KEY_NAME):
            revoke_api_key(api_key=old)
            # Names are unique per org: free this one for the new key.
            ApiKey.objects.filter(pk=old.pk).update(name=f"{DEMO_TRAFFIC_KEY_NAME} (revoked {old.pk})")
        created = create_api_key(organization=org, name=DEMO_TRAFFIC_KEY_NAME)
    return created.plaintext


def _default_org_name(email: str) -> str:
    return f"{email.split('@')[0]}'s organisation"[:100]


def sign_up(*, email: str, password: str, invitation: Invitation | None = None) -> User:
    """A new user; an invitation for this address is accepted too.

    Whoever signs up through an invitation for their address joins the inviting organisation only.
    Otherwise, with SIGNUP=open, they get an organisation of their own; with SIGNUP=invite only an
    invitation for this very address lets them in.
    """
    invited = invitation is not None and invitation.email == User.objects.normalize_email(email)
    if settings.SIGNUP == "closed" or (settings.SIGNUP == "invite" and not invited):
        raise AccountsError("Sign-up is by invitation only." if settings.SIGNUP == "invite" else "Sign-up is closed.")
    with transaction.atomic():
        user = User.objects.create_user(email, password)
        if invitation is not None and invited:
            accept_invitation(invitation=invitation, user=user)
        else:
            create_organization(name=_default_org_name(user.email), owner=user)
    return user


def mark_email_verified(*, user: User) -> None:
    if user.email_verified_at is None:
        user.email_verified_at = timezone.now()
        user.save(update_fields=["email_verified_at"])


def _send_email(subject: str, body: str, to: str) -> bool:
    """Send one email; False if the mail server refused or was unreachable."""
    try:
        send_mail(subject, body, None, [to])
    except OSError as exc:  # smtplib's errors are OSErrors
        # Neither the body nor the link: they carry a token.
        log.warning("email %r could not be sent: %s", subject, exc.__class__.__name__)
        return False
    return True


def send_verification_email(*, user: User, site_root: str) -> bool:
    url = site_root + reverse("verify_email", args=[verification_token(user)])
    context = {"user": user, "url": url, "days": VERIFY_MAX_AGE.days}
    body = render_to_string("accounts/email/verify_email.txt", context)
    return _send_email("Verify your email address", body, user.email)


def invite_member(
    *, organization: Organization, email: str, role: str, invited_by: User, site_root: str
) -> tuple[Invitation, bool]:
    """Email a signed link, returning the invitation and whether the email went out.

    Only the newest invitation per address stays valid. Each organisation sends a limited number an
    hour, and the subject carries none of its chosen text: our mail server is not a spam relay.
    """
    org_key = str(organization.pk)
    if INVITATIONS_PER_ORGANIZATION.is_blocked(org_key):
        raise AccountsError("This organisation sent many invitations in the last hour. Try again later.")
    INVITATIONS_PER_ORGANIZATION.hit(org_key)
    with transaction.atomic():
        Invitation.objects.filter(organization=organization, email=email, accepted_at__isnull=True).delete()
        invitation = Invitation.objects.create(organization=organization, email=email, role=role, invited_by=invited_by)
    url = site_root + reverse("accept_invitation", args=[invitation_token(invitation)])
    context = {"invitation": invitation, "url": url, "days": INVITE_MAX_AGE.days}
    body = render_to_string("accounts/email/invitation.txt", context)
    sent = _send_email("You are invited to join an organisation on the LLM gateway", body, email)
    return invitation, sent


def accept_invitation(*, invitation: Invitation, user: User) -> Membership:
    if invitation.email != user.email:
        raise AccountsError(f"This invitation is for {invitation.email}.")
    with transaction.atomic():
        membership, _ = Membership.objects.get_or_create(
            organization_id=invitation.organization_id,
            user=user,
            defaults={"role": invitation.role},
        )
        Invitation.objects.filter(pk=invitation.pk).update(accepted_at=timezone.now())
        # The link reached this inbox, which proves the address.
        mark_email_verified(user=user)
    return membership


def cancel_invitation(*, invitation: Invitation) -> None:
    invitation.delete()


def remove_member(*, membership: Membership) -> None:
    """Remove someone from an organisation and revoke the keys they created there."""
    with transaction.atomic():
        # Lock the org's memberships so two removals cannot both pass the last-owner check.
        members = list(
            Membership.objects.select_for_update().filter(organization_id=membership.organization_id).order_by("pk")
        )
        target = next((m for m in members if m.pk == membership.pk), None)
        if target is None:
            return
        owners = [m for m in members if m.role == Membership.Role.OWNER]
        if target.role == Membership.Role.OWNER and len(owners) == 1:
            raise AccountsError("An organisation needs an owner: this is the last one.")
        target.delete()
        revoke_api_keys(
            keys=ApiKey.objects.filter(organization_id=target.organization_id, created_by_id=target.user_id)
        )


def _capped(value: Any, ceiling: Any) -> Any:
    """A key's limit under a ceiling lowered since it was set."""
    return min(value, ceiling) if value is not None and ceiling else value


def rotate_api_key(*, api_key: ApiKey, rotated_by: User) -> CreatedKey:
    """Revoke a key at once and issue a new one with the same name, models, scopes, expiry and limits.

    The new key joins the old key's lineage, so its rate counters and month-to-date spend carry on.

    The old key is renamed "<name> (rotated <date> #<id>)" since names are unique per org.
    """
    with transaction.atomic():
        old = ApiKey.objects.select_for_update().get(pk=api_key.pk)
        if old.status != "active":
            raise AccountsError("Only an active key can be rotated; create a new key instead.")
        now = timezone.now()
        suffix = f" (rotated {now:%Y-%m-%d} #{old.pk})"
        old_name = old.name[: 100 - len(suffix)] + suffix
        ApiKey.objects.filter(pk=old.pk).update(name=old_name, revoked_at=now, updated_at=now)
        created = create_api_key(
            organization=old.organization,
            name=old.name,
            created_by=rotated_by,
            expires_at=old.expires_at,
            allowed_models=list(old.allowed_models),
            scopes=list(old.scopes),
            rpm_limit=_capped(old.rpm_limit, old.organization.max_rpm),
            tpm_limit=_capped(old.tpm_limit, old.organization.max_tpm),
            monthly_budget_usd=_capped(old.monthly_budget_usd, old.organization.max_monthly_budget_usd),
            # Not is_operator: the new key is the rotating person's, and goes when they go.
            lineage_id=old.lineage,
        )
    api_key.refresh_from_db()
    return created


@dataclass(frozen=True)
class RotationReport:
    reencrypted: int
    already_current: int
    unreadable: list[int]
    changed_meanwhile: int


def rotate_credentials_key() -> RotationReport:
    """Re-encrypt every stored credential with the first key of CREDENTIALS_KEYS.

    Idempotent: rows the first key already opens are left alone. Each row is updated with a
    conditional UPDATE (same ciphertext as read), so a credential replaced meanwhile is not
    overwritten with its older secret; such rows are counted and left for the next run (they
    were written with the current key anyway). updated_at is untouched: the plaintext is the same.
    """
    reencrypted = current = changed = 0
    unreadable: list[int] = []
    rows = ProviderCredential.objects.filter(ciphertext__isnull=False).values_list("pk", "ciphertext")
    for pk, ciphertext in rows.order_by("pk").iterator():
        if ciphertext is None:  # deleted since the query started
            continue
        if crypto.uses_current_key(ciphertext):
            current += 1
            continue
        try:
            fresh = crypto.reencrypt(ciphertext)
        except crypto.CredentialDecryptError:
            unreadable.append(pk)
            continue
        updated = ProviderCredential.objects.filter(pk=pk, ciphertext=ciphertext).update(ciphertext=fresh)
        if updated == 1:
            reencrypted += 1
        else:
            changed += 1
    return RotationReport(reencrypted, current, unreadable, changed)


LIMIT_CEILINGS = (("rpm_limit", "max_rpm"), ("tpm_limit", "max_tpm"), ("monthly_budget_usd", "max_monthly_budget_usd"))


class LimitsOverCeiling(AccountsError):
    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__(" ".join(problems.values()))
        self.problems = problems


def limits_over_ceiling(
    *, organization: Organization, limits: Mapping[str, Any], empty_allowed: bool
) -> dict[str, str]:
    """Field -> why it is refused: a limit above the operator's ceiling for the organisation, or,
    unless ``empty_allowed`` (a key's limits, under its organisation's), no limit under a ceiling.
    Only the fields present in ``limits`` are checked."""
    problems = {}
    for field, ceiling_field in LIMIT_CEILINGS:
        ceiling = getattr(organization, ceiling_field)
        if field not in limits or not ceiling:
            continue
        value = limits[field]
        if value is None and not empty_allowed:
            problems[field] = f"The operator set a ceiling of {ceiling} for this organisation: choose at most that."
        elif value is not None and value > ceiling:
            problems[field] = f"At most {ceiling}: the ceiling the operator set for this organisation."
    return problems


def update_organization_limits(
    *,
    organization: Organization,
    rpm_limit: int | None,
    tpm_limit: int | None,
    monthly_budget_usd: Decimal | None,
    budget_alert_thresholds: list[int],
) -> None:
    """Set the organisation-wide limits, within its ceiling; every proxy worker applies them within a second."""
    limits = {"rpm_limit": rpm_limit, "tpm_limit": tpm_limit, "monthly_budget_usd": monthly_budget_usd}
    problems = limits_over_ceiling(organization=organization, limits=limits, empty_allowed=False)
    if problems:
        raise LimitsOverCeiling(problems)
    organization.rpm_limit = rpm_limit
    organization.tpm_limit = tpm_limit
    organization.monthly_budget_usd = monthly_budget_usd
    organization.budget_alert_thresholds = budget_alert_thresholds
    organization.save(
        update_fields=["rpm_limit", "tpm_limit", "monthly_budget_usd", "budget_alert_thresholds", "updated_at"]
    )


def update_organization_timezone(*, organization: Organization, timezone_name: str) -> None:
    """The timezone whose days the dashboard and SLA reports count in (an IANA name, checked by the form)."""
    organization.timezone = timezone_name
    organization.save(update_fields=["timezone", "updated_at"])


def update_organization_cors(*, organization: Organization, origins: list[str]) -> None:
    """Browser origins allowed to call /v1/ with the organisation's keys (checked by the form); workers
    pick them up with the keys, within a second."""
    organization.cors_allowed_origins = origins
    organization.save(update_fields=["cors_allowed_origins", "updated_at"])

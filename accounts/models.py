from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models
from django.utils import timezone


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        user = self.model(email=self.normalize_email(email), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        # Operators create superusers by hand; there is no inbox to prove.
        extra.setdefault("email_verified_at", timezone.now())
        return self.create_user(email, password, is_staff=True, is_superuser=True, **extra)

    @classmethod
    def normalize_email(cls, email: str | None) -> str:
        # Logins are typed by people: one account per address whatever its case.
        return (email or "").strip().lower()

    def get_by_natural_key(self, username: str | None) -> User:
        return self.get(email=self.normalize_email(username))


class User(AbstractUser):
    username = None  # type: ignore[assignment]
    email = models.EmailField(unique=True)
    email_verified_at = models.DateTimeField(null=True, blank=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []
    objects: ClassVar[UserManager] = UserManager()  # type: ignore[assignment]

    @property
    def email_verified(self) -> bool:
        return self.email_verified_at is not None


class Organization(models.Model):
    name = models.CharField(max_length=100)
    created_at = models.DateTimeField(default=timezone.now)
    # An IANA name: the days of the dashboard's bars and of SLA reports are this zone's days.
    timezone = models.CharField(max_length=64, default="UTC")
    # Browser origins (scheme://host[:port]) whose pages may call /v1/ with this organisation's keys.
    cors_allowed_origins = models.JSONField(default=list, blank=True)
    # Limits for all of the organisation's keys together; empty means none.
    rpm_limit = models.PositiveIntegerField(null=True, blank=True)
    tpm_limit = models.PositiveIntegerField(null=True, blank=True)
    monthly_budget_usd = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    # Percentages of the monthly budget at which owners and admins get an email.
    budget_alert_thresholds = models.JSONField(default=list, blank=True)
    # The operator's ceiling, set in Django admin only: the organisation's own admins may set
    # limits up to these, never above, and the proxy caps whatever is stored at them. Empty: none.
    max_rpm = models.PositiveIntegerField(null=True, blank=True)
    max_tpm = models.PositiveIntegerField(null=True, blank=True)
    max_monthly_budget_usd = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    # Proxy workers poll key and organisation changes by this, to refresh their caches.
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner"
        ADMIN = "admin"
        MEMBER = "member"

    organization = models.ForeignKey(Organization, models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "user"], name="one_membership_per_org")]

    @property
    def can_manage(self) -> bool:
        """Owners and admins manage members and every key of the organisation."""
        return self.role in (self.Role.OWNER, self.Role.ADMIN)


class Invitation(models.Model):
    """An emailed invite; the link carries a signed, expiring reference to this row."""

    organization = models.ForeignKey(Organization, models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=10, choices=Membership.Role.choices, default=Membership.Role.MEMBER)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    accepted_at = models.DateTimeField(null=True, blank=True)


SCOPE_MANAGEMENT = "management"
KEY_SCOPES = (SCOPE_MANAGEMENT,)


class ApiKey(models.Model):
    """A gateway key. Only its HMAC is stored; the key itself is shown once at creation."""

    organization = models.ForeignKey(Organization, models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=32, unique=True)
    hashed = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    allowed_models = models.JSONField(default=list, blank=True)
    rpm_limit = models.PositiveIntegerField(null=True, blank=True)
    tpm_limit = models.PositiveIntegerField(null=True, blank=True)
    monthly_budget_usd = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    # What the key may do besides calling models: "management" opens the management API (/api/).
    scopes = models.JSONField(default=list, blank=True)
    # Created as the operator's (command line, first run): its management scope acts as an admin of
    # its organisation with no person behind it. Never inferred from a missing creator.
    is_operator = models.BooleanField(default=False)
    # The first key of a rotation chain (NULL: this key itself). Limits and month-to-date spend are
    # counted per lineage, so rotating a key keeps its spend.
    lineage_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    # Every change bumps this; gateway workers poll it to refresh their in-process key cache.
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "name"], name="unique_key_name_per_org")]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def has_management_scope(self) -> bool:
        return SCOPE_MANAGEMENT in (self.scopes or [])

    @property
    def lineage(self) -> int:
        """The id its limits and spend are counted under: the first key of its rotation chain."""
        return self.lineage_id or self.pk

    @property
    def status(self) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= timezone.now():
            return "expired"
        return "active"


class ProviderCredential(models.Model):
    """An organisation's own key for one of the operator's providers, encrypted at rest.

    ``provider`` is a provider *name* from the gateway config, so it maps to deployments. There is
    one row per organisation and provider for good: deleting clears ``ciphertext`` (NULL) and bumps
    ``updated_at``, so that the proxy, which polls rows changed since its last look, sees the delete.
    """

    organization = models.ForeignKey(Organization, models.CASCADE, related_name="provider_credentials")
    provider = models.CharField(max_length=100)
    ciphertext = models.TextField(null=True, blank=True)  # Fernet token; NULL once deleted
    last4 = models.CharField(max_length=4, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)
    last_tested_at = models.DateTimeField(null=True, blank=True)
    last_test_ok = models.BooleanField(null=True, blank=True)
    # Why the last test failed, as the provider said it, with the secret redacted.
    last_test_message = models.CharField(max_length=300, blank=True, default="")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "provider"], name="one_credential_per_provider")]

    def __str__(self) -> str:
        return f"{self.provider} (…{self.last4})"

    @property
    def is_active(self) -> bool:
        return self.ciphertext is not None

    @property
    def test_status(self) -> str:
        if self.last_test_ok is None:
            return "untested"
        return "ok" if self.last_test_ok else "failed"


class BudgetAlert(models.Model):
    """One sent budget email: its unique row is what makes sending it exactly-once."""

    organization = models.ForeignKey(Organization, models.CASCADE, related_name="budget_alerts")
    month = models.CharField(max_length=7)  # "2026-11"
    threshold = models.PositiveSmallIntegerField()
    spend_usd = models.DecimalField(max_digits=12, decimal_places=2)
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "month", "threshold"], name="one_alert_per_threshold")
        ]

"""SLA report settings per organisation, and the claim of each monthly report email."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

# AWS S3's service credits: below 99.9 % → 10 %, below 99.0 % → 25 %, below 95.0 % → 100 % of the fee.
DEFAULT_TARGET = Decimal("99.900")
DEFAULT_TIERS: list[dict[str, str]] = [
    {"below": "99.9", "credit": "10"},
    {"below": "99.0", "credit": "25"},
    {"below": "95.0", "credit": "100"},
]


def default_tiers() -> list[dict[str, str]]:
    return [dict(tier) for tier in DEFAULT_TIERS]


class ReportSettings(models.Model):
    organization = models.OneToOneField("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    sla_target = models.DecimalField(
        max_digits=6,
        decimal_places=3,
        default=DEFAULT_TARGET,
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))],
    )
    # [{"below": "99.9", "credit": "10"}, ...]: strings, so that no float ever rounds a threshold.
    credit_tiers = models.JSONField(default=default_tiers)
    monthly_fee = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    monthly_email = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    def tiers(self) -> list[tuple[Decimal, Decimal]]:
        """(below, credit) pairs, highest threshold first."""
        pairs = [(Decimal(str(t["below"])), Decimal(str(t["credit"]))) for t in self.credit_tiers]
        return sorted(pairs, reverse=True)


class MonthlyReport(models.Model):
    """One organisation's report of one month, claimed by exactly one worker before it is emailed."""

    class Status(models.TextChoices):
        PENDING = "pending"
        SENDING = "sending"  # claimed: a crash here leaves it so, never to be sent twice
        SENT = "sent"
        SKIPPED = "skipped"  # no owner to send to
        FAILED = "failed"

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    month = models.DateField()  # the first day of the month, in the organisation's timezone
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    recipients = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=300, blank=True, default="")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "month"], name="one_report_per_org_month")]

    def __str__(self) -> str:
        return f"{self.organization_id} {self.month:%Y-%m} {self.status}"

    def as_log(self) -> dict[str, Any]:
        return {"organization": self.organization_id, "month": self.month.isoformat(), "status": self.status}

"""What each organisation is told about incidents and its error budget, where, and what was sent."""

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

DEFAULT_SLO_TARGET = Decimal("99.9")
DEFAULT_ERROR_RATE_THRESHOLD = Decimal("5")  # percent; Google Cloud's "downtime minute" line


class MonitoringSettings(models.Model):
    organization = models.OneToOneField(
        "accounts.Organization", on_delete=models.CASCADE, related_name="monitoring_settings"
    )
    slo_target = models.DecimalField(
        max_digits=6,
        decimal_places=3,
        default=DEFAULT_SLO_TARGET,
        validators=[MinValueValidator(Decimal("50")), MaxValueValidator(Decimal("99.999"))],
        help_text="Percent of requests that should succeed (burn-rate alerts measure against it).",
    )
    error_rate_threshold = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=DEFAULT_ERROR_RATE_THRESHOLD,
        validators=[MinValueValidator(Decimal("0.1")), MaxValueValidator(Decimal("100"))],
        help_text="Percent of failed requests over 5 minutes that opens an incident for this organisation.",
    )
    notify_deployment_incidents = models.BooleanField(default=True)
    notify_organization_incidents = models.BooleanField(default=True)
    notify_burn_rate = models.BooleanField(default=True)


class AlertChannel(models.Model):
    class Kind(models.TextChoices):
        EMAIL = "email", "Email"
        WEBHOOK = "webhook", "Webhook (JSON)"
        SLACK = "slack", "Slack-compatible webhook"

    # Empty: an operator's channel, told of every deployment incident whichever organisations it concerns.
    organization = models.ForeignKey(
        "accounts.Organization", null=True, blank=True, on_delete=models.CASCADE, related_name="alert_channels"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    # Email: an address, or empty for the owners and admins (on an operator channel: the staff).
    # Webhooks: the URL, encrypted (it is a credential).
    target_ciphertext = models.TextField(blank=True, default="")
    target_hint = models.CharField(max_length=120)  # what pages show: the address, or the URL's host and last 4
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]


class BurnRateAlert(models.Model):
    """An organisation burning its error budget too fast, from when both windows crossed to recovery."""

    class Severity(models.TextChoices):
        PAGE = "page"
        TICKET = "ticket"

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    severity = models.CharField(max_length=8, choices=Severity.choices)
    opened_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    long_burn_rate = models.FloatField()
    short_burn_rate = models.FloatField()

    class Meta:
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "severity"],
                condition=models.Q(resolved_at__isnull=True),
                name="one_open_burn_alert_per_severity",
            )
        ]


class AlertDelivery(models.Model):
    """One message to one channel. Its (channel, dedup_key) is unique, so a transition is announced once."""

    class Status(models.TextChoices):
        PENDING = "pending"
        SENDING = "sending"  # claimed by one worker
        SENT = "sent"
        FAILED = "failed"

    channel = models.ForeignKey(AlertChannel, on_delete=models.CASCADE, related_name="deliveries")
    dedup_key = models.CharField(max_length=100)  # e.g. "incident:12:opened"
    subject = models.CharField(max_length=300)
    body = models.TextField()
    payload = models.JSONField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True, default="")  # never the URL

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="monitoring_delivery_due")]
        constraints = [models.UniqueConstraint(fields=["channel", "dedup_key"], name="one_delivery_per_transition")]

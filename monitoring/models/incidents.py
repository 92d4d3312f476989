"""Incidents: a deployment down, or an organisation's error rate over its threshold, from open to resolved."""

from django.conf import settings
from django.db import models


class IncidentScope(models.TextChoices):
    DEPLOYMENT = "deployment"  # a deployment went down: every organisation using it is concerned
    ORGANIZATION = "organization"  # an organisation's effective error rate crossed its threshold


class IncidentStatus(models.TextChoices):
    OPEN = "open"
    RESOLVED = "resolved"


class Incident(models.Model):
    scope = models.CharField(max_length=16, choices=IncidentScope.choices)
    # Set for an organisation incident; empty for a deployment's, which its IncidentImpact rows tie to organisations.
    organization = models.ForeignKey(
        "accounts.Organization", null=True, blank=True, on_delete=models.CASCADE, related_name="incidents"
    )
    deployment = models.CharField(max_length=300, blank=True, default="")
    title = models.CharField(max_length=300)
    status = models.CharField(max_length=16, choices=IncidentStatus.choices, default=IncidentStatus.OPEN)
    opened_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    # Opened inside a maintenance window that covers it for everyone concerned: no alert is sent for it.
    during_maintenance = models.BooleanField(default=False)
    # Every organisation's together; each organisation sees its own in IncidentImpact.
    affected_requests = models.PositiveIntegerField(default=0)
    rescued_requests = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-opened_at", "-id"]
        indexes = [models.Index(fields=["opened_at"], name="monitoring_incident_opened")]
        constraints = [
            # Two workers noticing the same outage open one incident: the second insert fails.
            models.UniqueConstraint(
                fields=["deployment"],
                condition=models.Q(status="open", scope="deployment"),
                name="one_open_incident_per_deployment",
            ),
            models.UniqueConstraint(
                fields=["organization"],
                condition=models.Q(status="open", scope="organization"),
                name="one_open_incident_per_organization",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class IncidentImpact(models.Model):
    """One organisation concerned by an incident, and its own requests during it."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="impacts")
    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    affected_requests = models.PositiveIntegerField(default=0)
    rescued_requests = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["incident", "organization"], name="one_impact_per_org")]


class IncidentUpdate(models.Model):
    """One entry of an incident's timeline."""

    class Kind(models.TextChoices):
        OPENED = "opened"
        UPDATE = "update"
        NOTE = "note"
        RESOLVED = "resolved"

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="updates")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    at = models.DateTimeField()
    message = models.TextField()
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    # A note an organisation adds to a shared deployment incident is its own: other organisations never see it.
    organization = models.ForeignKey("accounts.Organization", null=True, blank=True, on_delete=models.CASCADE)

    class Meta:
        ordering = ["at", "id"]


class StateChangeCursor(models.Model):
    """How far the incident job has read DeploymentStateChange (by id); moved only by a conditional UPDATE."""

    name = models.CharField(max_length=50, unique=True)
    last_id = models.BigIntegerField(default=0)

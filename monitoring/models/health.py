"""Every change of a deployment's state, the record that provider uptime is computed from."""

from django.db import models


class DeploymentState(models.TextChoices):
    UP = "up"
    DEGRADED = "degraded"  # answering, but its error rate or TTFT is above the thresholds
    DOWN = "down"  # breaker open, or probes failing N times in a row
    UNKNOWN = "unknown"  # no probe and no traffic to judge by: "no data", never "no downtime"


class DeploymentStateChange(models.Model):
    """From ``at`` on, ``deployment`` was in state ``new`` (until its next change)."""

    deployment = models.CharField(max_length=300)
    provider = models.CharField(max_length=100)
    at = models.DateTimeField()
    old = models.CharField(max_length=16, choices=DeploymentState.choices)
    new = models.CharField(max_length=16, choices=DeploymentState.choices)
    reason = models.CharField(max_length=300, blank=True, default="")

    class Meta:
        indexes = [models.Index(fields=["deployment", "at"], name="monitoring_state_dep_at")]
        ordering = ["at", "id"]

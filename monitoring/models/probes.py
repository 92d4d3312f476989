"""Probe results, and each deployment's current health state (the row state changes are written against)."""

from django.db import models

from monitoring.models.health import DeploymentState


class Probe(models.Model):
    class Kind(models.TextChoices):
        LIVENESS = "liveness"  # the provider's free, authenticated model list or model-get
        COMPLETION = "completion"  # a paid completion, only where the operator enabled it

    class Result(models.TextChoices):
        OK = "ok"
        FAILED = "failed"
        # A 4xx: the probe itself is wrong (key, model name); counted neither up nor down.
        MISCONFIGURED = "misconfigured"

    deployment = models.CharField(max_length=300)
    provider = models.CharField(max_length=100)
    at = models.DateTimeField()
    kind = models.CharField(max_length=16, choices=Kind.choices)
    result = models.CharField(max_length=16, choices=Result.choices)
    status = models.PositiveSmallIntegerField(null=True)  # the upstream's HTTP status, if any
    latency_ms = models.FloatField()
    # A completion probe's cost is the operator's spend, billed to no organisation (docs: probes).
    cost_usd = models.DecimalField(max_digits=20, decimal_places=12, default=0)
    detail = models.CharField(max_length=200, blank=True, default="")  # never a secret or an address

    class Meta:
        indexes = [models.Index(fields=["deployment", "at"], name="monitoring_probe_dep_at")]
        ordering = ["at", "id"]


class DeploymentStatus(models.Model):
    """One row per deployment: its state now, and what the state machine and the prober remember."""

    deployment = models.CharField(max_length=300, unique=True)
    provider = models.CharField(max_length=100)
    state = models.CharField(max_length=16, choices=DeploymentState.choices, default=DeploymentState.UNKNOWN)
    since = models.DateTimeField()
    reason = models.CharField(max_length=300, blank=True, default="")
    # A different state seen, not yet confirmed (see monitoring/states.py).
    pending = models.CharField(max_length=16, choices=DeploymentState.choices, blank=True, default="")
    pending_since = models.DateTimeField(null=True)
    next_probe_at = models.DateTimeField()

"""Maintenance windows: time left out of uptime denominators, planned ahead or relabelled after."""

from django.conf import settings
from django.db import models


class MaintenanceWindow(models.Model):
    # Empty organization: the operator's own window, for every organisation. Empty deployment:
    # every deployment in scope (and, for an organisation, its effective uptime too).
    organization = models.ForeignKey(
        "accounts.Organization", null=True, blank=True, on_delete=models.CASCADE, related_name="maintenance_windows"
    )
    deployment = models.CharField(max_length=300, blank=True, default="")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    title = models.CharField(max_length=200)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["starts_at", "ends_at"], name="monitoring_maint_span")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")), name="maintenance_ends_after_start"
            )
        ]

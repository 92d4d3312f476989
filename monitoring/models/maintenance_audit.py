"""Who created, changed or deleted which maintenance window, and when: windows relabel uptime, so every edit is kept."""

from django.conf import settings
from django.db import models


class MaintenanceChange(models.Model):
    class Action(models.TextChoices):
        CREATED = "created"
        CHANGED = "changed"
        DELETED = "deleted"

    window_id = models.BigIntegerField()  # no foreign key: the record outlives a deleted window
    # The window's organisation; empty for the operator's own windows.
    organization = models.ForeignKey("accounts.Organization", null=True, blank=True, on_delete=models.CASCADE)
    action = models.CharField(max_length=16, choices=Action.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    at = models.DateTimeField()
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["-at", "-id"]

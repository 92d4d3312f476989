"""An organisation's public status page, and the components it shows under the names it chose."""

from __future__ import annotations

import secrets

from django.db import models

SLUG_BYTES = 18  # 144 random bits, 24 URL-safe characters: the address is the page's only secret
SLUG_MAX_LENGTH = 32
NAME_MAX_LENGTH = 80
TITLE_MAX_LENGTH = 100
MAX_COMPONENTS = 50


def new_slug() -> str:
    return secrets.token_urlsafe(SLUG_BYTES)


class StatusPage(models.Model):
    """Off until the organisation turns it on; anyone with the address may read it then."""

    organization = models.OneToOneField("accounts.Organization", on_delete=models.CASCADE, related_name="status_page")
    enabled = models.BooleanField(default=False)
    slug = models.CharField(max_length=SLUG_MAX_LENGTH, unique=True, default=new_slug)
    title = models.CharField(max_length=TITLE_MAX_LENGTH, blank=True, default="")
    # The organisation's own incident notes are internal unless it says otherwise.
    show_notes = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)


class StatusComponent(models.Model):
    """One row of the page: what it measures (``kind`` and ``target``) and the public ``name`` it shows.
    The target (a model or deployment name) is never shown publicly; only the name is."""

    class Kind(models.TextChoices):
        ALL_MODELS = "all_models", "All models (effective uptime)"
        MODEL = "model", "One model (effective uptime)"
        DEPLOYMENT = "deployment", "One deployment (provider uptime)"

    page = models.ForeignKey(StatusPage, on_delete=models.CASCADE, related_name="components")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    target = models.CharField(max_length=300, blank=True, default="")  # empty for all models
    name = models.CharField(max_length=NAME_MAX_LENGTH)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["page", "kind", "target"], name="statuspage_one_component_per_target")
        ]

    def __str__(self) -> str:
        return self.name

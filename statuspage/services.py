"""Changes to a status page: its settings, its address, and its components (at most MAX_COMPONENTS)."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import Max

from accounts.models import Organization
from statuspage.models import MAX_COMPONENTS, StatusComponent, StatusPage, new_slug


class ComponentRefused(Exception):
    """Why a component cannot be added; str() is shown to the user."""


def page_for_change(*, organization: Organization) -> StatusPage:
    """The organisation's page, created (off) on its first change."""
    page, _ = StatusPage.objects.get_or_create(organization=organization)
    return page


def save_settings(*, organization: Organization, enabled: bool, title: str, show_notes: bool) -> StatusPage:
    page = page_for_change(organization=organization)
    page.enabled, page.title, page.show_notes = enabled, title, show_notes
    page.save(update_fields=["enabled", "title", "show_notes", "updated_at"])
    return page


def regenerate_slug(*, organization: Organization) -> StatusPage:
    """A new address; the old one answers 404 from now on."""
    page = page_for_change(organization=organization)
    page.slug = new_slug()
    page.save(update_fields=["slug", "updated_at"])
    return page


def add_component(*, organization: Organization, kind: str, target: str, name: str) -> StatusComponent:
    page = page_for_change(organization=organization)
    with transaction.atomic():
        # Locked, so two adds at once cannot both pass the limit.
        StatusPage.objects.select_for_update().filter(pk=page.pk).get()
        existing = StatusComponent.objects.filter(page=page)
        if existing.count() >= MAX_COMPONENTS:
            raise ComponentRefused(f"A status page shows at most {MAX_COMPONENTS} components.")
        last = existing.aggregate(last=Max("position"))["last"]
        try:
            with transaction.atomic():
                return StatusComponent.objects.create(
                    page=page, kind=kind, target=target, name=name, position=0 if last is None else last + 1
                )
        except IntegrityError:
            raise ComponentRefused("This is already on the page.") from None


def rename_component(*, component: StatusComponent, name: str) -> None:
    component.name = name
    component.save(update_fields=["name"])


def move_component(*, component: StatusComponent, up: bool) -> bool:
    """Swap with the neighbour above (or below); False at the top (or bottom)."""
    with transaction.atomic():
        rows = list(StatusComponent.objects.select_for_update().filter(page_id=component.page_id))
        index = next(i for i, c in enumerate(rows) if c.pk == component.pk)
        other = index - 1 if up else index + 1
        if not 0 <= other < len(rows):
            return False
        rows[index], rows[other] = rows[other], rows[index]
        for position, row in enumerate(rows):
            row.position = position
        StatusComponent.objects.bulk_update(rows, ["position"])
    return True


def remove_component(*, component: StatusComponent) -> None:
    component.delete()

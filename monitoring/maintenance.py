"""Maintenance windows: created, changed and deleted with an audit record of each, in one transaction."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import transaction

from accounts.models import Organization, User
from monitoring.models import MaintenanceChange, MaintenanceWindow

# A window may relabel up to a year (a leap year's days): longer is a typo, not maintenance.
MAX_SPAN = timedelta(days=366)
FIELDS = ("deployment", "starts_at", "ends_at", "title")


def span_problems(*, starts_at: datetime | None, ends_at: datetime | None) -> dict[str, str]:
    if starts_at is None or ends_at is None:
        return {}
    if ends_at <= starts_at:
        return {"ends_at": "The window must end after it starts."}
    if ends_at - starts_at > MAX_SPAN:
        return {"ends_at": "A window spans at most a year (366 days)."}
    return {}


def create_window(*, organization: Organization | None, actor: User, now: datetime, **values: Any) -> MaintenanceWindow:
    with transaction.atomic():
        window = MaintenanceWindow.objects.create(organization=organization, created_by=actor, **values)
        _record(window, MaintenanceChange.Action.CREATED, actor=actor, now=now, before=None, after=_snapshot(window))
    return window


def update_window(*, window: MaintenanceWindow, actor: User, now: datetime, **values: Any) -> MaintenanceWindow:
    with transaction.atomic():
        before = _snapshot(window)
        for field, value in values.items():
            setattr(window, field, value)
        window.save(update_fields=list(values))
        after = _snapshot(window)
        if after != before:
            _record(window, MaintenanceChange.Action.CHANGED, actor=actor, now=now, before=before, after=after)
    return window


def delete_window(*, window: MaintenanceWindow, actor: User, now: datetime) -> None:
    with transaction.atomic():
        _record(window, MaintenanceChange.Action.DELETED, actor=actor, now=now, before=_snapshot(window), after=None)
        window.delete()


def _snapshot(window: MaintenanceWindow) -> dict[str, str]:
    return {
        "deployment": window.deployment,
        "starts_at": window.starts_at.isoformat(),
        "ends_at": window.ends_at.isoformat(),
        "title": window.title,
    }


def _record(
    window: MaintenanceWindow,
    action: str,
    *,
    actor: User,
    now: datetime,
    before: dict[str, str] | None,
    after: dict[str, str] | None,
) -> None:
    MaintenanceChange.objects.create(
        window_id=window.pk,
        organization_id=window.organization_id,
        action=action,
        actor=actor,
        at=now,
        before=before,
        after=after,
    )

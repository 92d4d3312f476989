"""Maintenance windows: created, changed and deleted with an audit record of each, in one transaction."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q

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


def window_covering(*, at: datetime, organization_id: int | None, deployment: str = "") -> MaintenanceWindow | None:
    """A maintenance window in progress at ``at`` that applies: the operator's, or (given one) the organisation's
    own; for every deployment, or (given one) for this deployment."""
    scope = Q(organization__isnull=True)
    if organization_id is not None:
        scope |= Q(organization_id=organization_id)
    return (
        MaintenanceWindow.objects.filter(scope, deployment__in={"", deployment}, starts_at__lte=at, ends_at__gt=at)
        .order_by("starts_at", "id")
        .first()
    )


def own_windows_covering(
    *, at: datetime, organization_ids: Iterable[int], deployment: str
) -> dict[int, MaintenanceWindow]:
    """Per organisation, one of its own windows in progress at ``at`` for every deployment or this one."""
    windows = MaintenanceWindow.objects.filter(
        organization_id__in=set(organization_ids), deployment__in={"", deployment}, starts_at__lte=at, ends_at__gt=at
    ).order_by("-starts_at", "-id")
    return {w.organization_id: w for w in windows if w.organization_id is not None}


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

from __future__ import annotations

from datetime import timedelta

from django import template

from monitoring.models import MaintenanceChange

register = template.Library()

_LABELS = {"title": "title", "deployment": "deployment", "starts_at": "starts", "ends_at": "ends"}


@register.filter
def duration_text(value: timedelta) -> str:
    """ "2 h 05 min", "7 min 12 s": whole units only, never rounded up."""
    seconds = max(int(value.total_seconds()), 0)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes:02d} min"
    return f"{minutes} min {secs:02d} s"


@register.filter
def audit_diff(change: MaintenanceChange) -> list[str]:
    """One line per field a change touched ("starts: 2031-03-10 10:00 → 2031-03-10 11:00"); for a window
    created or deleted, its span."""
    before, after = change.before or {}, change.after or {}
    if not before or not after:
        window = after or before
        where = f", {window['deployment']}" if window.get("deployment") else ""
        return [f"{_short(window.get('starts_at'))} → {_short(window.get('ends_at'))} UTC{where}"]
    return [
        f"{label}: {_short(before.get(field))} → {_short(after.get(field))}"
        for field, label in _LABELS.items()
        if before.get(field) != after.get(field)
    ]


def _short(value: object) -> str:
    text = "" if value is None else str(value)
    return (text[:16].replace("T", " ") if "T" in text and text[:4].isdigit() else text) or "(all)"

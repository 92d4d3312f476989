"""How the dashboard writes its figures: percentages truncated (never rounded up), "No data" for none."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template

from monitoring.uptime import truncate_percent

register = template.Library()

NO_DATA = "No data"


@register.filter
def percent(value: Any, decimals: int = 2) -> str:
    """An uptime or share (a Decimal, or anything with ``.percent``) as "99.98 %", or "No data" for None."""
    value = getattr(value, "percent", value)
    if value is None or value == "":
        return NO_DATA
    return f"{truncate_percent(Decimal(value), decimals)} %"


@register.filter
def level(value: Any) -> str:
    """The day bars' colour classes for a headline figure: nodata, up (exactly 100 %), minor, major."""
    value = getattr(value, "percent", value)
    if value is None:
        return "nodata"
    if value == 100:
        return "up"
    return "minor" if value >= 99 else "major"


@register.filter
def milliseconds(value: float | None) -> str:
    if value is None:
        return NO_DATA
    return f"{value:,.0f} ms" if value >= 10 else f"{value:,.1f} ms"


@register.filter
def lookup(mapping: dict[Any, Any], key: Any) -> Any:
    return mapping.get(key)


@register.filter
def lookup_index(items: list[Any], index: int) -> Any:
    return items[index]

"""``{{ value|usd }}``: the one way a cost or budget is shown, on every page that shows one.

Whole dollars and cents from $1 up; below a dollar, three significant digits (at least two
decimals), so a request's $0.000049 is never shown as $0.0000. Never rounds a cost to zero.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django import template

register = template.Library()

SIGNIFICANT = 3


def format_usd(value: object) -> str:
    if value is None or value == "":
        return ""
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return ""
    if not amount.is_finite():
        return ""
    sign = "-" if amount < 0 else ""
    amount = abs(amount)
    if amount == 0:
        return "$0.00"
    if amount >= 1:
        return f"{sign}${amount.quantize(Decimal('0.01'), ROUND_HALF_UP):,}"
    places = max(2, SIGNIFICANT - amount.adjusted() - 1)
    text = f"{amount.quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP):f}"
    whole, _, decimals = text.partition(".")
    decimals = decimals.rstrip("0").ljust(2, "0")
    return f"{sign}${whole}.{decimals}"


@register.filter
def usd(value: object) -> str:
    return format_usd(value)

"""The dashboard's controls: a range (24 h, 7 d, 30 d, 90 d, or custom local days) and a timezone, read
from the query string so that every view has a shareable URL. Bad input is a form error naming the
parameter, never a 500."""

from __future__ import annotations

import functools
import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.http import QueryDict
from django.utils.http import urlencode

from monitoring.uptime import day_spans

PRESETS = {"24h": timedelta(hours=24), "7d": timedelta(days=7), "30d": timedelta(days=30), "90d": timedelta(days=90)}
PRESET_LABELS = {"24h": "Last 24 hours", "7d": "Last 7 days", "30d": "Last 30 days", "90d": "Last 90 days"}
DEFAULT_RANGE = "24h"
CUSTOM = "custom"
MAX_CUSTOM_DAYS = 366
EARLIEST = date(2000, 1, 1)
LATEST = date(2999, 12, 31)


@functools.cache
def known_timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


@dataclass(frozen=True)
class DashboardRange:
    key: str  # a preset or "custom"
    start: datetime  # UTC, inclusive
    end: datetime  # UTC, exclusive; never after now
    tz: ZoneInfo
    first_day: date | None = None  # the custom range's local days, inclusive
    last_day: date | None = None

    @property
    def label(self) -> str:
        if self.key in PRESET_LABELS:
            return PRESET_LABELS[self.key]
        return f"{self.first_day:%Y-%m-%d} to {self.last_day:%Y-%m-%d}"

    def query(self, **overrides: str) -> str:
        """The query string that shows this range again (shareable)."""
        params = {"range": self.key, "tz": self.tz.key}
        if self.key == CUSTOM:
            params |= {"from": f"{self.first_day:%Y-%m-%d}", "to": f"{self.last_day:%Y-%m-%d}"}
        return urlencode(params | overrides)


class DashboardControlsForm(forms.Form):
    range = forms.ChoiceField(
        required=False, choices=[*PRESET_LABELS.items(), (CUSTOM, "Custom")], label="Range", initial=DEFAULT_RANGE
    )
    tz = forms.CharField(required=False, max_length=64, label="Timezone")

    def __init__(self, data: QueryDict, *, default_tz: str) -> None:
        super().__init__(data)
        self.default_tz = default_tz
        # "from" is a Python keyword: these two fields are added by name.
        self.fields["from"] = forms.DateField(required=False, label="From", widget=forms.DateInput({"type": "date"}))
        self.fields["to"] = forms.DateField(required=False, label="To", widget=forms.DateInput({"type": "date"}))
        self.fields["tz"].widget.attrs.update({"list": "dashboard-timezones", "autocomplete": "off"})
        self.order_fields(["range", "from", "to", "tz"])

    def clean_tz(self) -> str:
        name = (self.cleaned_data.get("tz") or "").strip() or self.default_tz
        if name not in known_timezones():
            raise forms.ValidationError(f"Unknown timezone {name[:64]!r}: use a name such as Europe/Berlin.")
        return name

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if (cleaned.get("range") or DEFAULT_RANGE) != CUSTOM or "range" in self.errors:
            return cleaned
        start, end = cleaned.get("from"), cleaned.get("to")
        for name, day in (("from", start), ("to", end)):
            if name in self.errors:
                continue
            if day is None:
                self.add_error(name, "A custom range needs both dates.")
            elif not EARLIEST <= day <= LATEST:
                self.add_error(name, f"Choose a date from {EARLIEST:%Y-%m-%d} to {LATEST:%Y-%m-%d}.")
        if start and end and not {"from", "to"} & set(self.errors):
            if end < start:
                self.add_error("to", "The end date must be on or after the start date.")
            elif (end - start).days + 1 > MAX_CUSTOM_DAYS:
                self.add_error("from", f"The range is at most {MAX_CUSTOM_DAYS} days.")
        return cleaned

    def dashboard_range(self, *, now: datetime) -> DashboardRange:
        """The range asked for; call only once the form is valid."""
        tz = ZoneInfo(self.cleaned_data["tz"])
        key = self.cleaned_data.get("range") or DEFAULT_RANGE
        if key != CUSTOM:
            return DashboardRange(key, now - PRESETS[key], now, tz)
        first, last = self.cleaned_data["from"], self.cleaned_data["to"]
        spans = day_spans(first=first, last=first, tz=tz) + day_spans(first=last, last=last, tz=tz)
        start, end = spans[0][1], min(spans[-1][2], now)
        return DashboardRange(CUSTOM, start, max(start, end), tz, first, last)


def timezone_or_utc(name: str) -> ZoneInfo:
    """An organisation's timezone; UTC should a stored name ever be unknown to this system."""
    return ZoneInfo(name) if name in known_timezones() else ZoneInfo("UTC")


def fallback_range(*, now: datetime, tz_name: str) -> DashboardRange:
    """What the controls show around an error: the default range in the organisation's timezone."""
    return DashboardRange(DEFAULT_RANGE, now - PRESETS[DEFAULT_RANGE], now, timezone_or_utc(tz_name))

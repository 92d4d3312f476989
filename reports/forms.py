"""The report page's period form and the organisation's SLA settings form."""

from __future__ import annotations

import itertools
import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms

from reports import periods
from reports.models import ReportSettings

MAX_TIERS = 10
_TIER_SPLIT = re.compile(r"[\s,:;→>]+")
KINDS = [("month", "Month"), ("quarter", "Quarter"), ("custom", "Custom range")]


def quarter_choices(today: date, count: int = 8) -> list[tuple[str, str]]:
    """This quarter and the ``count - 1`` before it, newest first."""
    year, quarter = today.year, (today.month - 1) // 3 + 1
    choices = []
    for _ in range(count):
        choices.append((f"{year}-Q{quarter}", f"Q{quarter} {year}"))
        year, quarter = (year, quarter - 1) if quarter > 1 else (year - 1, 4)
    return choices


class PeriodForm(forms.Form):
    """A month, a quarter or a custom range of days, in a timezone (the organisation's by default)."""

    kind = forms.ChoiceField(choices=KINDS, widget=forms.RadioSelect, label="Period")
    month = forms.CharField(
        required=False, max_length=7, widget=forms.TextInput(attrs={"type": "month"}), help_text="YYYY-MM"
    )
    quarter = forms.ChoiceField(required=False, choices=[])
    start = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}), label="First day")
    end = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}), label="Last day")
    timezone = forms.CharField(max_length=periods.MAX_TIMEZONE_LENGTH, help_text="An IANA name, e.g. Europe/Berlin.")

    def __init__(self, *args: Any, now: datetime, default_timezone: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.now = now
        tz = periods.parse_timezone(default_timezone) or periods.parse_timezone("UTC")
        assert tz is not None
        today = now.astimezone(tz).date()
        quarter = self.fields["quarter"]
        assert isinstance(quarter, forms.ChoiceField)
        quarter.choices = quarter_choices(today)
        last_first, last_last = periods.previous_month(today)
        self.initial = {
            "kind": "month",
            "month": f"{last_first:%Y-%m}",
            "quarter": quarter_choices(today)[0][0],
            "start": last_first,
            "end": last_last,
            "timezone": default_timezone,
            **self.initial,
        }
        self.period: periods.Period | None = None

    def clean_timezone(self) -> str:
        name: str = self.cleaned_data["timezone"].strip()
        if periods.parse_timezone(name) is None:
            raise forms.ValidationError("Unknown timezone: use an IANA name such as Europe/Berlin.")
        return name

    def clean_month(self) -> date | None:
        value: str = self.cleaned_data.get("month") or ""
        if not value:
            return None
        day = periods.parse_date(f"{value}-01")
        if day is None:
            raise forms.ValidationError("Enter a month as YYYY-MM.")
        return day

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        kind = data.get("kind")
        if kind is None or (kind == "month" and "month" in self.errors):
            return data
        bounds, field = self._bounds(kind, data)
        if bounds is None:
            if field not in self.errors:
                self.add_error(field, "This field is required.")
            return data
        # An unknown timezone is its own error: the range is still checked (in UTC), so both show at once.
        tz = periods.parse_timezone(data.get("timezone") or "") or periods.parse_timezone("UTC")
        assert tz is not None
        first, last = bounds
        problems = periods.range_problems(first=first, last=last, now=self.now, tz=tz)
        for name, message in problems.items():
            # A month or quarter has one field: its problem is that field's.
            self.add_error(name if kind == "custom" else field, message)
        if not self.errors:
            self.period = periods.Period(first, last, tz)
        return data

    def _bounds(self, kind: str, data: dict[str, Any]) -> tuple[tuple[date, date] | None, str]:
        if kind == "month":
            month: date | None = data.get("month")
            return (periods.month_bounds(month) if month else None), "month"
        if kind == "quarter":
            value: str = data.get("quarter") or ""
            if not value:
                return None, "quarter"
            year, quarter = value.split("-Q")
            return periods.quarter_bounds(int(year), int(quarter)), "quarter"
        start, end = data.get("start"), data.get("end")
        if start is None:
            return None, "start"
        if end is None:
            return None, "end"
        return (start, end), "end"


def parse_tiers(text: str) -> list[dict[str, str]]:
    """Lines of "BELOW CREDIT" (e.g. "99.9: 10") → tiers, highest threshold first; ValidationError if not usable."""
    tiers: list[tuple[Decimal, Decimal]] = []
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if len(lines) > MAX_TIERS:
        raise forms.ValidationError(f"At most {MAX_TIERS} tiers.")
    for number, line in enumerate(lines, start=1):
        parts = [p.rstrip("%") for p in _TIER_SPLIT.split(line.replace("below", "").strip()) if p.rstrip("%")]
        try:
            below, credit = (Decimal(p) for p in parts) if len(parts) == 2 else (None, None)
        except InvalidOperation:
            below = credit = None
        if below is None or credit is None or not below.is_finite() or not credit.is_finite():
            raise forms.ValidationError(f"Line {number}: write an uptime threshold and a credit, e.g. “99.9: 10”.")
        if not (0 < below <= 100 and 0 <= credit <= 100):
            raise forms.ValidationError(f"Line {number}: the threshold and the credit are percentages, 0 to 100.")
        if below.as_tuple().exponent < -3 or credit.as_tuple().exponent < -2:  # type: ignore[operator]
            raise forms.ValidationError(f"Line {number}: at most 3 decimals for a threshold, 2 for a credit.")
        tiers.append((below, credit))
    tiers.sort(reverse=True)
    for (high, high_credit), (low, low_credit) in itertools.pairwise(tiers):
        if high == low:
            raise forms.ValidationError(f"Two tiers have the same threshold ({high} %).")
        if low_credit < high_credit:
            raise forms.ValidationError(f"A lower uptime must not earn a smaller credit (below {low} %).")
    return [{"below": str(b), "credit": str(c)} for b, c in tiers]


def tiers_text(tiers: list[dict[str, str]]) -> str:
    return "\n".join(f"{t['below']}: {t['credit']}" for t in tiers)


class ReportSettingsForm(forms.ModelForm):  # type: ignore[type-arg]  # not subscriptable at run time
    tiers = forms.CharField(
        label="Service credit tiers",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=(
            "One tier a line: an uptime threshold and the credit earned below it, as a percentage of the monthly "
            "fee (“99.9: 10” means below 99.9 % → 10 %). The lowest threshold the uptime is below applies. "
            f"At most {MAX_TIERS}; empty: no credit."
        ),
    )

    class Meta:
        model = ReportSettings
        fields = ["sla_target", "monthly_fee", "monthly_email"]
        labels = {
            "sla_target": "SLA target (%)",
            "monthly_fee": "Monthly fee",
            "monthly_email": "Email the monthly report to owners",
        }
        help_texts = {
            "sla_target": "Effective uptime the organisation promises, e.g. 99.9. Over 0 and under 100.",
            "monthly_fee": "Optional: service credits are then shown as amounts on monthly reports.",
            "monthly_email": "On the first days of each month, owners get last month's report as a PDF.",
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["tiers"].initial = tiers_text(self.instance.credit_tiers)
        self.fields["sla_target"].widget.attrs.update({"step": "0.001", "min": "0", "max": "100"})
        self.fields["monthly_fee"].widget.attrs.update({"min": "0"})

    def clean_sla_target(self) -> Decimal:
        value: Decimal = self.cleaned_data["sla_target"]
        if not 0 < value < 100:
            raise forms.ValidationError("Choose a target over 0 and under 100 (100 % leaves no error budget).")
        return value

    def clean_monthly_fee(self) -> Decimal | None:
        value: Decimal | None = self.cleaned_data.get("monthly_fee")
        if value is not None and value < 0:
            raise forms.ValidationError("A fee cannot be negative.")
        return value

    def clean_tiers(self) -> list[dict[str, str]]:
        return parse_tiers(self.cleaned_data.get("tiers") or "")

    def save(self, commit: bool = True) -> ReportSettings:
        self.instance.credit_tiers = self.cleaned_data["tiers"]
        return super().save(commit=commit)

from __future__ import annotations

from typing import Any

from django import forms

from accounts.models import ApiKey, Organization
from monitoring import usage


class UsageRangeForm(forms.Form):
    """The usage page's filter: a date range (query parameters ``from`` and ``to``) and a key."""

    key = forms.TypedChoiceField(required=False, coerce=int, empty_value=None, label="API key")

    def __init__(self, *args: Any, organization: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        default = usage.default_range()
        # "from" is a Python keyword: these two fields are added by name.
        self.fields["from"] = forms.DateField(
            required=False, initial=default.start, widget=forms.DateInput(attrs={"type": "date"})
        )
        self.fields["to"] = forms.DateField(
            required=False, initial=default.end, widget=forms.DateInput(attrs={"type": "date"})
        )
        self.fields["from"].help_text = f"UTC days, at most {usage.MAX_RANGE_DAYS} of them."
        keys = ApiKey.objects.filter(organization=organization).order_by("name").values_list("pk", "name")
        self.fields["key"].choices = [("", "All keys")] + [(str(pk), name) for pk, name in keys]  # type: ignore[attr-defined]
        self.order_fields(["from", "to", "key"])

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        default = usage.default_range()
        start = cleaned.get("from") if "from" not in self.errors else None
        end = cleaned.get("to") if "to" not in self.errors else None
        if "from" not in self.errors and start is None:
            start = cleaned["from"] = default.start if end is None else end - (default.end - default.start)
        if "to" not in self.errors and end is None:
            end = cleaned["to"] = default.end
        for field, problem in usage.range_problems(start=start, end=end).items():
            self.add_error(field, problem)
        return cleaned

    @property
    def period(self) -> usage.DateRange:
        return usage.DateRange(self.cleaned_data["from"], self.cleaned_data["to"])

"""Forms of the status page settings. Public names are plain text, length-limited; templates escape them."""

from __future__ import annotations

import unicodedata
from typing import Any

from django import forms

from statuspage.models import NAME_MAX_LENGTH, StatusPage
from statuspage.selectors import Source


def _printable(value: str, what: str) -> str:
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in value):
        raise forms.ValidationError(f"The {what} cannot contain control or invisible formatting characters.")
    return value


class PageSettingsForm(forms.ModelForm):  # type: ignore[type-arg]  # not subscriptable at run time
    class Meta:
        model = StatusPage
        fields = ["enabled", "title", "show_notes"]
        labels = {
            "enabled": "Publish the status page",
            "title": "Public title",
            "show_notes": "Show your organisation's incident notes on the page",
        }
        help_texts = {
            "enabled": "Off: its address answers 404. On: anyone with the address can read it, without logging in.",
            "title": "Shown at the top of the page, for example “Acme API status”.",
            "show_notes": (
                "Off: incidents show their times and public status only. On: the notes your owners and admins "
                "add to incidents are published as incident updates."
            ),
        }

    def clean_title(self) -> str:
        return _printable(self.cleaned_data["title"], "title")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("enabled") and not data.get("title"):
            self.add_error("title", "Give the page a public title before publishing it.")
        return data


class ComponentNameForm(forms.Form):
    name = forms.CharField(
        label="Public name",
        max_length=NAME_MAX_LENGTH,
        help_text=(
            "What visitors see. Internal model, deployment and provider names are never shown unless you type "
            "them here."
        ),
    )

    def clean_name(self) -> str:
        return _printable(self.cleaned_data["name"], "public name")


class ComponentAddForm(ComponentNameForm):
    source = forms.ChoiceField(label="Shows")

    field_order = ["source", "name"]

    def __init__(self, *args: Any, sources: list[Source], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sources = {s.value: s for s in sources}
        source = self.fields["source"]
        assert isinstance(source, forms.ChoiceField)
        source.choices = [(s.value, s.label) for s in sources]
        self.fields["name"].widget.attrs["placeholder"] = "e.g. Chat API"

    def chosen(self) -> Source:
        return self.sources[self.cleaned_data["source"]]

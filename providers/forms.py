from __future__ import annotations

import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from providers.configured import configured_provider_names, credential_problem
from providers.services import MAX_SECRET_LENGTH, MIN_SECRET_LENGTH

# Names as the gateway config allows them (no '/'), printable, without surrounding spaces.
PROVIDER_NAME_RE = re.compile(r"^[^/\s\x00-\x1f\x7f](?:[^/\x00-\x1f\x7f]{0,98}[^/\s\x00-\x1f\x7f])?$")


def check_provider_name(name: str, known: list[str] | None) -> str | None:
    """What is wrong with a provider name, or None. ``known``: the configured names, if readable."""
    if known is not None:
        if name not in known:
            return f"Unknown provider {name!r}. Configured: {', '.join(known) or 'none'}."
        return None
    if not PROVIDER_NAME_RE.match(name):
        return "A provider name is 1 to 100 printable characters, without '/'."
    return None


class ProviderCredentialForm(forms.Form):
    """Add or replace an organisation's key for one of the operator's providers.

    The secret is write-only: the field never renders a value back, even after an error.
    """

    provider = forms.CharField(max_length=100, strip=True)
    secret = forms.CharField(
        label="API key",
        strip=True,
        min_length=MIN_SECRET_LENGTH,
        max_length=MAX_SECRET_LENGTH,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off", "spellcheck": "false"}),
        help_text="Stored encrypted. Only its last four characters are shown again.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.known_providers = configured_provider_names()
        if self.known_providers is not None:
            choices = [("", "Choose a provider")] + [(name, name) for name in self.known_providers]
            self.fields["provider"] = forms.ChoiceField(choices=choices)
        self.fields["provider"].help_text = "A provider of this gateway: your requests to it will use this key."

    def clean_provider(self) -> str:
        name: str = self.cleaned_data["provider"]
        problem = check_provider_name(name, self.known_providers) or credential_problem(name)
        if problem is not None:
            raise ValidationError(problem)
        return name

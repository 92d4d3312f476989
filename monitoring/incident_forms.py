"""Forms of the incident, maintenance and alert settings pages."""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import QueryDict

from monitoring import maintenance, webhook_guard
from monitoring.models import AlertChannel, MaintenanceWindow, MonitoringSettings

_LOCAL = {"type": "datetime-local", "step": "60"}
_LOCAL_FORMAT = "%Y-%m-%dT%H:%M"


class MaintenanceWindowForm(forms.ModelForm):  # type: ignore[type-arg]  # not subscriptable at run time
    class Meta:
        model = MaintenanceWindow
        fields = ["title", "deployment", "starts_at", "ends_at"]
        labels = {"starts_at": "Starts (UTC)", "ends_at": "Ends (UTC)"}
        help_texts = {
            "deployment": "A deployment as the gateway config names it (provider/model); empty for all of them.",
            "starts_at": "May be in the past: a window relabels time already measured.",
        }
        widgets = {
            "starts_at": forms.DateTimeInput(attrs=_LOCAL, format=_LOCAL_FORMAT),
            "ends_at": forms.DateTimeInput(attrs=_LOCAL, format=_LOCAL_FORMAT),
            "deployment": forms.TextInput(attrs={"placeholder": "All deployments"}),
        }

    def clean_deployment(self) -> str:
        value: str = self.cleaned_data["deployment"].strip()
        if value and "/" not in value:
            raise forms.ValidationError("Name a deployment as provider/model, or leave it empty for all.")
        return value

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        problems = maintenance.span_problems(starts_at=cleaned.get("starts_at"), ends_at=cleaned.get("ends_at"))
        for field, problem in problems.items():
            self.add_error(field, problem)
        return cleaned

    def _post_clean(self) -> None:
        # The model's own check constraint would repeat our ends_at message as a form-wide error.
        if not self.errors:
            super()._post_clean()  # type: ignore[misc]


class IncidentNoteForm(forms.Form):
    message = forms.CharField(max_length=2000, widget=forms.Textarea(attrs={"rows": 3}), label="Add a note", strip=True)


class MonitoringSettingsForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = MonitoringSettings
        fields = [
            "slo_target",
            "error_rate_threshold",
            "notify_deployment_incidents",
            "notify_organization_incidents",
            "notify_burn_rate",
        ]
        labels = {
            "slo_target": "SLO target (%)",
            "error_rate_threshold": "Incident threshold (% of requests failing)",
            "notify_deployment_incidents": "A deployment this organisation uses goes down",
            "notify_organization_incidents": "This organisation's error rate crosses the threshold",
            "notify_burn_rate": "The error budget burns too fast (multi-window burn-rate alert)",
        }
        help_texts = {
            "error_rate_threshold": "Percent of requests failing over the last complete 5-minute window and the "
            "current one (at least 10 requests) that opens an incident for this organisation.",
        }


class AlertChannelForm(forms.Form):
    kind = forms.ChoiceField(choices=AlertChannel.Kind.choices, label="Send to")
    target = forms.CharField(
        max_length=2000,
        required=False,
        label="Address or URL",
        help_text="Email: an address, or empty for the owners and admins. Webhooks: a public https:// URL (stored "
        "encrypted, shown only by its host and last four characters).",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )

    def __init__(self, *args: Any, operator: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if operator:
            self.fields["target"].help_text = self.fields["target"].help_text.replace(
                "the owners and admins", "every staff user"
            )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        kind, target = cleaned.get("kind"), cleaned.get("target", "").strip()
        if kind == AlertChannel.Kind.EMAIL:
            if target:
                self._check_email(target)
        elif kind:
            try:
                webhook_guard.check(target)
            except webhook_guard.UnsafeWebhook as exc:
                self.add_error("target", f"Refused: {exc}.")
                self._forget_target()
        cleaned["target"] = target
        return cleaned

    def _forget_target(self) -> None:
        # The page showing the error must not show the URL again: it is a credential.
        data = self.data.dict() if isinstance(self.data, QueryDict) else dict(self.data)
        self.data = {**data, self.add_prefix("target"): ""}

    def _check_email(self, target: str) -> None:
        try:
            forms.EmailField().clean(target)
        except forms.ValidationError:
            self.add_error("target", "Enter an email address, or leave it empty for the owners and admins.")

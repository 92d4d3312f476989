from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils import timezone

from accounts.models import ApiKey, Membership, Organization, User
from accounts.selectors import configured_model_names
from accounts.throttle import LOGIN_FAILURES, PASSWORD_RESETS, client_ip

MAX_ALLOWED_MODELS = 50


def _normalize_email(value: str) -> str:
    return User.objects.normalize_email(value)


class SignUpForm(forms.Form):
    email = forms.EmailField(max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    password = forms.CharField(
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )

    def clean_email(self) -> str:
        email = _normalize_email(self.cleaned_data["email"])
        if User.objects.filter(email=email).exists():
            raise ValidationError("An account with this email already exists. Log in instead.")
        return email

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        email, password = cleaned.get("email"), cleaned.get("password")
        if email and password:
            try:
                password_validation.validate_password(password, User(email=email))
            except ValidationError as exc:
                self.add_error("password", exc)
        return cleaned


class LoginForm(AuthenticationForm):
    """Django's login form, refusing an email+IP pair after repeated failures."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "throttled": "Too many failed attempts. Try again in 15 minutes or reset your password.",
    }

    def clean(self) -> dict[str, Any]:
        email = _normalize_email(self.data.get("username", ""))
        ip = client_ip(self.request) if self.request else "unknown"
        if LOGIN_FAILURES.is_blocked(email, ip):
            raise ValidationError(self.error_messages["throttled"], code="throttled")
        try:
            cleaned = super().clean()
        except ValidationError:
            LOGIN_FAILURES.hit(email, ip)
            raise
        LOGIN_FAILURES.reset(email, ip)
        return cleaned


class ThrottledPasswordResetForm(PasswordResetForm):
    def __init__(self, *args: Any, request: HttpRequest, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.request = request

    def clean_email(self) -> str:
        email = _normalize_email(self.cleaned_data["email"])
        ip = client_ip(self.request)
        # Counted whether or not the address has an account, so the error reveals nothing.
        if PASSWORD_RESETS.is_blocked(email, ip):
            raise ValidationError("Too many reset requests. Try again in 15 minutes.")
        PASSWORD_RESETS.hit(email, ip)
        return email


class OrganizationForm(forms.Form):
    name = forms.CharField(max_length=100, strip=True)


class InviteForm(forms.Form):
    email = forms.EmailField(max_length=254)
    role = forms.ChoiceField(
        choices=[(Membership.Role.MEMBER, "Member"), (Membership.Role.ADMIN, "Admin")],
        initial=Membership.Role.MEMBER,
    )

    def __init__(self, *args: Any, organization: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.organization = organization

    def clean_email(self) -> str:
        email = _normalize_email(self.cleaned_data["email"])
        if Membership.objects.filter(organization=self.organization, user__email=email).exists():
            raise ValidationError("This person is already a member.")
        return email


class ApiKeyForm(forms.Form):
    name = forms.CharField(max_length=100, strip=True)
    expires_on = forms.DateField(
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Optional. The key stops working at 00:00 UTC on this date.",
    )
    allowed_models = forms.CharField(
        required=False,
        max_length=5000,
        help_text="Optional, comma-separated. Empty means every model.",
    )

    def __init__(self, *args: Any, organization: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.organization = organization

    def clean_name(self) -> str:
        name: str = self.cleaned_data["name"]
        if ApiKey.objects.filter(organization=self.organization, name=name).exists():
            raise ValidationError("A key with this name already exists in this organisation.")
        return name

    def clean_expires_on(self) -> datetime | None:
        day = self.cleaned_data.get("expires_on")
        if day is None:
            return None
        if day <= timezone.now().date():
            raise ValidationError("Choose a date in the future.")
        return datetime.combine(day, time.min, tzinfo=UTC)

    def clean_allowed_models(self) -> list[str]:
        raw: str = self.cleaned_data.get("allowed_models") or ""
        names = list(dict.fromkeys(part.strip() for part in raw.split(",") if part.strip()))
        if len(names) > MAX_ALLOWED_MODELS:
            raise ValidationError(f"At most {MAX_ALLOWED_MODELS} models.")
        if any(len(name) > 200 for name in names):
            raise ValidationError("A model name is at most 200 characters.")
        known = configured_model_names()
        unknown = [name for name in names if known is not None and name not in known]
        if unknown:
            raise ValidationError(
                f"Unknown model(s): {', '.join(unknown)}. Configured: {', '.join(known or [])}."
            )
        return names

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from functools import cache
from zoneinfo import available_timezones
from datetime import UTC, datetime, time
from typing import Any

from django import forms
from django.contrib.auth import password_validation
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils import timezone

from accounts import services
from config.env import parse_origin
from accounts.models import SCOPE_MANAGEMENT, ApiKey, Membership, Organization, User
from accounts.services import limits_over_ceiling
from accounts.throttle import LOGIN_FAILURES, PASSWORD_RESETS, client_ip, login_blocked, record_login_failure

MAX_ALLOWED_MODELS = 50
MAX_CORS_ORIGINS = 20
# The model names of the operator's gateway config, None when none is readable. Passed in by the
# app that reads that config: accounts is the base app and does not.
ModelNames = Callable[[], list[str] | None]


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


THROTTLED_LOGIN = "Too many failed attempts. Try again in 15 minutes or reset your password."


class LoginForm(AuthenticationForm):
    """Django's login form, refusing after repeated failures: for the account from this address,
    for the account from anywhere, and from this address for any account."""

    error_messages = {**AuthenticationForm.error_messages, "throttled": THROTTLED_LOGIN}

    def clean(self) -> dict[str, Any]:
        email = _normalize_email(self.data.get("username", ""))
        ip = client_ip(self.request) if self.request else "unknown"
        if login_blocked(email, ip):
            raise ValidationError(self.error_messages["throttled"], code="throttled")
        try:
            cleaned = super().clean()
        except ValidationError:
            record_login_failure(email, ip)
            raise
        LOGIN_FAILURES.reset(email, ip)
        return cleaned


class AdminLoginForm(LoginForm, AdminAuthenticationForm):
    """The Django admin's login, throttled like the site's."""

    error_messages = {**AdminAuthenticationForm.error_messages, "throttled": THROTTLED_LOGIN}


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


class LimitFields(forms.Form):
    """Rate limits and a monthly budget, for a key or for a whole organisation. Empty: none."""

    rpm_limit = forms.IntegerField(required=False, min_value=1, max_value=10**9, label="Requests per minute")
    tpm_limit = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=10**12,
        label="Tokens per minute",
        help_text="Prompts are estimated on the way in, then corrected from the provider's usage.",
    )
    monthly_budget_usd = forms.DecimalField(
        required=False,
        min_value=Decimal("0.01"),
        max_value=Decimal("1000000000"),
        decimal_places=2,
        label="Monthly budget (USD)",
        help_text="Past it, requests get a 402 until the next month.",
    )

    def _check_ceiling(self, organization: Organization, *, empty_allowed: bool) -> None:
        limits = {name: self.cleaned_data[name] for name in ("rpm_limit", "tpm_limit", "monthly_budget_usd")
                  if name in self.cleaned_data}  # fmt: skip
        for field, problem in limits_over_ceiling(
            organization=organization, limits=limits, empty_allowed=empty_allowed
        ).items():
            self.add_error(field, problem)


class ApiKeyForm(LimitFields):
    field_order = ["name", "expires_on", "allowed_models", "rpm_limit", "tpm_limit", "monthly_budget_usd"]

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

    management = forms.BooleanField(
        required=False,
        label="Management API access",
        help_text="Lets this key call the management API (/api/) with your rights in this organisation.",
    )

    def __init__(
        self,
        *args: Any,
        organization: Organization,
        model_names: ModelNames,
        can_grant_management: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.organization = organization
        self.model_names = model_names
        if not can_grant_management:
            # Only owners and admins hand out keys that manage the organisation.
            del self.fields["management"]

    @property
    def scopes(self) -> list[str]:
        return [SCOPE_MANAGEMENT] if self.cleaned_data.get("management") else []

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        # Empty is fine for a key: its organisation's (capped) limit still applies.
        self._check_ceiling(self.organization, empty_allowed=True)
        return cleaned

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
        known = self.model_names() if names else None
        unknown = [name for name in names if known is not None and name not in known]
        if unknown:
            raise ValidationError(f"Unknown model(s): {', '.join(unknown)}. Configured: {', '.join(known or [])}.")
        return names


class OrganizationLimitsForm(LimitFields):
    budget_alert_thresholds = forms.CharField(
        required=False,
        max_length=100,
        label="Budget alert thresholds (%)",
        help_text="Comma-separated percentages; owners and admins get an email at each. Default: 50, 80, 100.",
    )

    def __init__(self, *args: Any, organization: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.organization = organization
        for field, ceiling_field in services.LIMIT_CEILINGS:
            ceiling = getattr(organization, ceiling_field)
            if ceiling:
                self.fields[field].help_text += f" At most {ceiling} (set by the operator)."

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        self._check_ceiling(self.organization, empty_allowed=False)
        return cleaned

    def clean_budget_alert_thresholds(self) -> list[int]:
        raw: str = self.cleaned_data.get("budget_alert_thresholds") or ""
        try:
            values = sorted({int(part) for part in raw.split(",") if part.strip()})
        except ValueError:
            raise ValidationError("Use whole percentages separated by commas, like 50, 80, 100.") from None
        if any(not 1 <= value <= 1000 for value in values) or len(values) > 10:
            raise ValidationError("Up to 10 percentages, each from 1 to 1000.")
        return values


@cache
def timezone_names() -> list[str]:
    return sorted(available_timezones())


class OrganizationTimezoneForm(forms.Form):
    timezone = forms.ChoiceField(
        label="Timezone",
        help_text="The dashboard's days and the SLA reports' days and months are this timezone's (IANA names).",
        error_messages={
            "invalid_choice": "“%(value)s” is not a timezone: choose one from the list, like Europe/Paris."
        },
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["timezone"].choices = [(name, name) for name in timezone_names()]  # type: ignore[attr-defined]


class OrganizationCorsForm(forms.Form):
    cors_allowed_origins = forms.CharField(
        required=False,
        max_length=MAX_CORS_ORIGINS * 210,
        label="Allowed browser origins",
        # One origin a line: soft-wrapping a long one at its hyphens would read as two.
        widget=forms.Textarea(attrs={"rows": 4, "wrap": "off", "spellcheck": "false", "autocomplete": "off"}),
        help_text=(
            "One per line: scheme, host and port if not the default, like <code>https://app.example.com</code>. "
            "No wildcards. Empty: no page may."
        ),
    )

    def clean_cors_allowed_origins(self) -> list[str]:
        lines = [line for line in (self.cleaned_data.get("cors_allowed_origins") or "").splitlines() if line.strip()]
        if len(lines) > MAX_CORS_ORIGINS:
            raise ValidationError(f"Up to {MAX_CORS_ORIGINS} origins.")
        try:
            origins = [parse_origin(line) for line in lines]
        except ValueError as exc:
            raise ValidationError(str(exc)) from None
        return list(dict.fromkeys(origins))

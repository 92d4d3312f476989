"""Browser pages: sign-up and login, organisations and members, API keys.

Organisation pages live under /orgs/<id>/ and answer 404 to anyone who is not a member.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import SetPasswordForm
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse_lazy
from django.views.decorators.http import require_http_methods, require_safe

from accounts import selectors, services
from accounts.access import (
    CURRENT_ORG,
    gateway_base_url,
    get_membership_for_user,
    org_context,
    post_only,
    posted,
    user_of,
)
from accounts.forms import (
    ApiKeyForm,
    ModelNames,
    OrganizationLimitsForm,
    OrganizationTimezoneForm,
    OrganizationCorsForm,
    InviteForm,
    LoginForm,
    OrganizationForm,
    SignUpForm,
    ThrottledPasswordResetForm,
)
from accounts.links import invitation_for_token, user_for_verification_token
from accounts.models import ApiKey, Invitation, Membership, Organization, User
from accounts.throttle import VERIFICATION_EMAILS, client_ip

GET_POST = require_http_methods(["GET", "POST"])


def _site_root(request: HttpRequest) -> str:
    return request.build_absolute_uri("/").rstrip("/")


def _get_key_for_user(request: HttpRequest, org_id: int, key_id: int) -> tuple[Membership, ApiKey]:
    membership = get_membership_for_user(request, org_id)
    key = get_object_or_404(
        ApiKey.objects.select_related("created_by"), pk=key_id, organization_id=membership.organization_id
    )
    return membership, key


def _can_manage_key(membership: Membership, key: ApiKey) -> bool:
    return membership.can_manage or key.created_by_id == membership.user_id


def _is_sole_owner(membership: Membership, members: list[Membership]) -> bool:
    """An organisation needs an owner: its only one cannot leave (services.remove_member refuses too)."""
    owners = [m for m in members if m.role == Membership.Role.OWNER]
    return membership.role == Membership.Role.OWNER and owners == [membership]


def _can_remove(actor: Membership, target: Membership) -> bool:
    if actor.pk == target.pk:
        return True  # leaving
    if target.role == Membership.Role.OWNER:
        return actor.role == Membership.Role.OWNER
    return actor.can_manage


SOLE_OWNER = (
    "You are the only owner of this organisation, and it needs one. Ask the gateway's operator to make"
    " another member an owner (in its admin); then you can leave."
)


# Home, sign-up, login, email verification, password reset


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect("login")
    memberships = list(selectors.memberships_for_user(user=user_of(request)))
    if not memberships:
        return redirect("create_organization")
    current = request.session.get(CURRENT_ORG)
    chosen = next((m for m in memberships if m.organization_id == current), memberships[0])
    return redirect("org_home", chosen.organization_id)


@GET_POST
def signup(request: HttpRequest) -> HttpResponse:
    if settings.SIGNUP == "closed":
        raise Http404
    if request.user.is_authenticated:
        return redirect("home")
    token = request.GET.get("invite")
    invitation = invitation_for_token(token) if token else None
    if settings.SIGNUP == "invite" and invitation is None:
        return render(request, "accounts/signup_closed.html", status=403)
    initial = {"email": invitation.email} if invitation else None
    form = SignUpForm(posted(request), initial=initial)
    user = None
    if request.method == "POST" and form.is_valid():
        try:
            user = services.sign_up(
                email=form.cleaned_data["email"],
                password=form.cleaned_data["password"],
                invitation=invitation,
            )
        except IntegrityError:  # the same address signed up a moment ago
            form.add_error("email", "An account with this email already exists. Log in instead.")
        except services.AccountsError:  # SIGNUP=invite: the invitation is for another address
            assert invitation is not None
            form.add_error("email", f"This invitation is for {invitation.email}: sign up with that address.")
    if user is not None:
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        if invitation is not None and user.email == invitation.email:
            request.session[CURRENT_ORG] = invitation.organization_id
            messages.success(request, f"You joined {invitation.organization.name}.")
        if not user.email_verified:
            _send_verification(request, user, f"Welcome! We sent a verification link to {user.email}.")
        return redirect("home")
    status = 400 if request.method == "POST" else 200
    return render(request, "accounts/signup.html", {"form": form, "invitation": invitation}, status=status)


login_view = auth_views.LoginView.as_view(
    template_name="accounts/login.html", authentication_form=LoginForm, redirect_authenticated_user=True
)
_logout = auth_views.LogoutView.as_view()


@GET_POST
def logout_view(request: HttpRequest) -> HttpResponseBase:
    """Logging out is a POST (a link must not log anyone out); a GET asks first, never a blank 405."""
    if request.method == "POST":
        return _logout(request)
    if not request.user.is_authenticated:
        return redirect("login")
    return render(request, "accounts/logout.html")


@require_safe
def verify_email(request: HttpRequest, token: str) -> HttpResponse:
    user = user_for_verification_token(token)
    if user is None:
        return render(request, "accounts/verify_email_invalid.html", status=400)
    services.mark_email_verified(user=user)
    messages.success(request, f"Thanks, {user.email} is verified.")
    return redirect("home")


def _send_verification(request: HttpRequest, user: User, success: str) -> None:
    if services.send_verification_email(user=user, site_root=_site_root(request)):
        messages.info(request, success)
    else:
        messages.error(request, "We could not send the verification email just now. Try “Resend email” later.")


@login_required
@post_only("home")
def resend_verification(request: HttpRequest) -> HttpResponse:
    user = user_of(request)
    if user.email_verified:
        return redirect("home")
    ip = client_ip(request)
    if VERIFICATION_EMAILS.is_blocked(user.email, ip):
        messages.error(request, "We sent several links already. Check your inbox, or try again later.")
    else:
        VERIFICATION_EMAILS.hit(user.email, ip)
        _send_verification(request, user, f"We sent a new verification link to {user.email}.")
    return redirect("home")


class PasswordResetView(auth_views.PasswordResetView):
    form_class = ThrottledPasswordResetForm
    template_name = "accounts/password_reset_form.html"
    email_template_name = "accounts/email/password_reset.txt"
    subject_template_name = "accounts/email/password_reset_subject.txt"
    success_url = reverse_lazy("password_reset_done")

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "request": self.request}

    def form_invalid(self, form: Any) -> HttpResponse:
        return self.render_to_response(self.get_context_data(form=form), status=400)


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("password_reset_complete")

    def form_valid(self, form: SetPasswordForm) -> HttpResponse:
        # The link reached this inbox, which proves the address.
        services.mark_email_verified(user=form.user)
        return super().form_valid(form)


password_reset_done = auth_views.PasswordResetDoneView.as_view(template_name="accounts/password_reset_done.html")
password_reset_complete = auth_views.PasswordResetCompleteView.as_view(
    template_name="accounts/password_reset_complete.html"
)


# Organisations and members


@login_required
@GET_POST
def create_organization(request: HttpRequest) -> HttpResponse:
    if settings.SIGNUP != "open" and not user_of(request).is_staff:
        # Outside open sign-up, every organisation (and its spend) is the operator's decision.
        return render(request, "accounts/organization_new_closed.html", status=403)
    form = OrganizationForm(posted(request))
    if request.method == "POST" and form.is_valid():
        org = services.create_organization(name=form.cleaned_data["name"], owner=user_of(request))
        return redirect("org_home", org.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "accounts/organization_new.html", {"form": form}, status=status)


def _render_members(
    request: HttpRequest, membership: Membership, form: InviteForm | None = None, status: int = 200
) -> HttpResponse:
    org = membership.organization
    if membership.can_manage and form is None:
        form = InviteForm(organization=org)
    member_list = list(selectors.members_of(organization=org))
    context = org_context(
        membership,
        "members",
        members=member_list,
        sole_owner=_is_sole_owner(membership, member_list),
        invitations=selectors.pending_invitations(organization=org) if membership.can_manage else [],
        form=form,
    )
    return render(request, "accounts/members.html", context, status=status)


@login_required
@require_safe
def members(request: HttpRequest, org_id: int) -> HttpResponse:
    return _render_members(request, get_membership_for_user(request, org_id))


@login_required
@post_only("members", "org_id")
def invite_member(request: HttpRequest, org_id: int) -> HttpResponse:
    membership = get_membership_for_user(request, org_id)
    if not membership.can_manage:
        raise PermissionDenied
    form = InviteForm(request.POST, organization=membership.organization)
    if not user_of(request).email_verified:
        form.add_error(None, "Verify your email address before inviting people.")
    if not form.is_valid():
        return _render_members(request, membership, form, status=400)
    email = form.cleaned_data["email"]
    try:
        _, sent = services.invite_member(
            organization=membership.organization,
            email=email,
            role=form.cleaned_data["role"],
            invited_by=user_of(request),
            site_root=_site_root(request),
        )
    except services.AccountsError as exc:
        form.add_error(None, str(exc))
        return _render_members(request, membership, form, status=429)
    if sent:
        messages.success(request, f"Invitation sent to {email}.")
    else:
        messages.error(request, f"We could not email {email} just now. Invite them again later.")
    return redirect("members", membership.organization_id)


@login_required
@post_only("members", "org_id")
def cancel_invitation(request: HttpRequest, org_id: int, invitation_id: int) -> HttpResponse:
    membership = get_membership_for_user(request, org_id)
    invitation = get_object_or_404(
        Invitation, pk=invitation_id, organization_id=membership.organization_id, accepted_at__isnull=True
    )
    if not membership.can_manage:
        raise PermissionDenied
    services.cancel_invitation(invitation=invitation)
    messages.success(request, f"Invitation for {invitation.email} cancelled.")
    return redirect("members", membership.organization_id)


@login_required
@GET_POST
def remove_member(request: HttpRequest, org_id: int, membership_id: int) -> HttpResponse:
    actor = get_membership_for_user(request, org_id)
    target = get_object_or_404(
        Membership.objects.select_related("user"), pk=membership_id, organization_id=actor.organization_id
    )
    if not _can_remove(actor, target):
        raise PermissionDenied
    error = None
    if request.method == "GET":
        leaving_alone = target.pk == actor.pk and _is_sole_owner(
            actor, list(selectors.members_of(organization=actor.organization))
        )
        error = SOLE_OWNER if leaving_alone else None
    else:
        try:
            services.remove_member(membership=target)
        except services.AccountsError as exc:
            error = str(exc)
        else:
            if target.pk == actor.pk:
                request.session.pop(CURRENT_ORG, None)
                messages.success(request, f"You left {actor.organization.name}.")
                return redirect("home")
            messages.success(request, f"{target.user.email} was removed.")
            return redirect("members", actor.organization_id)
    context = org_context(actor, "members", target=target, error=error)
    status = 400 if error and request.method == "POST" else 200
    return render(request, "accounts/member_remove.html", context, status=status)


@GET_POST
def accept_invitation(request: HttpRequest, token: str) -> HttpResponse:
    invitation = invitation_for_token(token)
    if invitation is None:
        return render(request, "accounts/invitation_invalid.html", status=400)
    context: dict[str, Any] = {"invitation": invitation, "token": token}
    if not request.user.is_authenticated:
        return render(request, "accounts/invitation.html", context)
    user = user_of(request)
    if user.email != invitation.email:
        return render(request, "accounts/invitation.html", {**context, "wrong_account": True})
    if request.method == "POST":
        services.accept_invitation(invitation=invitation, user=user)
        messages.success(request, f"You joined {invitation.organization.name}.")
        return redirect("org_home", invitation.organization_id)
    return render(request, "accounts/invitation.html", context)


# API keys


# Month-to-date (UTC) spend by key id, from the usage records. Passed in by the app that reads them:
# accounts is the base app and does not.
KeySpend = Callable[[Organization], Mapping[int, Decimal]]


@dataclass(frozen=True)
class KeyRow:
    key: ApiKey
    manageable: bool
    # This month's spend of the key's lineage (it and the keys it was rotated from): what its budget counts.
    spend: Decimal

    @property
    def budget_percent(self) -> int | None:
        budget = self.key.monthly_budget_usd
        if not budget:
            return None
        return min(int(self.spend * 100 / budget), 100)


def key_list(request: HttpRequest, org_id: int, *, month_spend: KeySpend) -> HttpResponse:
    """Routed by monitoring.key_views, which reads each key's spend from the usage records."""
    membership = get_membership_for_user(request, org_id)
    keys = list(selectors.api_keys_of(organization=membership.organization))
    spend = month_spend(membership.organization)
    by_lineage: dict[int, Decimal] = {}
    for key in keys:
        by_lineage[key.lineage] = by_lineage.get(key.lineage, Decimal(0)) + spend.get(key.pk, Decimal(0))
    rows = [KeyRow(key, _can_manage_key(membership, key), by_lineage[key.lineage]) for key in keys]
    return render(request, "accounts/key_list.html", org_context(membership, "keys", rows=rows))


def _render_created_key(
    request: HttpRequest,
    membership: Membership,
    created: services.CreatedKey,
    model_names: ModelNames,
    *,
    rotated: ApiKey | None = None,
) -> HttpResponse:
    models = created.api_key.allowed_models or model_names() or ["MODEL_NAME"]
    context = org_context(
        membership,
        "keys",
        key=created.api_key,
        plaintext=created.plaintext,
        rotated=rotated,
        base_url=gateway_base_url(),
        example_model=models[0],
    )
    return render(request, "accounts/key_created.html", context)


def key_create(request: HttpRequest, org_id: int, *, model_names: ModelNames) -> HttpResponse:
    """Routed by providers.views, which reads the gateway config for the models a key may name."""
    membership = get_membership_for_user(request, org_id)
    user = user_of(request)
    form = ApiKeyForm(
        posted(request),
        organization=membership.organization,
        model_names=model_names,
        can_grant_management=membership.can_manage,
    )
    if request.method == "GET":
        return render(request, "accounts/key_new.html", org_context(membership, "keys", form=form))
    if not user.email_verified:
        form.add_error(None, "Verify your email address before creating API keys.")
        return render(request, "accounts/key_new.html", org_context(membership, "keys", form=form), status=403)
    if form.is_valid():
        try:
            created = services.create_api_key(
                organization=membership.organization,
                name=form.cleaned_data["name"],
                created_by=user,
                expires_at=form.cleaned_data["expires_on"],
                allowed_models=form.cleaned_data["allowed_models"],
                scopes=form.scopes,
                rpm_limit=form.cleaned_data["rpm_limit"],
                tpm_limit=form.cleaned_data["tpm_limit"],
                monthly_budget_usd=form.cleaned_data["monthly_budget_usd"],
            )
        except services.KeyNameTaken:
            form.add_error("name", "A key with this name already exists in this organisation.")
        else:
            return _render_created_key(request, membership, created, model_names)
    return render(request, "accounts/key_new.html", org_context(membership, "keys", form=form), status=400)


@login_required
@GET_POST
def key_revoke(request: HttpRequest, org_id: int, key_id: int) -> HttpResponse:
    membership, key = _get_key_for_user(request, org_id, key_id)
    if not _can_manage_key(membership, key):
        raise PermissionDenied
    if request.method == "POST":
        if services.revoke_api_key(api_key=key):
            messages.success(request, f"Key “{key.name}” is revoked. The gateway refuses it within a second.")
        else:
            messages.info(request, f"Key “{key.name}” was already revoked.")
        return redirect("key_list", membership.organization_id)
    return render(request, "accounts/key_revoke.html", org_context(membership, "keys", key=key))


def key_rotate(request: HttpRequest, org_id: int, key_id: int, *, model_names: ModelNames) -> HttpResponseBase:
    """Routed by providers.views, like key_create."""
    membership, key = _get_key_for_user(request, org_id, key_id)
    if not _can_manage_key(membership, key):
        raise PermissionDenied
    error = None
    if not user_of(request).email_verified:
        error = "Verify your email address before creating API keys."
    elif key.status != "active":
        error = "Only an active key can be rotated; create a new key instead."
    if request.method == "POST" and error is None:
        try:
            created = services.rotate_api_key(api_key=key, rotated_by=user_of(request))
        except services.AccountsError as exc:
            error = str(exc)
        else:
            return _render_created_key(request, membership, created, model_names, rotated=key)
    status = 400 if request.method == "POST" else 200
    context = org_context(membership, "keys", key=key, error=error)
    return render(request, "accounts/key_rotate.html", context, status=status)


def _get_manager_for_user(request: HttpRequest, org_id: int) -> Membership:
    membership = get_membership_for_user(request, org_id)
    if not membership.can_manage:
        raise PermissionDenied
    return membership


def _render_settings(
    request: HttpRequest,
    membership: Membership,
    *,
    form: OrganizationLimitsForm | None = None,
    timezone_form: OrganizationTimezoneForm | None = None,
    cors_form: OrganizationCorsForm | None = None,
    status: int = 200,
) -> HttpResponse:
    org = membership.organization
    origins = "\n".join(org.cors_allowed_origins)
    initial = {
        "rpm_limit": org.rpm_limit,
        "tpm_limit": org.tpm_limit,
        "monthly_budget_usd": org.monthly_budget_usd,
        "budget_alert_thresholds": ", ".join(str(t) for t in org.budget_alert_thresholds or []),
    }
    context = org_context(
        membership,
        "limits",
        form=form or OrganizationLimitsForm(initial=initial, organization=org),
        timezone_form=timezone_form or OrganizationTimezoneForm(initial={"timezone": org.timezone}),
        cors_form=cors_form or OrganizationCorsForm(initial={"cors_allowed_origins": origins}),
    )
    return render(request, "accounts/organization_limits.html", context, status=status)


@login_required
@GET_POST
def organization_limits(request: HttpRequest, org_id: int) -> HttpResponse:
    membership = _get_manager_for_user(request, org_id)
    org = membership.organization
    if request.method == "GET":
        return _render_settings(request, membership)
    form = OrganizationLimitsForm(request.POST, organization=org)
    if not form.is_valid():
        return _render_settings(request, membership, form=form, status=400)
    services.update_organization_limits(organization=org, **form.cleaned_data)
    messages.success(request, "Limits saved. Every gateway worker applies them within a second.")
    return redirect("organization_limits", org.pk)


@login_required
@post_only("organization_limits", "org_id")
def organization_timezone(request: HttpRequest, org_id: int) -> HttpResponse:
    membership = _get_manager_for_user(request, org_id)
    form = OrganizationTimezoneForm(request.POST)
    if not form.is_valid():
        return _render_settings(request, membership, timezone_form=form, status=400)
    org = membership.organization
    services.update_organization_timezone(organization=org, timezone_name=form.cleaned_data["timezone"])
    messages.success(request, f"Timezone set to {org.timezone}.")
    return redirect("organization_limits", org.pk)


@login_required
@post_only("organization_limits", "org_id")
def organization_cors(request: HttpRequest, org_id: int) -> HttpResponse:
    membership = _get_manager_for_user(request, org_id)
    form = OrganizationCorsForm(request.POST)
    if not form.is_valid():
        return _render_settings(request, membership, cors_form=form, status=400)
    org = membership.organization
    services.update_organization_cors(organization=org, origins=form.cleaned_data["cors_allowed_origins"])
    count = len(org.cors_allowed_origins)
    messages.success(request, f"Browser origins saved ({count}). Every gateway worker applies them within a second.")
    return redirect("organization_limits", org.pk)

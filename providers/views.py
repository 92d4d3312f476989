"""Browser pages for the operator's providers as an organisation sees them: its own keys for them,
and its gateway keys, whose allowed models are checked against the models the operator configured."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from accounts import selectors
from accounts import views as accounts_views
from accounts.access import get_membership_for_user, org_context, post_only, posted, user_of
from accounts.models import Membership, ProviderCredential
from accounts.services import AccountsError
from providers import services
from providers.configured import configured_model_names
from providers.forms import ProviderCredentialForm

GET_POST = require_http_methods(["GET", "POST"])


def _get_credential_for_user(
    request: HttpRequest, org_id: int, credential_id: int
) -> tuple[Membership, ProviderCredential]:
    membership = get_membership_for_user(request, org_id)
    credential = get_object_or_404(
        ProviderCredential, pk=credential_id, organization_id=membership.organization_id, ciphertext__isnull=False
    )
    return membership, credential


# API keys: accounts' pages, with the models a key may name


@never_cache
@login_required
@GET_POST
def key_create(request: HttpRequest, org_id: int) -> HttpResponse:
    return accounts_views.key_create(request, org_id, model_names=configured_model_names)


@never_cache
@login_required
@GET_POST
def key_rotate(request: HttpRequest, org_id: int, key_id: int) -> HttpResponseBase:
    return accounts_views.key_rotate(request, org_id, key_id, model_names=configured_model_names)


# Provider credentials (bring your own keys)


@login_required
@require_safe
def provider_list(request: HttpRequest, org_id: int) -> HttpResponse:
    membership = get_membership_for_user(request, org_id)
    credentials = selectors.provider_credentials_of(organization=membership.organization)
    context = org_context(membership, "providers", credentials=credentials)
    return render(request, "accounts/provider_list.html", context)


@never_cache
@login_required
@GET_POST
def provider_set(request: HttpRequest, org_id: int) -> HttpResponse:
    membership = get_membership_for_user(request, org_id)
    if not membership.can_manage:
        raise PermissionDenied
    form = ProviderCredentialForm(posted(request), initial={"provider": request.GET.get("provider", "")})
    if request.method == "POST" and form.is_valid():
        try:
            credential, created = services.set_provider_credential(
                organization=membership.organization,
                provider=form.cleaned_data["provider"],
                secret=form.cleaned_data["secret"],
                created_by=user_of(request),
            )
        except AccountsError as exc:
            form.add_error(None, str(exc))
        else:
            verb = "added" if created else "replaced"
            messages.success(request, f"Key for {credential.provider} {verb} (…{credential.last4}). Test it below.")
            return redirect("provider_list", membership.organization_id)
    status = 400 if request.method == "POST" else 200
    context = org_context(membership, "providers", form=form)
    return render(request, "accounts/provider_new.html", context, status=status)


@login_required
@GET_POST
def provider_delete(request: HttpRequest, org_id: int, credential_id: int) -> HttpResponse:
    membership, credential = _get_credential_for_user(request, org_id, credential_id)
    if not membership.can_manage:
        raise PermissionDenied
    if request.method == "POST":
        services.delete_provider_credential(credential=credential)
        messages.success(request, f"Key for {credential.provider} deleted: its requests use the gateway's key again.")
        return redirect("provider_list", membership.organization_id)
    context = org_context(membership, "providers", credential=credential)
    return render(request, "accounts/provider_delete.html", context)


@login_required
@post_only("provider_list", "org_id")
def provider_test(request: HttpRequest, org_id: int, credential_id: int) -> HttpResponse:
    membership, credential = _get_credential_for_user(request, org_id, credential_id)
    if not membership.can_manage:
        raise PermissionDenied
    result = services.check_provider_credential(credential=credential)
    if result.ok:
        messages.success(request, f"{credential.provider}: {result.message}")
    else:
        messages.error(request, f"{credential.provider}: the test failed. {result.message}")
    return redirect("provider_list", membership.organization_id)

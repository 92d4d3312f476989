"""Django admin for operators.

Removing people or organisations here goes through accounts.services, like every other path:
their keys are revoked first, so the proxy refuses them within a second. Keys are never deleted
here (a delete is a revoke), and never added here (a key is made by the service, which shows it
once: the app or `./gw manage create_api_key`).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db.models import QuerySet
from django.forms import BaseInlineFormSet, ModelForm
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from accounts import services
from accounts.forms import AdminLoginForm
from accounts.models import ApiKey, Invitation, Membership, Organization, ProviderCredential, User


admin.site.login_form = AdminLoginForm


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "email_verified_at", "is_staff", "is_active", "date_joined"]
    search_fields = ["email"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser")}),
        ("Dates", {"fields": ("email_verified_at", "last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)

    def save_model(self, request: HttpRequest, obj: User, form: ModelForm[User], change: bool) -> None:
        super().save_model(request, obj, form, change)
        if not obj.is_active:
            revoked = services.revoke_keys_created_by(user=obj)
            if revoked:
                self.message_user(request, f"{revoked} API key(s) created by {obj.email} were revoked.")

    def delete_model(self, request: HttpRequest, obj: User) -> None:
        services.delete_user(user=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        for user in queryset:
            services.delete_user(user=user)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "created_at", "max_rpm", "max_tpm", "max_monthly_budget_usd"]
    search_fields = ["name"]
    inlines = [MembershipInline]
    fieldsets = (
        (None, {"fields": ("name", "created_at")}),
        (
            "Ceiling (operator only)",
            {
                "fields": ("max_rpm", "max_tpm", "max_monthly_budget_usd"),
                "description": "The most this organisation's own admins may set; empty means no ceiling. "
                "The gateway never enforces more than this, whatever limits are stored.",
            },
        ),
        (
            "Limits (set by the organisation)",
            {"fields": ("rpm_limit", "tpm_limit", "monthly_budget_usd", "budget_alert_thresholds")},
        ),
    )

    def save_formset(
        self, request: HttpRequest, form: Any, formset: BaseInlineFormSet[Any, Any, Any], change: bool
    ) -> None:
        if formset.model is not Membership:
            super().save_formset(request, form, formset, change)
            return
        instances = formset.save(commit=False)
        for membership in formset.deleted_objects:
            services.delete_membership(membership=membership)
        for membership in instances:
            membership.save()
        formset.save_m2m()

    def delete_model(self, request: HttpRequest, obj: Organization) -> None:
        services.delete_organization(organization=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Organization]) -> None:
        for organization in queryset:
            services.delete_organization(organization=organization)


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["name", "prefix", "organization", "status", "created_at", "revoked_at", "last_used_at"]
    list_filter = ["is_operator"]
    search_fields = ["name", "prefix", "organization__name"]
    fields = [
        "name",
        "organization",
        "prefix",
        "status",
        "created_by",
        "is_operator",
        "models",
        "key_scopes",
        "expires_at",
        "rpm_limit",
        "tpm_limit",
        "monthly_budget_usd",
        "lineage_id",
        "created_at",
        "revoked_at",
        "updated_at",
        "last_used_at",
    ]
    readonly_fields = [
        "organization",
        "prefix",
        "status",
        "created_by",
        "is_operator",
        "models",
        "key_scopes",
        "lineage_id",
        "created_at",
        "revoked_at",
        "updated_at",
        "last_used_at",
    ]
    actions = ["revoke_selected"]
    delete_confirmation_template = "admin/accounts/apikey/delete_confirmation.html"
    change_list_template = "admin/accounts/apikey/change_list.html"

    @admin.display(description="allowed models")
    def models(self, obj: ApiKey) -> str:
        return ", ".join(obj.allowed_models or []) or "every model"

    @admin.display(description="scopes")
    def key_scopes(self, obj: ApiKey) -> str:
        return ", ".join(obj.scopes or []) or "none (model calls only)"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # a bulk delete would claim to delete; revoke says what happens
        return actions

    @admin.action(description="Revoke selected API keys", permissions=["change"])
    def revoke_selected(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        revoked = services.revoke_api_keys(keys=queryset)
        self.message_user(request, f"{revoked} key(s) revoked. The gateway refuses them within a second.")

    def delete_model(self, request: HttpRequest, obj: ApiKey) -> None:
        services.revoke_api_key(api_key=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        services.revoke_api_keys(keys=queryset)

    def response_delete(self, request: HttpRequest, obj_display: str, obj_id: Any) -> HttpResponse:
        self.message_user(
            request, f"Key {obj_display} was revoked; it stays listed for the usage history.", messages.SUCCESS
        )
        return HttpResponseRedirect(reverse("admin:accounts_apikey_changelist"))


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["email", "organization", "role", "invited_by", "created_at", "accepted_at"]
    search_fields = ["email"]


@admin.register(ProviderCredential)
class ProviderCredentialAdmin(admin.ModelAdmin):
    """Read-only for operators: secrets are set by the organisation, and never shown."""

    list_display = ["provider", "organization", "last4", "last_test_ok", "updated_at"]
    list_filter = ["provider"]
    readonly_fields = [
        "organization",
        "provider",
        "last4",
        "created_by",
        "created_at",
        "updated_at",
        "last_tested_at",
        "last_test_ok",
        "last_test_message",
    ]
    exclude = ["ciphertext"]

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

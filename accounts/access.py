"""Who may see an organisation: the lookups every app's pages and API endpoints share.

An organisation's pages and endpoints answer 404 to anyone who is not a member of it, so that
no one learns which organisations exist.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar, cast

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase, HttpResponseNotAllowed, QueryDict
from django.shortcuts import get_object_or_404, redirect
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import exceptions
from rest_framework.request import Request

from accounts.models import ApiKey, Membership, Organization, User

CURRENT_ORG = "current_org"
MAX_DB_ID = 2**63 - 1
ORG_PARAMETER = OpenApiParameter("org_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="Organisation id.")


def user_of(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # every caller is behind login_required
    return user


def posted(request: HttpRequest) -> QueryDict | None:
    # Not "request.POST or None": an empty POST must still be validated and show its errors.
    return request.POST if request.method == "POST" else None


View = TypeVar("View", bound=Callable[..., HttpResponseBase])


def post_only(back_to: str, *kwarg_names: str) -> Callable[[View], View]:
    """For a URL that only takes a form's POST. A GET of it (a reload after the form's error page, a
    link followed by hand) goes back to the page the form is on instead of Django's blank 405:
    ``back_to`` is that page's URL name, given the view's ``kwarg_names``."""

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if request.method in ("GET", "HEAD"):
                return redirect(back_to, **{name: kwargs[name] for name in kwarg_names})
            if request.method != "POST":
                return HttpResponseNotAllowed(["POST"])
            return view(request, *args, **kwargs)

        return cast(View, wrapper)

    return decorator


def gateway_base_url() -> str:
    return settings.SITE_URL.rstrip("/") + "/v1"


def get_membership_for_user(request: HttpRequest, org_id: int) -> Membership:
    membership = get_object_or_404(
        Membership.objects.select_related("organization"), organization_id=org_id, user=request.user
    )
    # Remembered so that "/" returns to the organisation looked at last.
    if request.session.get(CURRENT_ORG) != membership.organization_id:
        request.session[CURRENT_ORG] = membership.organization_id
    return membership


def org_context(membership: Membership, tab: str, **extra: Any) -> dict[str, Any]:
    return {"org": membership.organization, "membership": membership, "active_tab": tab, **extra}


@dataclass(frozen=True)
class Actor:
    """Who is calling the management API, as far as one organisation is concerned."""

    organization: Organization
    user: User | None  # None for an operator's management key
    can_manage: bool

    @property
    def user_id(self) -> int | None:
        return self.user.pk if self.user is not None else None


def get_actor_for_request(request: Request, org_id: int) -> Actor:
    if org_id > MAX_DB_ID:
        raise exceptions.NotFound()
    key = request.auth if isinstance(request.auth, ApiKey) else None
    if key is not None:
        if key.organization_id != org_id:
            raise exceptions.NotFound()
        if key.is_operator:
            return Actor(organization=key.organization, user=None, can_manage=True)
    user = request.user
    membership = (
        Membership.objects.select_related("organization", "user")
        .filter(organization_id=org_id, user_id=user.pk)
        .first()
    )
    if membership is None:
        raise exceptions.NotFound()
    return Actor(organization=membership.organization, user=membership.user, can_manage=membership.can_manage)


def require_manager(actor: Actor, what: str) -> None:
    if not actor.can_manage:
        raise exceptions.PermissionDenied(f"Only owners and admins can {what}.")

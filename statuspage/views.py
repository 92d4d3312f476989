"""The status page's settings (members read them, owners and admins change them), the public page and its
JSON (no login; 404 unless published), and the operator's page of every provider (staff only)."""

from __future__ import annotations

import re

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_safe

from accounts.access import get_membership_for_user, org_context, post_only, posted, user_of
from accounts.models import Membership
from providers.configured import gateway_config
from statuspage import operator, public, selectors, services
from statuspage.forms import ComponentAddForm, ComponentNameForm, PageSettingsForm
from statuspage.models import MAX_COMPONENTS, StatusComponent, StatusPage

GET_POST = require_http_methods(["GET", "POST"])
# What new_slug() makes; anything else cannot exist, so it is refused before any query.
SLUG_PATTERN = re.compile(r"[A-Za-z0-9_-]{16,32}")
PUBLIC_MAX_AGE = 30  # seconds a visitor's browser or a shared cache may reuse the page


# Settings


def _get_manager_for_user(request: HttpRequest, org_id: int) -> Membership:
    membership = get_membership_for_user(request, org_id)
    if not membership.can_manage:
        raise PermissionDenied
    return membership


def _get_component_for_user(request: HttpRequest, org_id: int, component_id: int) -> StatusComponent:
    membership = _get_manager_for_user(request, org_id)
    return get_object_or_404(StatusComponent, pk=component_id, page__organization_id=membership.organization_id)


def _public_url(page: StatusPage) -> str:
    return settings.SITE_URL.rstrip("/") + reverse("status_public", args=[page.slug])


def _sources(membership: Membership) -> list[selectors.Source]:
    return selectors.sources(organization_id=membership.organization_id, config=gateway_config(), now=timezone.now())


@login_required
@GET_POST
def page_settings(request: HttpRequest, org_id: int) -> HttpResponse:
    membership = get_membership_for_user(request, org_id)
    page = selectors.page_of(organization_id=membership.organization_id)
    form = PageSettingsForm(posted(request), instance=page or StatusPage(organization=membership.organization))
    if request.method == "POST":
        if not membership.can_manage:
            raise PermissionDenied
        if form.is_valid():
            services.save_settings(organization=membership.organization, **form.cleaned_data)
            messages.success(request, "Status page saved.")
            return redirect("status_settings", org_id)
    return _render_settings(request, membership, page, form, ComponentAddForm(sources=_sources(membership)))


def _render_settings(
    request: HttpRequest,
    membership: Membership,
    page: StatusPage | None,
    form: PageSettingsForm,
    add_form: ComponentAddForm,
) -> HttpResponse:
    components = list(page.components.all()) if page else []
    labels = {s.value: s.label for s in add_form.sources.values()}
    context = org_context(
        membership,
        "status_page",
        page=page,
        form=form,
        add_form=add_form,
        rows=[(c, labels.get(f"{c.kind}:{c.target}", f"{c.get_kind_display()}: {c.target}")) for c in components],
        public_url=_public_url(page) if page else None,
        max_components=MAX_COMPONENTS,
        full=len(components) >= MAX_COMPONENTS,
    )
    status = 400 if form.errors or add_form.errors else 200
    return render(request, "statuspage/settings.html", context, status=status)


@login_required
@post_only("status_settings", "org_id")
def slug_regenerate(request: HttpRequest, org_id: int) -> HttpResponse:
    membership = _get_manager_for_user(request, org_id)
    services.regenerate_slug(organization=membership.organization)
    messages.success(request, "The status page has a new address; the old one no longer works.")
    return redirect("status_settings", org_id)


@login_required
@post_only("status_settings", "org_id")
def component_add(request: HttpRequest, org_id: int) -> HttpResponse:
    membership = _get_manager_for_user(request, org_id)
    add_form = ComponentAddForm(request.POST, sources=_sources(membership))
    if add_form.is_valid():
        chosen = add_form.chosen()
        try:
            services.add_component(
                organization=membership.organization,
                kind=chosen.kind,
                target=chosen.target,
                name=add_form.cleaned_data["name"],
            )
        except services.ComponentRefused as refused:
            add_form.add_error(None, str(refused))
        else:
            messages.success(request, f"“{add_form.cleaned_data['name']}” added to the status page.")
            return redirect("status_settings", org_id)
    page = selectors.page_of(organization_id=membership.organization_id)
    form = PageSettingsForm(instance=page or StatusPage(organization=membership.organization))
    return _render_settings(request, membership, page, form, add_form)


@login_required
@post_only("status_settings", "org_id")
def component_rename(request: HttpRequest, org_id: int, component_id: int) -> HttpResponse:
    component = _get_component_for_user(request, org_id, component_id)
    form = ComponentNameForm(request.POST)
    if form.is_valid():
        services.rename_component(component=component, name=form.cleaned_data["name"])
        messages.success(request, f"Renamed to “{form.cleaned_data['name']}”.")
    else:
        messages.error(request, f"Not renamed: {' '.join(str(e) for e in form.errors['name'])}")
    return redirect("status_settings", org_id)


@login_required
@post_only("status_settings", "org_id")
def component_move(request: HttpRequest, org_id: int, component_id: int) -> HttpResponse:
    component = _get_component_for_user(request, org_id, component_id)
    direction = request.POST.get("direction")
    if direction not in ("up", "down"):
        return HttpResponse("direction: must be up or down.", status=400, content_type="text/plain")
    services.move_component(component=component, up=direction == "up")
    return redirect("status_settings", org_id)


@login_required
@post_only("status_settings", "org_id")
def component_remove(request: HttpRequest, org_id: int, component_id: int) -> HttpResponse:
    component = _get_component_for_user(request, org_id, component_id)
    services.remove_component(component=component)
    messages.success(request, f"“{component.name}” removed from the status page.")
    return redirect("status_settings", org_id)


# The public page


def _get_published_page(slug: str) -> StatusPage:
    if not SLUG_PATTERN.fullmatch(slug):
        raise Http404
    return get_object_or_404(StatusPage.objects.select_related("organization"), slug=slug, enabled=True)


def _public(response: HttpResponse) -> HttpResponse:
    # Rendered without the request: nothing of the visitor (session, user, CSRF) is in it, so a shared cache
    # may keep it. Not indexed, and no Referer sent on: the address is the page's only secret.
    response["Cache-Control"] = f"public, max-age={PUBLIC_MAX_AGE}"
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"
    return response


@require_safe
def public_page(request: HttpRequest, slug: str) -> HttpResponse:
    page = _get_published_page(slug)
    view = public.build(page=page, now=timezone.now())
    html = render_to_string("statuspage/public.html", {"view": view, "json_url": reverse("status_json", args=[slug])})
    return _public(HttpResponse(html))


@require_safe
def public_json(request: HttpRequest, slug: str) -> HttpResponse:
    page = _get_published_page(slug)
    view = public.build(page=page, now=timezone.now())
    response = _public(JsonResponse(public.as_json(view, url=_public_url(page))))
    # Anyone may read it without credentials anyway; this lets the organisation's own site embed it.
    response["Access-Control-Allow-Origin"] = "*"
    return response


# The operator's page


@login_required
@require_safe
def operator_status(request: HttpRequest) -> HttpResponse:
    if not user_of(request).is_staff:
        raise Http404
    now = timezone.now()
    context = {"operator": True, "providers": operator.providers(now=now), "now": now}
    return render(request, "statuspage/operator.html", context)

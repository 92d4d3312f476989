"""Pages: an organisation's incidents with their timelines, maintenance windows (its own, and the
operator's for staff), and alert settings (and the operator's alert channels, for staff). Members see
them; owners and admins change them."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_safe

from accounts.access import get_membership_for_user, org_context, post_only, posted, user_of
from accounts.models import Membership
from monitoring import incident_selectors, incidents, maintenance, notify
from monitoring.incident_forms import AlertChannelForm, IncidentNoteForm, MaintenanceWindowForm, MonitoringSettingsForm
from monitoring.models import AlertChannel, Incident, MaintenanceWindow

GET_POST = require_http_methods(["GET", "POST"])
LIST_LIMIT = 100


def _get_incident_for_user(request: HttpRequest, org_id: int, incident_id: int) -> tuple[Membership, Incident]:
    membership = get_membership_for_user(request, org_id)
    visible = incident_selectors.incidents_of(organization_id=membership.organization_id)
    return membership, get_object_or_404(visible, pk=incident_id)


def _get_manager_for_user(request: HttpRequest, org_id: int) -> Membership:
    membership = get_membership_for_user(request, org_id)
    if not membership.can_manage:
        raise PermissionDenied
    return membership


def _get_scope_for_user(request: HttpRequest, org_id: int | None, *, change: bool) -> Membership | None:
    """The membership whose windows are shown, or None for the operator's own windows (staff only; 404 to others)."""
    if org_id is None:
        if not user_of(request).is_staff:
            raise Http404
        return None
    return _get_manager_for_user(request, org_id) if change else get_membership_for_user(request, org_id)


def _get_window_for_user(
    request: HttpRequest, org_id: int | None, window_id: int
) -> tuple[Membership | None, MaintenanceWindow]:
    membership = _get_scope_for_user(request, org_id, change=True)
    if membership is None:
        return None, get_object_or_404(MaintenanceWindow, pk=window_id, organization__isnull=True)
    return membership, get_object_or_404(MaintenanceWindow, pk=window_id, organization_id=membership.organization_id)


def _context(membership: Membership | None, tab: str, **extra: object) -> dict[str, object]:
    if membership is None:
        return {"operator": True, **extra}
    return org_context(membership, tab, operator=False, **extra)


def _maintenance_list_url(membership: Membership | None) -> HttpResponse:
    if membership is None:
        return redirect("operator_maintenance_list")
    return redirect("maintenance_list", membership.organization_id)


# Incidents


@login_required
@require_safe
def incident_list(request: HttpRequest, org_id: int) -> HttpResponse:
    membership = get_membership_for_user(request, org_id)
    now = timezone.now()
    rows = [
        (incident, incident_selectors.own_counts(incident), incident_selectors.duration(incident, now=now))
        for incident in incident_selectors.incidents_of(organization_id=org_id)[:LIST_LIMIT]
    ]
    context = _context(membership, "incidents", rows=rows, open_count=sum(1 for i, *_ in rows if i.status == "open"))
    return render(request, "monitoring/incident_list.html", context)


@login_required
@GET_POST
def incident_detail(request: HttpRequest, org_id: int, incident_id: int) -> HttpResponse:
    membership, incident = _get_incident_for_user(request, org_id, incident_id)
    form = IncidentNoteForm(posted(request))
    if request.method == "POST":
        if not membership.can_manage:
            raise PermissionDenied
        if form.is_valid():
            incidents.add_note(
                incident=incident,
                organization=membership.organization,
                author=user_of(request),
                message=form.cleaned_data["message"],
                now=timezone.now(),
            )
            messages.success(request, "Note added.")
            return redirect("incident_detail", org_id, incident.pk)
    affected, rescued = incident_selectors.own_counts(incident)
    context = _context(
        membership,
        "incidents",
        incident=incident,
        affected=affected,
        rescued=rescued,
        duration=incident_selectors.duration(incident, now=timezone.now()),
        form=form,
    )
    return render(request, "monitoring/incident_detail.html", context, status=400 if form.errors else 200)


# Maintenance windows


@login_required
@require_safe
def maintenance_list(request: HttpRequest, org_id: int | None = None) -> HttpResponse:
    membership = _get_scope_for_user(request, org_id, change=False)
    scope_id = membership.organization_id if membership else None
    context = _context(
        membership,
        "incidents",
        windows=incident_selectors.windows_of(organization_id=scope_id)[:LIST_LIMIT],
        history=incident_selectors.maintenance_history(organization_id=scope_id),
        can_change=membership is None or membership.can_manage,
        now=timezone.now(),
    )
    return render(request, "monitoring/maintenance_list.html", context)


@login_required
@GET_POST
def maintenance_create(request: HttpRequest, org_id: int | None = None) -> HttpResponse:
    membership = _get_scope_for_user(request, org_id, change=True)
    form = MaintenanceWindowForm(posted(request))
    if request.method == "POST" and form.is_valid():
        maintenance.create_window(
            organization=membership.organization if membership else None,
            actor=user_of(request),
            now=timezone.now(),
            **{field: form.cleaned_data[field] for field in maintenance.FIELDS},
        )
        messages.success(request, f"Maintenance window “{form.cleaned_data['title']}” added.")
        return _maintenance_list_url(membership)
    context = _context(membership, "incidents", form=form, window=None)
    return render(request, "monitoring/maintenance_form.html", context, status=400 if form.errors else 200)


@login_required
@GET_POST
def maintenance_edit(request: HttpRequest, window_id: int, org_id: int | None = None) -> HttpResponse:
    membership, window = _get_window_for_user(request, org_id, window_id)
    form = MaintenanceWindowForm(posted(request), instance=MaintenanceWindow(**_window_values(window)))
    if request.method == "POST" and form.is_valid():
        maintenance.update_window(
            window=window,
            actor=user_of(request),
            now=timezone.now(),
            **{field: form.cleaned_data[field] for field in maintenance.FIELDS},
        )
        messages.success(request, "Maintenance window saved.")
        return _maintenance_list_url(membership)
    context = _context(membership, "incidents", form=form, window=window)
    return render(request, "monitoring/maintenance_form.html", context, status=400 if form.errors else 200)


def _window_values(window: MaintenanceWindow) -> dict[str, object]:
    # A copy for the form: a failed validation must not change the instance the audit reads "before" from.
    return {field: getattr(window, field) for field in ("pk", "organization_id", *maintenance.FIELDS)}


@login_required
@GET_POST
def maintenance_delete(request: HttpRequest, window_id: int, org_id: int | None = None) -> HttpResponse:
    membership, window = _get_window_for_user(request, org_id, window_id)
    if request.method == "POST":
        maintenance.delete_window(window=window, actor=user_of(request), now=timezone.now())
        messages.success(request, f"Maintenance window “{window.title}” deleted.")
        return _maintenance_list_url(membership)
    return render(request, "monitoring/maintenance_delete.html", _context(membership, "incidents", window=window))


# Alert settings


@login_required
@GET_POST
def alert_settings(request: HttpRequest, org_id: int) -> HttpResponse:
    membership = get_membership_for_user(request, org_id)
    instance = incident_selectors.settings_of(membership.organization_id)
    form = MonitoringSettingsForm(posted(request), instance=instance)
    if request.method == "POST":
        if not membership.can_manage:
            raise PermissionDenied
        if form.is_valid():
            form.save()
            messages.success(request, "Alert settings saved.")
            return redirect("alert_settings", org_id)
    return _render_alert_settings(request, membership, form, AlertChannelForm())


def _render_alert_settings(
    request: HttpRequest, membership: Membership, form: MonitoringSettingsForm, channel_form: AlertChannelForm
) -> HttpResponse:
    org_id = membership.organization_id
    context = _context(
        membership,
        "incidents",
        form=form,
        channel_form=channel_form,
        channels=incident_selectors.channels_of(organization_id=org_id),
        deliveries=incident_selectors.recent_deliveries(organization_id=org_id),
    )
    status = 400 if form.errors or channel_form.errors else 200
    return render(request, "monitoring/alert_settings.html", context, status=status)


@login_required
@post_only("alert_settings", "org_id")
def alert_channel_add(request: HttpRequest, org_id: int) -> HttpResponse:
    membership = _get_manager_for_user(request, org_id)
    channel_form = AlertChannelForm(request.POST)
    if not channel_form.is_valid():
        settings_form = MonitoringSettingsForm(instance=incident_selectors.settings_of(org_id))
        return _render_alert_settings(request, membership, settings_form, channel_form)
    channel = notify.add_channel(
        organization=membership.organization,
        kind=channel_form.cleaned_data["kind"],
        target=channel_form.cleaned_data["target"],
    )
    messages.success(request, f"Alerts now also go to {channel.get_kind_display()}: {channel.target_hint}.")
    return redirect("alert_settings", org_id)


@login_required
@post_only("alert_settings", "org_id")
def alert_channel_delete(request: HttpRequest, org_id: int, channel_id: int) -> HttpResponse:
    membership = _get_manager_for_user(request, org_id)
    channel = get_object_or_404(AlertChannel, pk=channel_id, organization_id=membership.organization_id)
    channel.delete()
    messages.success(request, f"Alerts no longer go to {channel.target_hint}.")
    return redirect("alert_settings", org_id)


# The operator's alert channels (staff only): every deployment incident, whichever organisations it concerns


def _get_staff_for_user(request: HttpRequest) -> None:
    if not user_of(request).is_staff:
        raise Http404


@login_required
@require_safe
def operator_alerts(request: HttpRequest) -> HttpResponse:
    _get_staff_for_user(request)
    return _render_operator_alerts(request, AlertChannelForm(operator=True))


def _render_operator_alerts(request: HttpRequest, channel_form: AlertChannelForm) -> HttpResponse:
    context = _context(
        None,
        "incidents",
        channel_form=channel_form,
        channels=incident_selectors.channels_of(organization_id=None),
        deliveries=incident_selectors.recent_deliveries(organization_id=None),
    )
    return render(request, "monitoring/operator_alerts.html", context, status=400 if channel_form.errors else 200)


@login_required
@post_only("operator_alerts")
def operator_channel_add(request: HttpRequest) -> HttpResponse:
    _get_staff_for_user(request)
    channel_form = AlertChannelForm(request.POST, operator=True)
    if not channel_form.is_valid():
        return _render_operator_alerts(request, channel_form)
    channel = notify.add_channel(
        organization=None, kind=channel_form.cleaned_data["kind"], target=channel_form.cleaned_data["target"]
    )
    where = f"{channel.get_kind_display()}: {channel.target_hint}"
    messages.success(request, f"Deployment incidents now also go to {where}.")
    return redirect("operator_alerts")


@login_required
@post_only("operator_alerts")
def operator_channel_delete(request: HttpRequest, channel_id: int) -> HttpResponse:
    _get_staff_for_user(request)
    channel = get_object_or_404(AlertChannel, pk=channel_id, organization__isnull=True)
    channel.delete()
    messages.success(request, f"Deployment incidents no longer go to {channel.target_hint}.")
    return redirect("operator_alerts")

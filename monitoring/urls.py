from django.urls import path

from monitoring import dashboard_views, incident_views, key_views, plotly_asset, requests_views, views

urlpatterns = [
    path("orgs/<int:org_id>/usage/", views.usage_report, name="usage"),
    # The uptime dashboard; its headline is the organisation's home page (accounts links to it by name).
    path("orgs/<int:org_id>/", dashboard_views.overview, name="org_home"),
    path("orgs/<int:org_id>/dashboard/models/<path:model>/", dashboard_views.model_dashboard, name="dashboard_model"),
    path(
        "orgs/<int:org_id>/dashboard/deployments/<path:deployment>/",
        dashboard_views.deployment_dashboard,
        name="dashboard_deployment",
    ),
    path("orgs/<int:org_id>/dashboard/incidents/", dashboard_views.incident_timeline, name="dashboard_incidents"),
    path("assets/plotly-<str:version>.min.js", plotly_asset.plotly_js, name="plotly_js"),
    # Incidents, maintenance windows and alerts
    path("orgs/<int:org_id>/incidents/", incident_views.incident_list, name="incident_list"),
    path("orgs/<int:org_id>/incidents/<int:incident_id>/", incident_views.incident_detail, name="incident_detail"),
    path("orgs/<int:org_id>/maintenance/", incident_views.maintenance_list, name="maintenance_list"),
    path("orgs/<int:org_id>/maintenance/new/", incident_views.maintenance_create, name="maintenance_create"),
    path(
        "orgs/<int:org_id>/maintenance/<int:window_id>/edit/",
        incident_views.maintenance_edit,
        name="maintenance_edit",
    ),
    path(
        "orgs/<int:org_id>/maintenance/<int:window_id>/delete/",
        incident_views.maintenance_delete,
        name="maintenance_delete",
    ),
    path("operator/maintenance/", incident_views.maintenance_list, name="operator_maintenance_list"),
    path("operator/maintenance/new/", incident_views.maintenance_create, name="operator_maintenance_create"),
    path(
        "operator/maintenance/<int:window_id>/edit/",
        incident_views.maintenance_edit,
        name="operator_maintenance_edit",
    ),
    path(
        "operator/maintenance/<int:window_id>/delete/",
        incident_views.maintenance_delete,
        name="operator_maintenance_delete",
    ),
    path("operator/alerts/", incident_views.operator_alerts, name="operator_alerts"),
    path("operator/alerts/channels/", incident_views.operator_channel_add, name="operator_channel_add"),
    path(
        "operator/alerts/channels/<int:channel_id>/delete/",
        incident_views.operator_channel_delete,
        name="operator_channel_delete",
    ),
    path("orgs/<int:org_id>/alerts/", incident_views.alert_settings, name="alert_settings"),
    path("orgs/<int:org_id>/alerts/channels/", incident_views.alert_channel_add, name="alert_channel_add"),
    path(
        "orgs/<int:org_id>/alerts/channels/<int:channel_id>/delete/",
        incident_views.alert_channel_delete,
        name="alert_channel_delete",
    ),
    # accounts' key list, with each key's spend this month
    path("orgs/<int:org_id>/keys/", key_views.key_list, name="key_list"),
    # The latest requests and their attempt chains (failover made visible)
    path("orgs/<int:org_id>/requests/", requests_views.recent_requests, name="recent_requests"),
]

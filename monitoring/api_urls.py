from django.urls import path

from monitoring import api, incidents_api

urlpatterns = [
    path("orgs/<int:org_id>/usage/", api.usage_report, name="api_usage"),
    path("orgs/<int:org_id>/provider-health/", api.provider_health, name="api_provider_health"),
    path("orgs/<int:org_id>/deployments/", api.org_deployments, name="api_org_deployments"),
    path("operator/deployments/", api.operator_deployments, name="api_operator_deployments"),
    path("orgs/<int:org_id>/requests/<str:request_id>/", api.request_detail, name="api_request_detail"),
    path("orgs/<int:org_id>/incidents/", incidents_api.incident_list, name="api_incident_list"),
]

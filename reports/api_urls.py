from django.urls import path

from reports import api

urlpatterns = [
    path("orgs/<int:org_id>/reports/sla/", api.sla_report, name="api_sla_report"),
]

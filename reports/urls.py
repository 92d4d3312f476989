from django.urls import path

from reports import views

urlpatterns = [
    path("orgs/<int:org_id>/reports/", views.report_page, name="reports"),
    path("orgs/<int:org_id>/reports/settings/", views.report_settings, name="report_settings"),
]

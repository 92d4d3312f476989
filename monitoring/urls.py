from django.urls import path

from monitoring import views

urlpatterns = [
    path("orgs/<int:org_id>/usage/", views.usage_report, name="usage"),
]

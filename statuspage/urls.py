from django.urls import path

from statuspage import views

urlpatterns = [
    path("orgs/<int:org_id>/status-page/", views.page_settings, name="status_settings"),
    path("orgs/<int:org_id>/status-page/address/", views.slug_regenerate, name="status_slug_regenerate"),
    path("orgs/<int:org_id>/status-page/components/", views.component_add, name="status_component_add"),
    path(
        "orgs/<int:org_id>/status-page/components/<int:component_id>/",
        views.component_rename,
        name="status_component_rename",
    ),
    path(
        "orgs/<int:org_id>/status-page/components/<int:component_id>/move/",
        views.component_move,
        name="status_component_move",
    ),
    path(
        "orgs/<int:org_id>/status-page/components/<int:component_id>/delete/",
        views.component_remove,
        name="status_component_remove",
    ),
    path("status/<str:slug>/", views.public_page, name="status_public"),
    path("status/<str:slug>/index.json", views.public_json, name="status_json"),
    path("operator/status/", views.operator_status, name="operator_status"),
]

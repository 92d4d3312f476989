from django.urls import path

from providers import views

urlpatterns = [
    path("orgs/<int:org_id>/keys/new/", views.key_create, name="key_create"),
    path("orgs/<int:org_id>/keys/<int:key_id>/rotate/", views.key_rotate, name="key_rotate"),
    path("orgs/<int:org_id>/providers/", views.provider_list, name="provider_list"),
    path("orgs/<int:org_id>/providers/new/", views.provider_set, name="provider_set"),
    path(
        "orgs/<int:org_id>/providers/<int:credential_id>/delete/",
        views.provider_delete,
        name="provider_delete",
    ),
    path("orgs/<int:org_id>/providers/<int:credential_id>/test/", views.provider_test, name="provider_test"),
]

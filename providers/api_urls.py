from django.urls import path

from providers import api

urlpatterns = [
    path("orgs/<int:org_id>/keys/", api.keys, name="api_keys"),
    path("orgs/<int:org_id>/providers/", api.provider_credentials, name="api_provider_credentials"),
    path(
        "orgs/<int:org_id>/providers/<int:credential_id>/",
        api.provider_credential,
        name="api_provider_credential",
    ),
]

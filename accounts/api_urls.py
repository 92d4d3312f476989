"""The management API under /api/, its OpenAPI schema and its docs page (assets served locally)."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from accounts import api

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api_schema"),
    path(
        "docs/",
        SpectacularSwaggerView.as_view(url_name="api_schema", template_name="api_docs.html"),
        name="api_docs",
    ),
    path("orgs/", api.organizations, name="api_organizations"),
    path("orgs/<int:org_id>/keys/<int:key_id>/revoke/", api.key_revoke, name="api_key_revoke"),
]

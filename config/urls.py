from django.contrib import admin
from django.urls import include, path

from monitoring import metrics_view
from monitoring import views as monitoring_views

urlpatterns = [
    path("healthz", monitoring_views.healthz, name="healthz"),
    path("readyz", monitoring_views.readyz, name="readyz"),
    path("metrics", metrics_view.metrics, name="metrics"),
    path("admin/", admin.site.urls),
    path("api/", include("accounts.api_urls")),
    path("api/", include("providers.api_urls")),
    path("api/", include("monitoring.api_urls")),
    path("api/", include("reports.api_urls")),
    path("", include("accounts.urls")),
    path("", include("providers.urls")),
    path("", include("monitoring.urls")),
    path("", include("statuspage.urls")),
    path("", include("reports.urls")),
]

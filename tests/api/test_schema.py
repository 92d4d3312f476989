"""The OpenAPI schema and the docs page, served with local assets."""

from __future__ import annotations

import re

from django.contrib.staticfiles import finders
from django.test import Client


def test_the_schema_is_served_and_lists_every_endpoint(db: None) -> None:
    response = Client().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    assert set(schema["paths"]) == {
        "/api/orgs/",
        "/api/orgs/{org_id}/keys/",
        "/api/orgs/{org_id}/keys/{key_id}/revoke/",
        "/api/orgs/{org_id}/usage/",
        "/api/orgs/{org_id}/providers/",
        "/api/orgs/{org_id}/providers/{credential_id}/",
        "/api/orgs/{org_id}/provider-health/",
        "/api/orgs/{org_id}/deployments/",
        "/api/operator/deployments/",
        "/api/orgs/{org_id}/requests/{request_id}/",
        "/api/orgs/{org_id}/incidents/",
        "/api/orgs/{org_id}/reports/sla/",
    }
    assert schema["components"]["securitySchemes"]["managementKey"]["scheme"] == "bearer"
    write_only = schema["components"]["schemas"]["ProviderCredentialWriteRequest"]["properties"]["secret"]
    assert write_only["writeOnly"] is True


def test_the_docs_page_uses_local_assets_only(db: None) -> None:
    response = Client().get("/api/docs/")
    assert response.status_code == 200
    page = response.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', page) + re.findall(r"(?:src|href)='([^']+)'", page)
    assert any("swagger-ui" in asset for asset in assets), page
    for asset in assets:
        assert not asset.startswith(("http://", "https://", "//")), asset
        if asset.startswith("/static/"):
            assert finders.find(asset.removeprefix("/static/")), asset
    assert "/api/schema/" in page

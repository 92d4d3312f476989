"""A client's gs:// URI would be read with the operator's service account, from the operator's
project: Gemini and Vertex AI deployments take one only when the operator sets
``options.allow_gcs_uris: "true"`` on that provider; elsewhere the deployment cannot express the
request, and a 400 names the option when none can."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gateway.conf.domain import ConfigFileError
from gateway.conf.loader import parse_config
from simulator.harness import SimulatorServer
from tests.providers.gemini.conftest import (
    LOCATION,
    PROJECT,
    TIMEOUTS,
    GeminiGateway,
    service_account_file,
    start_gateway,
    studio,
    vertex,
)


def gcs_yaml(sim: SimulatorServer, credentials: Path) -> str:
    options = f'{{project: {PROJECT}, location: {LOCATION}, credentials_file: "{credentials}", allow_gcs_uris: "true"}}'
    allowing = (
        f"  - {{name: vtx-gcs, kind: vertex, base_url: '{sim.base_url}/vtx-gcs/v1', options: {options},"
        f" timeout: {TIMEOUTS}}}\n"
    )
    providers = studio(sim, "gem-a") + vertex(sim, "vtx-a", credentials) + allowing
    return f"""providers:
{providers}models:
  - name: closed
    deployments:
      - {{provider: gem-a, model: gemini-2.0-flash}}
      - {{provider: vtx-a, model: gemini-2.0-flash}}
  - name: open-last
    deployments:
      - {{provider: vtx-a, model: gemini-2.0-flash}}
      - {{provider: vtx-gcs, model: gemini-2.0-flash}}
"""


@pytest.fixture(scope="module")
def gcs_gateway(
    django_db_setup: None, django_db_blocker: Any, simulator: SimulatorServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[GeminiGateway]:
    credentials = service_account_file(tmp_path_factory.mktemp("gcs"), f"{simulator.base_url}/vtx-auth/token")
    gateway = start_gateway(django_db_blocker, simulator, gcs_yaml(simulator, credentials), "gcs")
    try:
        yield gateway
    finally:
        gateway.stop()


@pytest.fixture
def gw(gcs_gateway: GeminiGateway, db: None) -> GeminiGateway:
    gcs_gateway.reset()
    return gcs_gateway


def with_image(model: str, url: str) -> dict[str, Any]:
    content = [{"type": "text", "text": "what is this?"}, {"type": "image_url", "image_url": {"url": url}}]
    return {"model": model, "messages": [{"role": "user", "content": content}]}


def with_file(model: str, uri: str) -> dict[str, Any]:
    content = [{"type": "file", "file": {"file_data": uri, "filename": "report.pdf"}}]
    return {"model": model, "messages": [{"role": "user", "content": content}]}


@pytest.mark.parametrize(
    "body",
    [
        with_image("closed", "gs://operator-bucket/private/scan.png"),
        with_file("closed", "gs://operator-bucket/private/report.pdf"),
        with_image("closed", "https://storage.googleapis.com/operator-bucket/private/scan.png"),
        with_image("closed", "https://operator-bucket.storage.googleapis.com/private/scan.png"),
    ],
)
def test_a_gcs_uri_is_refused_where_no_provider_allows_it(gw: GeminiGateway, body: dict[str, Any]) -> None:
    response = gw.chat(body)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert "allow_gcs_uris" in error["message"]
    assert error["param"] == "messages"
    assert gw.sim.attempts("gem-a") == gw.sim.attempts("vtx-a") == 0


def test_a_gcs_uri_goes_only_to_the_provider_that_allows_it(gw: GeminiGateway) -> None:
    response = gw.chat(with_image("open-last", "gs://shared-bucket/cat.png"))
    assert response.status_code == 200, response.text
    assert response.headers["x-gateway-provider"] == "vtx-gcs"
    assert gw.sim.attempts("vtx-a") == 0
    parts = gw.sent("vtx-gcs")["contents"][0]["parts"]
    assert parts[1] == {"fileData": {"mimeType": "image/png", "fileUri": "gs://shared-bucket/cat.png"}}


def test_a_public_https_image_still_goes_everywhere(gw: GeminiGateway) -> None:
    response = gw.chat(with_image("closed", "https://example.com/cat.png"))
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    "kind_line",
    ["kind: gemini, api_key: AIza-x", "kind: vertex, api_key: AQ-x, base_url: https://aiplatform.googleapis.com/v1"],
)
def test_allow_gcs_uris_takes_only_true_or_false(kind_line: str) -> None:
    config = f"""providers:
  - {{name: g, {kind_line}, options: {{allow_gcs_uris: sometimes}}}}
models:
  - {{name: m, deployments: [{{provider: g, model: gemini-2.0-flash}}]}}
"""
    with pytest.raises(ConfigFileError, match=r"options\.allow_gcs_uris: must be true or false"):
        parse_config(config, source="gcs.yaml")

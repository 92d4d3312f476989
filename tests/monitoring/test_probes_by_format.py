"""Free liveness probes of the Gemini (AI Studio), Vertex AI and Bedrock formats, over real HTTP against
the simulator: each authenticates as its chat requests do (API key, minted OAuth token, SigV4), costs no
completion, and reads a refusal (4xx) as "misconfigured" and a 5xx as a failure."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from gateway.conf.domain import GatewayConfig
from gateway.conf.loader import parse_config
from monitoring import probes
from monitoring.models import Probe
from simulator.bedrock_format import SIM_ACCESS_KEY_ID, SIM_SECRET_ACCESS_KEY
from simulator.harness import SimulatorServer
from tests.providers.gemini.conftest import service_account_file

T0 = datetime(2026, 3, 29, 0, 59, 30, tzinfo=UTC)
FORMATS = ("gemini", "vertex", "vertex-express", "bedrock", "bedrock-profile")


def _provider(fmt: str, sim: SimulatorServer, name: str, tmp_path: Path) -> tuple[str, str]:
    """(the provider's YAML line, the upstream model id) for one format."""
    if fmt == "gemini":
        line = f"{{name: {name}, kind: gemini, base_url: '{sim.base_url}/{name}/v1beta', api_key: AIza-probe-1}}"
        return line, "gemini-2.5-flash"
    if fmt == "vertex":
        credentials = service_account_file(tmp_path, f"{sim.base_url}/{name}/token")
        options = f"{{project: p, location: us-central1, credentials_file: '{credentials}'}}"
        return (
            f"{{name: {name}, kind: vertex, base_url: '{sim.base_url}/{name}/v1', options: {options}}}",
            "gemini-2.5-pro",
        )
    if fmt == "vertex-express":
        return (
            f"{{name: {name}, kind: vertex, base_url: '{sim.base_url}/{name}/v1', api_key: AQ-probe-1}}",
            "gemini-2.5-pro",
        )
    options = "{access_key_id_env: GW_PROBE_KEY_ID, secret_access_key_env: GW_PROBE_SECRET}"
    line = f"{{name: {name}, kind: bedrock, base_url: '{sim.base_url}/{name}', region: us-east-1, options: {options}}}"
    model = "us.anthropic.claude-3-5-haiku-20241022-v1:0" if fmt == "bedrock-profile" else "amazon.nova-lite-v1:0"
    return line, model


@pytest.fixture
def probed(
    request: pytest.FixtureRequest, simulator: SimulatorServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[GatewayConfig, str, str]:
    monkeypatch.setenv("GW_PROBE_KEY_ID", SIM_ACCESS_KEY_ID)
    monkeypatch.setenv("GW_PROBE_SECRET", SIM_SECRET_ACCESS_KEY)
    name = f"{request.param}-{uuid.uuid4().hex[:8]}"
    line, model = _provider(request.param, simulator, name, tmp_path)
    deployment = f"{{provider: {name}, model: '{model}'}}"
    yaml = f"providers:\n  - {line}\nmodels:\n  - name: chat\n    deployments:\n      - {deployment}\n"
    return parse_config(yaml, source="probes.yaml"), name, request.param


def _probe(config: GatewayConfig, at: datetime) -> Probe:
    [row] = probes.run_probes(config=config, now=at)
    return row


@pytest.mark.parametrize("probed", FORMATS, indirect=True)
def test_the_liveness_probe_is_an_authenticated_model_get_and_no_completion(
    probed: tuple[GatewayConfig, str, str], simulator: SimulatorServer, db: None
) -> None:
    config, name, fmt = probed
    row = _probe(config, T0)
    assert (row.kind, row.result, row.status) == ("liveness", "ok", 200), row.detail
    assert simulator.probes(name) == 1
    # No completion was asked for; a Vertex service account minted its token for the probe.
    assert simulator.attempts(name) == simulator.attempts(name, "token") == (1 if fmt == "vertex" else 0)


@pytest.mark.parametrize("probed", FORMATS, indirect=True)
def test_a_refused_probe_is_misconfigured_and_a_server_error_is_a_failure(
    probed: tuple[GatewayConfig, str, str], simulator: SimulatorServer, db: None
) -> None:
    config, name, _ = probed
    simulator.set_fault(name, status=403)
    try:
        refused = _probe(config, T0)
        simulator.set_fault(name, status=503)
        failed = _probe(config, T0 + timedelta(seconds=40))
    finally:
        simulator.clear_faults(name)
    assert (refused.result, refused.status) == ("misconfigured", 403)
    assert (failed.result, failed.status, failed.detail) == ("failed", 503, "HTTP 503")
    assert simulator.probes(name) == 2


@pytest.mark.parametrize("probed", ["bedrock"], indirect=True)
def test_an_unsigned_bedrock_probe_is_refused_by_the_simulator(
    probed: tuple[GatewayConfig, str, str], simulator: SimulatorServer
) -> None:
    config, _, _ = probed
    deployment = config.deployments()[0]
    request = probes.ADAPTERS["bedrock"].probe_request(deployment)
    assert request is not None and request.url.endswith("/foundation-models/amazon.nova-lite-v1%3A0")
    unsigned = {k: v for k, v in request.headers.items() if k.lower() != "authorization"}
    assert httpx.get(request.url, headers=unsigned).status_code == 403
    tampered = {**unsigned, "authorization": request.headers["Authorization"][:-4] + "0000"}
    assert httpx.get(request.url, headers=tampered).status_code == 403
    assert httpx.get(request.url, headers=request.headers).status_code == 200

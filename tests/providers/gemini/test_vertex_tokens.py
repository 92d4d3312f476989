"""Vertex AI OAuth tokens: minted from a service account once, reused, refreshed off the request path."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gateway.upstream import google_auth
from gateway.conf.loader import parse_config
from gateway.errors import AttemptError
from gateway.events.outcomes import Outcome
from simulator.harness import SimulatorServer
from tests.providers.gemini.conftest import GeminiGateway, ask, service_account_file, start_gateway, vertex


@pytest.fixture(scope="module")
def token_gateway(
    django_db_setup: None, django_db_blocker: Any, simulator: SimulatorServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[GeminiGateway]:
    """Three Vertex providers, each with its own service account and token endpoint:
    `vtx-lazy` (first token on first use), `vtx-primed` (minted at start-up) and `vtx-short`
    (tokens that expire within the refresh margin, so each use starts a background refresh)."""
    directory = tmp_path_factory.mktemp("vertex-tokens")
    lazy = service_account_file(directory, f"{simulator.base_url}/auth-lazy/token")
    primed = service_account_file(directory, f"{simulator.base_url}/auth-primed/token")
    short = service_account_file(directory, f"{simulator.base_url}/auth-short/token?expires_in=200")
    providers = vertex(simulator, "vtx-lazy", lazy) + vertex(simulator, "vtx-primed", primed)
    providers += vertex(simulator, "vtx-short", short)
    models = "".join(
        f"  - {{name: {name}, deployments: [{{provider: vtx-{name}, model: gemini-2.0-flash}}]}}\n"
        for name in ("lazy", "primed", "short")
    )
    yaml = f"providers:\n{providers}models:\n{models}"
    simulator.reset()
    primed_only = f"providers:\n{vertex(simulator, 'vtx-primed', primed)}models:\n{models.splitlines()[1]}\n"
    google_auth.prime_sync(parse_config(primed_only))  # what Runtime.start does for every Vertex provider
    gateway = start_gateway(django_db_blocker, simulator, yaml, "vertex-tokens")
    try:
        yield gateway
    finally:
        gateway.stop()


def bearer(gw: GeminiGateway, provider: str) -> str:
    header: str = gw.sim.last_request(provider)["headers"]["authorization"]
    return header


def test_token_is_minted_once_on_first_use_and_reused(token_gateway: GeminiGateway, db: None) -> None:
    gw = token_gateway
    for stream in (False, True, False, True):
        assert gw.chat(ask("lazy", stream=stream)).status_code == 200
        assert bearer(gw, "vtx-lazy") == "Bearer ya29.sim-auth-lazy-1"
    assert gw.sim.attempts("auth-lazy", "token") == 1
    assert gw.sim.attempts("vtx-lazy") == 4


def test_primed_token_means_no_request_waits_for_a_mint(token_gateway: GeminiGateway, db: None) -> None:
    gw = token_gateway
    before = gw.sim.attempts("auth-primed", "token")
    for _ in range(3):
        assert gw.chat(ask("primed")).status_code == 200
    assert gw.sim.attempts("auth-primed", "token") == before == 1
    assert bearer(gw, "vtx-primed") == "Bearer ya29.sim-auth-primed-1"


def test_token_near_expiry_is_refreshed_in_the_background(token_gateway: GeminiGateway, db: None) -> None:
    gw = token_gateway
    assert gw.chat(ask("short")).status_code == 200
    first = bearer(gw, "vtx-short")
    # The token expires within the refresh margin: requests keep using it while a refresh runs.
    deadline = time.monotonic() + 10
    while bearer(gw, "vtx-short") == first:
        assert time.monotonic() < deadline, "the refreshed token was never used"
        time.sleep(0.05)
        assert gw.chat(ask("short")).status_code == 200
    assert gw.sim.attempts("auth-short", "token") >= 2


def test_the_token_request_is_a_signed_jwt_bearer_grant(token_gateway: GeminiGateway, db: None) -> None:
    gw = token_gateway
    seen = gw.sim.last_request("auth-primed")
    assert seen["body"]["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer"
    header, claims, signature = seen["body"]["assertion"].split(".")
    assert header and claims and signature


def test_a_refused_token_grant_is_misconfiguration(tmp_path: Path, simulator: SimulatorServer) -> None:
    path = service_account_file(tmp_path, f"{simulator.base_url}/auth-refused/no-token-endpoint-here")
    with pytest.raises(AttemptError) as caught:
        google_auth.source_for(str(path)).token()
    assert caught.value.failure is Outcome.MISCONFIGURED
    assert caught.value.message.startswith("Vertex AI token refused")


def test_an_unreachable_token_endpoint_is_a_connect_failure(tmp_path: Path) -> None:
    path = service_account_file(tmp_path, "http://127.0.0.1:9/token")
    with pytest.raises(AttemptError) as caught:
        google_auth.source_for(str(path)).token()
    assert caught.value.failure is Outcome.CONNECT

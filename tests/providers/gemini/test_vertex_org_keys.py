"""An organisation's own key cannot apply to a Vertex AI provider that signs in with the
operator's service account (``credentials_file``): storing one is refused with a field error, the
test button fails, and a key stored before is never silently replaced by the operator's account."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import override_settings

from providers import services
from accounts.crypto import encrypt_secret
from accounts.models import ProviderCredential
from providers.checks import check_secret
from gateway.conf.loader import parse_config
from gateway.credentials import CredentialCache
from simulator.harness import SimulatorServer
from tests.accounts.helpers import client_for
from tests.api.helpers import post_json, session_client
from tests.conftest import Accounts
from tests.providers.gemini.conftest import LOCATION, PROJECT, service_account_file

SECRET = "org-own-vertex-key-0001"


def config_text(sim: SimulatorServer, credentials: Path) -> str:
    options = f'{{project: {PROJECT}, location: {LOCATION}, credentials_file: "{credentials}"}}'
    return f"""providers:
  - {{name: vtx-sa, kind: vertex, base_url: '{sim.base_url}/vtx-sa/v1', options: {options}}}
  - {{name: vtx-x, kind: vertex, base_url: '{sim.base_url}/vtx-x/v1', api_key: AQ-operator-express-key}}
models:
  - name: sa
    deployments: [{{provider: vtx-sa, model: gemini-2.0-flash}}]
  - name: express
    deployments: [{{provider: vtx-x, model: gemini-2.0-flash}}]
"""


@pytest.fixture
def gateway_config(simulator: SimulatorServer, tmp_path: Path) -> str:
    credentials = service_account_file(tmp_path, f"{simulator.base_url}/vtx-auth/token")
    path = tmp_path / "gateway.yaml"
    path.write_text(config_text(simulator, credentials))
    with override_settings(GATEWAY_CONFIG=str(path)):
        yield path.read_text()


def test_the_api_refuses_a_key_for_a_service_account_provider_with_a_field_error(
    accounts: Accounts, gateway_config: str
) -> None:
    client = session_client(accounts.owner)
    url = f"/api/orgs/{accounts.org.pk}/providers/"
    response = post_json(client, url, {"provider": "vtx-sa", "secret": SECRET})
    assert response.status_code == 400
    assert "credentials_file" in response.json()["provider"][0]
    assert not ProviderCredential.objects.exists()
    assert post_json(client, url, {"provider": "vtx-x", "secret": SECRET}).status_code == 201


def test_the_form_refuses_it_on_the_provider_field(accounts: Accounts, gateway_config: str) -> None:
    response = client_for(accounts.owner).post(
        f"/orgs/{accounts.org.pk}/providers/new/", {"provider": "vtx-sa", "secret": SECRET}
    )
    assert response.status_code == 400
    assert "credentials_file" in " ".join(response.context["form"].errors["provider"])
    assert not ProviderCredential.objects.exists()


def test_the_service_refuses_it_too(accounts: Accounts, gateway_config: str) -> None:
    with pytest.raises(services.AccountsError, match="credentials_file"):
        services.set_provider_credential(organization=accounts.org, provider="vtx-sa", secret=SECRET)


def test_the_test_button_fails_for_any_secret(accounts: Accounts, gateway_config: str) -> None:
    result = check_secret(provider_name="vtx-sa", secret="anything-at-all")
    assert not result.ok and "credentials_file" in result.message


def test_a_key_stored_before_never_runs_on_the_operators_account(gateway_config: str) -> None:
    config = parse_config(gateway_config, source="gateway.yaml")
    cache = CredentialCache(refresh_seconds=60)
    cache.apply([(7, "vtx-sa", encrypt_secret(SECRET), None), (7, "vtx-x", encrypt_secret(SECRET), None)], full=True)
    assert cache.deployments_for(7, config.models["sa"].deployments) == ()
    [own] = cache.deployments_for(7, config.models["express"].deployments)
    assert own.provider.api_key == SECRET and own.id.endswith("@org7")
    assert cache.deployments_for(8, config.models["sa"].deployments) == config.models["sa"].deployments

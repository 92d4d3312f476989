from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.utils import timezone

from gateway.asgi import GatewayApp
from gateway.conf.loader import parse_config
from gateway.runtime import build_runtime
from simulator.harness import SimulatorServer
from tests.conftest import Accounts
from tests.live import LiveServer


@pytest.fixture
def verified(accounts: Accounts) -> Accounts:
    """The usual cast, with every address verified (key creation needs it)."""
    for user in (accounts.owner, accounts.member, accounts.outsider):
        user.email_verified_at = timezone.now()
        user.save(update_fields=["email_verified_at"])
    return accounts


@pytest.fixture(autouse=True)
def _account_tables_start_empty(db: None) -> None:
    """Other modules' live servers commit their own orgs and keys; inside this test's
    transaction they are removed, and the rollback at the end brings them back."""
    from accounts.models import ApiKey, Invitation, Membership, Organization, User

    for model in (ApiKey, Invitation, Membership, Organization, User):
        model.objects.all().delete()


@pytest.fixture
def gateway_url(gateway_server: str, simulator: SimulatorServer) -> str:
    """The live proxy, with the shared simulator cleared of faults other tests left behind."""
    simulator.reset()
    return gateway_server


@pytest.fixture(scope="module")
def gateway_server(django_db_setup: None, simulator: SimulatorServer) -> Iterator[str]:
    """A live proxy over real HTTP: "chat" is free, "dear" costs a dollar a token."""
    base_url = simulator.url_for("sim-a")
    yaml = (
        f"providers:\n  - {{name: sim-a, kind: openai, base_url: '{base_url}', api_key: sk-sim-a-0001}}\n"
        "models:\n  - name: chat\n    deployments: [{provider: sim-a, model: chat}]\n"
        "  - name: dear\n    deployments: [{provider: sim-a, model: dear, price: {input: 1000000, output: 1000000}}]\n"
    )
    server = LiveServer(GatewayApp(build_runtime(parse_config(yaml, source="accounts-tests.yaml")))).start()
    try:
        yield server.url
    finally:
        server.stop()

"""Only the operator's own keys act for no person; a removed person's management key acts for nobody."""

from __future__ import annotations

import io
from pathlib import Path

from django.core.management import call_command

from accounts.models import ApiKey
from accounts.services import bootstrap_local_operator, create_api_key
from tests.accounts.admin_forms import admin_client
from tests.accounts.factories import make_management_key
from tests.api.helpers import key_client
from tests.conftest import Accounts


def keys_url(accounts: Accounts) -> str:
    return f"/api/orgs/{accounts.org.pk}/keys/"


def test_a_deleted_owners_management_key_stops_working_instead_of_becoming_an_operator_key(
    accounts: Accounts,
) -> None:
    key, plaintext = make_management_key(accounts.org, accounts.owner)
    assert key_client(plaintext).get(keys_url(accounts)).status_code == 200
    assert admin_client().post(f"/admin/accounts/user/{accounts.owner.pk}/delete/", {"post": "yes"}).status_code == 302
    key.refresh_from_db()
    assert key.created_by is None and key.revoked_at is not None
    assert key_client(plaintext).get(keys_url(accounts)).status_code == 401


def test_a_management_key_whose_creator_is_gone_is_refused_even_if_never_revoked(accounts: Accounts) -> None:
    # A row left behind by the old SET_NULL path: no creator, not revoked, not the operator's.
    created = create_api_key(organization=accounts.org, name="orphan", created_by=None, scopes=["management"])
    response = key_client(created.plaintext).get(keys_url(accounts))
    assert response.status_code == 401


def test_the_command_line_makes_operator_management_keys(accounts: Accounts) -> None:
    out = io.StringIO()
    call_command("create_api_key", "--org", "Acme", "--name", "ops", "--management", stdout=out, stderr=io.StringIO())
    plaintext = out.getvalue().strip().splitlines()[-1]
    key = ApiKey.objects.get(name="ops")
    assert key.is_operator and key.scopes == ["management"] and key.created_by is None
    response = key_client(plaintext).post(
        f"/api/orgs/{key.organization_id}/providers/",
        {"provider": "openai-main", "secret": "a-provider-secret-123"},
        content_type="application/json",
    )
    assert response.status_code == 201


def test_keys_made_by_people_are_never_operator_keys(accounts: Accounts) -> None:
    key, _ = make_management_key(accounts.org, accounts.owner)
    assert not key.is_operator


def test_the_first_run_key_is_the_operators(db: None, tmp_path: Path) -> None:
    bootstrap_local_operator(data_dir=tmp_path)
    assert ApiKey.objects.get(name="quickstart").is_operator

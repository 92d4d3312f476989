"""Django admin never makes a key without showing it, and never deletes one: a delete is a revoke."""

from __future__ import annotations

from accounts.models import ApiKey
from accounts.services import create_api_key
from tests.accounts.admin_forms import admin_client
from tests.conftest import Accounts


def test_admin_cannot_add_keys_and_says_where_keys_are_made(accounts: Accounts) -> None:
    client = admin_client()
    assert client.get("/admin/accounts/apikey/add/").status_code == 403
    response = client.post("/admin/accounts/apikey/add/", {"name": "broken", "organization": accounts.org.pk})
    assert response.status_code == 403
    assert not ApiKey.objects.filter(name="broken").exists()
    listing = client.get("/admin/accounts/apikey/").content.decode()
    assert "create_api_key" in listing and "/admin/accounts/apikey/add/" not in listing


def test_the_key_form_shows_models_and_scopes_readably(accounts: Accounts) -> None:
    key = create_api_key(
        organization=accounts.org, name="k", created_by=accounts.owner, allowed_models=["chat", "solo"],
        scopes=["management"],
    ).api_key  # fmt: skip
    plain = create_api_key(organization=accounts.org, name="p", created_by=accounts.owner).api_key
    page = admin_client().get(f"/admin/accounts/apikey/{key.pk}/change/").content.decode()
    assert "chat, solo" in page and "management" in page
    assert 'name="allowed_models"' not in page and 'name="scopes"' not in page and "[&quot;" not in page
    page = admin_client().get(f"/admin/accounts/apikey/{plain.pk}/change/").content.decode()
    assert "every model" in page and "none (model calls only)" in page


def test_deleting_a_key_revokes_it_and_keeps_the_row(accounts: Accounts) -> None:
    key = create_api_key(organization=accounts.org, name="k", created_by=accounts.owner).api_key
    client = admin_client()
    confirm = client.get(f"/admin/accounts/apikey/{key.pk}/delete/").content.decode()
    assert "revoked, not deleted" in confirm
    response = client.post(f"/admin/accounts/apikey/{key.pk}/delete/", {"post": "yes"}, follow=True)
    assert "was revoked" in response.content.decode()
    assert ApiKey.objects.get(pk=key.pk).revoked_at is not None


def test_keys_are_revoked_in_bulk_and_there_is_no_bulk_delete(accounts: Accounts) -> None:
    keys = [create_api_key(organization=accounts.org, name=n, created_by=accounts.owner).api_key for n in "ab"]
    client = admin_client()
    assert "delete_selected" not in client.get("/admin/accounts/apikey/").content.decode()
    data = {"action": "revoke_selected", "_selected_action": [str(k.pk) for k in keys]}
    assert client.post("/admin/accounts/apikey/", data).status_code == 302
    assert ApiKey.objects.filter(revoked_at__isnull=False).count() == 2

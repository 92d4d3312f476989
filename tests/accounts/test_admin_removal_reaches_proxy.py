"""Whoever the operator removes in Django admin stops reaching /v1/ within a second, over real HTTP.

Every admin path: deleting a key, revoking keys in bulk, deleting or deactivating a user, deleting a
membership in the organisation's form, deleting an organisation (alone or in bulk).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from accounts.models import ApiKey, Membership, Organization, User
from accounts.services import create_api_key, create_organization
from tests.accounts.admin_forms import admin_client, submit_change_form


def _status(url: str, key: str) -> int:
    body = {"model": "chat", "messages": [{"role": "user", "content": "hi"}]}
    return httpx.post(
        f"{url}/v1/chat/completions", json=body, headers={"authorization": f"Bearer {key}"}, timeout=10
    ).status_code


def _assert_refused_within_a_second(url: str, key: str) -> None:
    removed_at = time.monotonic()
    while _status(url, key) != 401:
        assert time.monotonic() - removed_at < 1.0, "the key still worked a second after the removal"
        time.sleep(0.05)


def _delete_key(key: ApiKey, user: User, org: Organization) -> Any:
    return admin_client().post(f"/admin/accounts/apikey/{key.pk}/delete/", {"post": "yes"})


def _revoke_keys_in_bulk(key: ApiKey, user: User, org: Organization) -> Any:
    data = {"action": "revoke_selected", "_selected_action": [str(key.pk)]}
    return admin_client().post("/admin/accounts/apikey/", data)


def _delete_user(key: ApiKey, user: User, org: Organization) -> Any:
    return admin_client().post(f"/admin/accounts/user/{user.pk}/delete/", {"post": "yes"})


def _delete_users_in_bulk(key: ApiKey, user: User, org: Organization) -> Any:
    data = {"action": "delete_selected", "_selected_action": [str(user.pk)], "post": "yes"}
    return admin_client().post("/admin/accounts/user/", data)


def _deactivate_user(key: ApiKey, user: User, org: Organization) -> Any:
    return submit_change_form(admin_client(), f"/admin/accounts/user/{user.pk}/change/", {"is_active": None})


def _delete_membership(key: ApiKey, user: User, org: Organization) -> Any:
    membership = Membership.objects.get(organization=org, user=user)
    client, url = admin_client(), f"/admin/accounts/organization/{org.pk}/change/"
    forms = client.get(url).context["inline_admin_formsets"][0].formset.forms
    prefix = next(form.prefix for form in forms if form.instance.pk == membership.pk)
    return submit_change_form(client, url, {f"{prefix}-DELETE": "on"})


def _delete_organization(key: ApiKey, user: User, org: Organization) -> Any:
    return admin_client().post(f"/admin/accounts/organization/{org.pk}/delete/", {"post": "yes"})


def _delete_organizations_in_bulk(key: ApiKey, user: User, org: Organization) -> Any:
    data = {"action": "delete_selected", "_selected_action": [str(org.pk)], "post": "yes"}
    return admin_client().post("/admin/accounts/organization/", data)


@pytest.mark.parametrize(
    "remove",
    [
        _delete_key,
        _revoke_keys_in_bulk,
        _delete_user,
        _delete_users_in_bulk,
        _deactivate_user,
        _delete_membership,
        _delete_organization,
        _delete_organizations_in_bulk,
    ],
    ids=lambda f: f.__name__.strip("_"),
)
def test_a_key_stops_working_within_a_second_of_its_removal_in_admin(
    gateway_url: str, transactional_db: None, remove: Callable[[ApiKey, User, Organization], Any]
) -> None:
    owner = User.objects.create_user("owner@example.org", "owner-password-123")
    member = User.objects.create_user("member@example.org", "member-password-123")
    org = create_organization(name="Acme", owner=owner)
    Membership.objects.create(organization=org, user=member, role=Membership.Role.MEMBER)
    created = create_api_key(organization=org, name="laptop", created_by=member)
    assert _status(gateway_url, created.plaintext) == 200

    response = remove(created.api_key, member, org)
    assert response.status_code == 302, response.content.decode()[:2000]
    _assert_refused_within_a_second(gateway_url, created.plaintext)

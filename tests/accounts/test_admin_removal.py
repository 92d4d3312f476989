"""Removing people in Django admin revokes their keys through the services, on every path."""

from __future__ import annotations

from accounts.models import ApiKey, Membership, User
from accounts.services import create_api_key
from tests.accounts.admin_forms import admin_client, submit_change_form
from tests.conftest import Accounts


def _keys(accounts: Accounts) -> tuple[ApiKey, ApiKey, ApiKey]:
    member_here = create_api_key(organization=accounts.org, name="m", created_by=accounts.member).api_key
    member_elsewhere_org = accounts.other_org
    Membership.objects.create(organization=member_elsewhere_org, user=accounts.member)
    member_there = create_api_key(organization=member_elsewhere_org, name="m2", created_by=accounts.member).api_key
    owner_key = create_api_key(organization=accounts.org, name="o", created_by=accounts.owner).api_key
    return member_here, member_there, owner_key


def _revoked(*keys: ApiKey) -> list[bool]:
    return [ApiKey.objects.get(pk=key.pk).revoked_at is not None for key in keys]


def test_deactivating_a_user_revokes_every_key_they_created(accounts: Accounts) -> None:
    here, there, owner_key = _keys(accounts)
    response = submit_change_form(
        admin_client(), f"/admin/accounts/user/{accounts.member.pk}/change/", {"is_active": None}
    )
    assert response.status_code == 302
    assert not User.objects.get(pk=accounts.member.pk).is_active
    assert _revoked(here, there, owner_key) == [True, True, False]


def test_deleting_a_user_keeps_their_keys_revoked_rather_than_deleting_them(accounts: Accounts) -> None:
    here, there, owner_key = _keys(accounts)
    client = admin_client()
    assert client.post(f"/admin/accounts/user/{accounts.member.pk}/delete/", {"post": "yes"}).status_code == 302
    assert _revoked(here, there, owner_key) == [True, True, False]


def test_deleting_users_in_bulk_revokes_their_keys(accounts: Accounts) -> None:
    here, there, owner_key = _keys(accounts)
    data = {"action": "delete_selected", "_selected_action": [str(accounts.member.pk)], "post": "yes"}
    assert admin_client().post("/admin/accounts/user/", data).status_code == 302
    assert not User.objects.filter(pk=accounts.member.pk).exists()
    assert _revoked(here, there, owner_key) == [True, True, False]


def test_deleting_a_membership_in_the_organisation_form_revokes_their_keys_there_only(accounts: Accounts) -> None:
    here, there, owner_key = _keys(accounts)
    client, url = admin_client(), f"/admin/accounts/organization/{accounts.org.pk}/change/"
    forms = client.get(url).context["inline_admin_formsets"][0].formset.forms
    prefix = next(form.prefix for form in forms if form.instance.user_id == accounts.member.pk)
    assert submit_change_form(client, url, {f"{prefix}-DELETE": "on"}).status_code == 302
    assert not Membership.objects.filter(organization=accounts.org, user=accounts.member).exists()
    assert _revoked(here, there, owner_key) == [True, False, False]


def test_saving_an_active_user_revokes_nothing(accounts: Accounts) -> None:
    here, there, owner_key = _keys(accounts)
    response = submit_change_form(admin_client(), f"/admin/accounts/user/{accounts.member.pk}/change/", {})
    assert response.status_code == 302
    assert _revoked(here, there, owner_key) == [False, False, False]

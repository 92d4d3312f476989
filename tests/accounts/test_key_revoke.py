from __future__ import annotations

from accounts.models import ApiKey, Membership
from accounts.services import create_api_key
from tests.accounts.helpers import assert_login_required, assert_not_found_for, client_for
from tests.conftest import Accounts


def make_key(accounts: Accounts, created_by: object = None) -> ApiKey:
    return create_api_key(organization=accounts.org, name="ci", created_by=created_by or accounts.owner).api_key


def url(key: ApiKey) -> str:
    return f"/orgs/{key.organization_id}/keys/{key.pk}/revoke/"


def test_get_asks_for_confirmation_and_revokes_nothing(accounts: Accounts) -> None:
    key = make_key(accounts)
    response = client_for(accounts.owner).get(url(key))
    assert response.status_code == 200
    assert b"Revoke key" in response.content
    key.refresh_from_db()
    assert key.revoked_at is None


def test_owner_revokes_a_key(accounts: Accounts) -> None:
    key = make_key(accounts, accounts.member)
    before = key.updated_at
    response = client_for(accounts.owner).post(url(key))
    assert response.status_code == 302
    assert response["Location"] == f"/orgs/{accounts.org.pk}/keys/"
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert key.updated_at > before  # the proxy's key cache polls on this


def test_revoking_twice_is_harmless(accounts: Accounts) -> None:
    key = make_key(accounts)
    client = client_for(accounts.owner)
    client.post(url(key))
    first = ApiKey.objects.get().revoked_at
    response = client.post(url(key), follow=True)
    assert b"already revoked" in response.content
    assert ApiKey.objects.get().revoked_at == first


def test_a_member_revokes_their_own_key(accounts: Accounts) -> None:
    key = make_key(accounts, accounts.member)
    assert client_for(accounts.member).post(url(key)).status_code == 302
    key.refresh_from_db()
    assert key.revoked_at is not None


def test_a_member_cannot_revoke_someone_elses_key(accounts: Accounts) -> None:
    key = make_key(accounts, accounts.owner)
    assert client_for(accounts.member).post(url(key)).status_code == 403
    key.refresh_from_db()
    assert key.revoked_at is None


def test_an_admin_revokes_any_key(accounts: Accounts) -> None:
    Membership.objects.filter(user=accounts.member).update(role=Membership.Role.ADMIN)
    key = make_key(accounts, accounts.owner)
    assert client_for(accounts.member).post(url(key)).status_code == 302
    key.refresh_from_db()
    assert key.revoked_at is not None


def test_csrf_is_enforced(accounts: Accounts) -> None:
    key = make_key(accounts)
    client = client_for(accounts.owner, enforce_csrf_checks=True)
    assert client.post(url(key)).status_code == 403
    key.refresh_from_db()
    assert key.revoked_at is None
    client.get(url(key))
    assert client.post(url(key), {"csrfmiddlewaretoken": client.cookies["csrftoken"].value}).status_code == 302


def test_requires_login(accounts: Accounts) -> None:
    key = make_key(accounts)
    assert_login_required(url(key))
    assert_login_required(url(key), method="post")
    key.refresh_from_db()
    assert key.revoked_at is None


def test_outsider_gets_404(accounts: Accounts) -> None:
    key = make_key(accounts)
    assert_not_found_for(accounts.outsider, url(key))
    assert_not_found_for(accounts.outsider, url(key), method="post")
    key.refresh_from_db()
    assert key.revoked_at is None


def test_a_key_of_another_org_is_404_even_under_your_own_org(accounts: Accounts) -> None:
    foreign = create_api_key(organization=accounts.other_org, name="theirs").api_key
    response = client_for(accounts.owner).post(f"/orgs/{accounts.org.pk}/keys/{foreign.pk}/revoke/")
    assert response.status_code == 404
    foreign.refresh_from_db()
    assert foreign.revoked_at is None

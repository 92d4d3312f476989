from __future__ import annotations

from accounts.models import Membership, ProviderCredential
from tests.accounts.factories import make_credential
from tests.accounts.helpers import assert_login_required, assert_not_found_for, client_for
from tests.conftest import Accounts


def url(credential: ProviderCredential) -> str:
    return f"/orgs/{credential.organization_id}/providers/{credential.pk}/delete/"


def test_get_asks_for_confirmation_and_deletes_nothing(accounts: Accounts) -> None:
    credential = make_credential(accounts.org)
    response = client_for(accounts.owner).get(url(credential))
    assert response.status_code == 200
    assert b"Delete key" in response.content
    credential.refresh_from_db()
    assert credential.is_active


def test_owner_deletes_and_the_secret_is_erased(accounts: Accounts) -> None:
    credential = make_credential(accounts.org)
    before = credential.updated_at
    response = client_for(accounts.owner).post(url(credential))
    assert response.status_code == 302
    assert response["Location"] == f"/orgs/{accounts.org.pk}/providers/"
    credential.refresh_from_db()
    assert credential.ciphertext is None and credential.last4 == ""
    assert credential.updated_at > before  # the proxy polls on this and drops the key


def test_deleting_twice_is_404(accounts: Accounts) -> None:
    credential = make_credential(accounts.org)
    client = client_for(accounts.owner)
    client.post(url(credential))
    assert client.post(url(credential)).status_code == 404


def test_a_member_cannot_delete(accounts: Accounts) -> None:
    credential = make_credential(accounts.org)
    client = client_for(accounts.member)
    assert client.get(url(credential)).status_code == 403
    assert client.post(url(credential)).status_code == 403
    credential.refresh_from_db()
    assert credential.is_active


def test_an_admin_deletes(accounts: Accounts) -> None:
    Membership.objects.filter(user=accounts.member).update(role=Membership.Role.ADMIN)
    credential = make_credential(accounts.org)
    assert client_for(accounts.member).post(url(credential)).status_code == 302
    credential.refresh_from_db()
    assert not credential.is_active


def test_csrf_is_enforced(accounts: Accounts) -> None:
    credential = make_credential(accounts.org)
    client = client_for(accounts.owner, enforce_csrf_checks=True)
    assert client.post(url(credential)).status_code == 403
    credential.refresh_from_db()
    assert credential.is_active


def test_requires_login(accounts: Accounts) -> None:
    credential = make_credential(accounts.org)
    assert_login_required(url(credential))
    assert_login_required(url(credential), method="post")
    credential.refresh_from_db()
    assert credential.is_active


def test_outsider_gets_404(accounts: Accounts) -> None:
    credential = make_credential(accounts.org)
    assert_not_found_for(accounts.outsider, url(credential))
    assert_not_found_for(accounts.outsider, url(credential), method="post")
    credential.refresh_from_db()
    assert credential.is_active


def test_a_credential_of_another_org_is_404_even_under_your_own_org(accounts: Accounts) -> None:
    foreign = make_credential(accounts.other_org)
    response = client_for(accounts.owner).post(f"/orgs/{accounts.org.pk}/providers/{foreign.pk}/delete/")
    assert response.status_code == 404
    foreign.refresh_from_db()
    assert foreign.is_active

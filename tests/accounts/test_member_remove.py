from __future__ import annotations

from accounts.models import ApiKey, Membership
from accounts.services import create_api_key
from tests.accounts.helpers import assert_login_required, assert_not_found_for, client_for
from tests.conftest import Accounts


def membership(accounts: Accounts, user: object) -> Membership:
    return Membership.objects.get(organization=accounts.org, user=user)


def url(m: Membership) -> str:
    return f"/orgs/{m.organization_id}/members/{m.pk}/remove/"


def test_get_asks_for_confirmation(accounts: Accounts) -> None:
    target = membership(accounts, accounts.member)
    response = client_for(accounts.owner).get(url(target))
    assert response.status_code == 200
    assert b"Remove member@example.org?" in response.content
    assert Membership.objects.filter(pk=target.pk).exists()


def test_owner_removes_a_member_and_their_keys_are_revoked(accounts: Accounts) -> None:
    theirs = create_api_key(organization=accounts.org, name="theirs", created_by=accounts.member).api_key
    mine = create_api_key(organization=accounts.org, name="mine", created_by=accounts.owner).api_key
    target = membership(accounts, accounts.member)
    response = client_for(accounts.owner).post(url(target))
    assert response["Location"] == f"/orgs/{accounts.org.pk}/members/"
    assert not Membership.objects.filter(pk=target.pk).exists()
    assert ApiKey.objects.get(pk=theirs.pk).revoked_at is not None
    assert ApiKey.objects.get(pk=mine.pk).revoked_at is None
    assert client_for(accounts.member).get(f"/orgs/{accounts.org.pk}/").status_code == 404


def test_a_member_cannot_remove_others(accounts: Accounts) -> None:
    target = membership(accounts, accounts.owner)
    assert client_for(accounts.member).post(url(target)).status_code == 403
    assert Membership.objects.filter(pk=target.pk).exists()


def test_an_admin_cannot_remove_an_owner(accounts: Accounts) -> None:
    Membership.objects.filter(user=accounts.member).update(role=Membership.Role.ADMIN)
    target = membership(accounts, accounts.owner)
    assert client_for(accounts.member).post(url(target)).status_code == 403
    assert Membership.objects.filter(pk=target.pk).exists()


def test_a_member_can_leave(accounts: Accounts) -> None:
    target = membership(accounts, accounts.member)
    response = client_for(accounts.member).post(url(target))
    assert response["Location"] == "/"
    assert not Membership.objects.filter(pk=target.pk).exists()


def test_the_last_owner_cannot_be_removed(accounts: Accounts) -> None:
    target = membership(accounts, accounts.owner)
    response = client_for(accounts.owner).post(url(target))
    assert response.status_code == 400
    assert b"last one" in response.content
    assert Membership.objects.filter(pk=target.pk).exists()


def test_an_owner_can_leave_when_another_owner_remains(accounts: Accounts) -> None:
    Membership.objects.filter(user=accounts.member).update(role=Membership.Role.OWNER)
    target = membership(accounts, accounts.owner)
    assert client_for(accounts.owner).post(url(target)).status_code == 302
    assert not Membership.objects.filter(pk=target.pk).exists()


def test_requires_login(accounts: Accounts) -> None:
    target = membership(accounts, accounts.member)
    assert_login_required(url(target))
    assert_login_required(url(target), method="post")
    assert Membership.objects.filter(pk=target.pk).exists()


def test_outsider_gets_404(accounts: Accounts) -> None:
    target = membership(accounts, accounts.member)
    assert_not_found_for(accounts.outsider, url(target))
    assert_not_found_for(accounts.outsider, url(target), method="post")
    assert Membership.objects.filter(pk=target.pk).exists()


def test_a_membership_of_another_org_is_404_under_your_own(accounts: Accounts) -> None:
    foreign = Membership.objects.get(organization=accounts.other_org)
    response = client_for(accounts.owner).post(f"/orgs/{accounts.org.pk}/members/{foreign.pk}/remove/")
    assert response.status_code == 404
    assert Membership.objects.filter(pk=foreign.pk).exists()

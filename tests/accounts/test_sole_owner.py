"""An organisation's only owner is not offered "Leave": the page says why, and the service refuses it too."""

from __future__ import annotations

import pytest

from accounts import services
from accounts.models import Membership
from tests.accounts.helpers import client_for
from tests.conftest import Accounts


def own_membership(accounts: Accounts) -> Membership:
    return Membership.objects.get(organization=accounts.org, user=accounts.owner)


def test_the_sole_owner_sees_a_disabled_leave_button_and_why(accounts: Accounts) -> None:
    page = client_for(accounts.owner).get(f"/orgs/{accounts.org.pk}/members/").content.decode()
    assert f"/members/{own_membership(accounts).pk}/remove/" not in page
    assert "disabled" in page and ">Leave</button>" in page
    assert "only owner of Acme, so you cannot leave it" in page


def test_an_owner_with_a_co_owner_may_leave(accounts: Accounts) -> None:
    Membership.objects.filter(user=accounts.member).update(role=Membership.Role.OWNER)
    page = client_for(accounts.owner).get(f"/orgs/{accounts.org.pk}/members/").content.decode()
    assert f"/members/{own_membership(accounts).pk}/remove/" in page
    assert "cannot leave" not in page


def test_a_member_may_leave(accounts: Accounts) -> None:
    mine = Membership.objects.get(user=accounts.member)
    page = client_for(accounts.member).get(f"/orgs/{accounts.org.pk}/members/").content.decode()
    assert f"/members/{mine.pk}/remove/" in page


def test_the_leave_page_explains_and_offers_no_button_to_the_sole_owner(accounts: Accounts) -> None:
    url = f"/orgs/{accounts.org.pk}/members/{own_membership(accounts).pk}/remove/"
    response = client_for(accounts.owner).get(url)
    assert response.status_code == 200
    page = response.content.decode()
    assert "You are the only owner of this organisation" in page
    assert 'type="submit" class="btn btn-danger"' not in page


def test_the_service_refuses_the_sole_owner_leaving(accounts: Accounts) -> None:
    with pytest.raises(services.AccountsError, match="last one"):
        services.remove_member(membership=own_membership(accounts))
    assert Membership.objects.filter(organization=accounts.org, user=accounts.owner).exists()


def test_a_posted_leave_by_the_sole_owner_is_refused(accounts: Accounts) -> None:
    url = f"/orgs/{accounts.org.pk}/members/{own_membership(accounts).pk}/remove/"
    response = client_for(accounts.owner).post(url)
    assert response.status_code == 400
    assert Membership.objects.filter(organization=accounts.org, user=accounts.owner).exists()

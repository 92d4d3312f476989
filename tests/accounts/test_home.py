from __future__ import annotations

from accounts.models import Membership
from tests.accounts.helpers import client_for
from tests.conftest import Accounts


def test_anonymous_visitors_go_to_login(db: None) -> None:
    assert client_for().get("/")["Location"] == "/login/"


def test_users_go_to_their_organisation(accounts: Accounts) -> None:
    assert client_for(accounts.owner).get("/")["Location"] == f"/orgs/{accounts.org.pk}/"


def test_users_go_back_to_the_organisation_they_looked_at_last(accounts: Accounts) -> None:
    Membership.objects.create(organization=accounts.other_org, user=accounts.owner)
    client = client_for(accounts.owner)
    client.get(f"/orgs/{accounts.other_org.pk}/")
    assert client.get("/")["Location"] == f"/orgs/{accounts.other_org.pk}/"
    client.get(f"/orgs/{accounts.org.pk}/")
    assert client.get("/")["Location"] == f"/orgs/{accounts.org.pk}/"


def test_users_without_an_organisation_are_offered_to_create_one(accounts: Accounts) -> None:
    Membership.objects.filter(user=accounts.member).delete()
    assert client_for(accounts.member).get("/")["Location"] == "/orgs/new/"


def test_unknown_pages_are_a_styled_404(db: None) -> None:
    response = client_for().get("/no-such-page/")
    assert response.status_code == 404
    assert b"Page not found" in response.content

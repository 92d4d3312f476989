"""Management API: /api/orgs/, the caller's organisations."""

from __future__ import annotations

from tests.accounts.factories import make_management_key
from tests.api.helpers import assert_unauthenticated, key_client, session_client
from tests.conftest import Accounts

URL = "/api/orgs/"


def test_a_user_sees_every_organisation_they_belong_to_with_their_role(accounts: Accounts) -> None:
    mine = session_client(accounts.owner).get(URL).json()
    assert [(org["id"], org["role"]) for org in mine] == [(accounts.org.pk, "owner")]
    member = session_client(accounts.member).get(URL).json()
    assert [(org["id"], org["role"]) for org in member] == [(accounts.org.pk, "member")]


def test_an_outsider_never_sees_another_organisation(accounts: Accounts) -> None:
    theirs = session_client(accounts.outsider).get(URL).json()
    assert [org["id"] for org in theirs] == [accounts.other_org.pk]


def test_a_management_key_sees_its_own_organisation_only(accounts: Accounts) -> None:
    _, personal = make_management_key(accounts.org, accounts.owner)
    assert [org["id"] for org in key_client(personal).get(URL).json()] == [accounts.org.pk]
    _, operator = make_management_key(accounts.other_org, None, name="operator")
    assert key_client(operator).get(URL).json() == [
        {"id": accounts.other_org.pk, "name": accounts.other_org.name, "role": "operator"}
    ]


def test_without_credentials_it_is_a_401() -> None:
    assert_unauthenticated(URL)

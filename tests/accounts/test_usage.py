"""The usage page: /orgs/<id>/usage/."""

from __future__ import annotations

import pytest

from accounts.services import create_api_key
from tests.accounts.factories import day, make_attempt
from tests.accounts.helpers import assert_login_required, assert_not_found_for, client_for
from tests.conftest import Accounts


def url(accounts: Accounts) -> str:
    return f"/orgs/{accounts.org.pk}/usage/"


def test_owner_sees_usage_by_day_model_and_key(accounts: Accounts) -> None:
    key = create_api_key(organization=accounts.org, name="ci-key").api_key
    make_attempt(accounts.org, started_at=day("2026-03-02"), key=key, model="chat", prompt_tokens=123, cost_usd="1.5")
    response = client_for(accounts.owner).get(url(accounts), {"from": "2026-03-01", "to": "2026-03-31"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "2026-03-02" in page and "chat" in page and "ci-key" in page and "123" in page and "$1.50" in page
    assert f"/api/orgs/{accounts.org.pk}/usage/?from=2026-03-01&amp;to=2026-03-31&amp;format=csv" in page


def test_defaults_to_the_last_30_days(accounts: Accounts) -> None:
    response = client_for(accounts.owner).get(url(accounts))
    assert response.status_code == 200
    period = response.context["period"]
    assert period.days == 30
    assert b"No requests in this period" in response.content


def test_a_member_sees_usage(accounts: Accounts) -> None:
    assert client_for(accounts.member).get(url(accounts)).status_code == 200


def test_filter_by_key(accounts: Accounts) -> None:
    ci = create_api_key(organization=accounts.org, name="ci").api_key
    other = create_api_key(organization=accounts.org, name="other").api_key
    make_attempt(accounts.org, started_at=day("2026-03-02"), key=ci)
    make_attempt(accounts.org, started_at=day("2026-03-02"), key=other)
    response = client_for(accounts.owner).get(url(accounts), {"from": "2026-03-01", "to": "2026-03-31", "key": ci.pk})
    assert response.status_code == 200
    assert response.context["totals"]["requests"] == 1


def test_a_key_of_another_org_is_a_field_error(accounts: Accounts) -> None:
    foreign = create_api_key(organization=accounts.other_org, name="theirs").api_key
    response = client_for(accounts.owner).get(url(accounts), {"key": foreign.pk})
    assert response.status_code == 400
    assert "key" in response.context["form"].errors
    assert b"theirs" not in response.content


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2026-03-02", "to": "2026-03-01"}, "to"),
        ({"from": "2024-01-01", "to": "2026-01-01"}, "from"),
        ({"from": "yesterday", "to": "2026-01-01"}, "from"),
        ({"from": "2026-01-01", "to": "2026-02-30"}, "to"),
        ({"from": "0001-01-01", "to": "0001-01-02"}, "from"),
        ({"from": "2026-01-01", "to": "9999-12-31"}, "to"),
        ({"key": "-1"}, "key"),
        ({"key": "abc"}, "key"),
        ({"key": "99999999999999999999999"}, "key"),
        ({"from": "x" * 10_000}, "from"),
    ],
)
def test_bad_input_is_a_field_error(accounts: Accounts, params: dict[str, str], field: str) -> None:
    response = client_for(accounts.owner).get(url(accounts), params)
    assert response.status_code == 400
    assert field in response.context["form"].errors


def test_requires_login(accounts: Accounts) -> None:
    assert_login_required(url(accounts))


def test_outsider_gets_404_and_no_data(accounts: Accounts) -> None:
    make_attempt(accounts.org, started_at=day("2026-03-02"), model="our-secret-model")
    response = assert_not_found_for(accounts.outsider, url(accounts), data={"from": "2026-03-01", "to": "2026-03-31"})
    assert b"our-secret-model" not in response.content

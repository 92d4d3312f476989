"""Management API: /api/orgs/<id>/usage/ in JSON and CSV."""

from __future__ import annotations

import csv
import io

import pytest

from accounts.services import create_api_key
from tests.accounts.factories import day, make_attempt, make_management_key
from tests.api.helpers import assert_api_not_found_for, assert_unauthenticated, key_client, session_client
from tests.conftest import Accounts

RANGE = {"from": "2026-03-01", "to": "2026-03-31"}


def url(accounts: Accounts) -> str:
    return f"/api/orgs/{accounts.org.pk}/usage/"


def _traffic(accounts: Accounts) -> None:
    ci = create_api_key(organization=accounts.org, name="ci").api_key
    formula = create_api_key(organization=accounts.org, name="=HYPERLINK(1)").api_key
    make_attempt(accounts.org, started_at=day("2026-03-02"), key=ci, model="chat", cost_usd="0.5")
    make_attempt(accounts.org, started_at=day("2026-03-02"), key=ci, model="chat", outcome="timeout", final=False)
    make_attempt(accounts.org, started_at=day("2026-03-03"), key=formula, model="fast", cost_usd="0.25")


def test_json_by_day_model_and_key(accounts: Accounts) -> None:
    _traffic(accounts)
    response = session_client(accounts.owner).get(url(accounts), RANGE)
    assert response.status_code == 200
    body = response.json()
    assert (body["start"], body["end"], body["group_by"]) == ("2026-03-01", "2026-03-31", ["day", "model", "key"])
    assert [(r["day"], r["model"], r["key_name"], r["requests"], r["cost_usd"]) for r in body["rows"]] == [
        ("2026-03-02", "chat", "ci", 1, "0.500000"),
        ("2026-03-03", "fast", "=HYPERLINK(1)", 1, "0.250000"),
    ]
    assert body["totals"] == {
        "requests": 2,
        "prompt_tokens": 20,
        "completion_tokens": 10,
        "cached_tokens": 0,
        "cost_usd": "0.750000",
    }


def test_group_by_and_key_filter(accounts: Accounts) -> None:
    _traffic(accounts)
    client = session_client(accounts.owner)
    body = client.get(url(accounts), {**RANGE, "group_by": "model"}).json()
    assert [(r["model"], r["requests"]) for r in body["rows"]] == [("chat", 1), ("fast", 1)]
    assert "day" not in body["rows"][0]
    ci = accounts.org.api_keys.get(name="ci")
    body = client.get(url(accounts), {**RANGE, "key": ci.pk}).json()
    assert body["totals"]["requests"] == 1


@pytest.mark.parametrize("how", ["query", "accept"])
def test_csv(accounts: Accounts, how: str) -> None:
    _traffic(accounts)
    client = session_client(accounts.owner)
    if how == "query":
        response = client.get(url(accounts), {**RANGE, "format": "csv"})
    else:
        response = client.get(url(accounts), RANGE, HTTP_ACCEPT="text/csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["day", "model", "key_id", "key_name", "requests", "prompt_tokens", "completion_tokens",
                       "cached_tokens", "cost_usd"]  # fmt: skip
    assert rows[1][:2] == ["2026-03-02", "chat"] and rows[1][3] == "ci" and rows[1][-1] == "0.500000"
    assert rows[2][3] == "'=HYPERLINK(1)"  # no formula for spreadsheets


def test_defaults_to_the_last_30_days(accounts: Accounts) -> None:
    body = session_client(accounts.owner).get(url(accounts)).json()
    from datetime import date

    assert (date.fromisoformat(body["end"]) - date.fromisoformat(body["start"])).days == 29


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2026-03-02", "to": "2026-03-01"}, "to"),
        ({"from": "2024-01-01", "to": "2026-01-01"}, "from"),
        ({"from": "2024-01-01"}, "from"),
        ({"from": "March", "to": "2026-03-01"}, "from"),
        ({"to": "2026-02-30"}, "to"),
        ({"from": "0001-01-01", "to": "0001-01-01"}, "from"),
        ({"to": "9999-12-31"}, "to"),
        ({"group_by": "month"}, "group_by"),
        ({"group_by": ","}, "group_by"),
        ({"key": "-1"}, "key"),
        ({"key": "1.5"}, "key"),
        ({"key": str(10**30)}, "key"),
    ],
)
def test_bad_range_or_parameter_is_400_with_a_message(accounts: Accounts, params: dict[str, str], field: str) -> None:
    response = session_client(accounts.owner).get(url(accounts), params)
    assert response.status_code == 400
    assert response.json()[field][0]


def test_a_bad_range_in_csv_is_400_with_a_message(accounts: Accounts) -> None:
    response = session_client(accounts.owner).get(url(accounts), {"from": "2026-03-02", "to": "2026-03-01",
                                                                   "format": "csv"})  # fmt: skip
    assert response.status_code == 400
    assert b"to,The end date must be on or after the start date." in response.content


def test_an_unknown_format_is_a_4xx(accounts: Accounts) -> None:
    assert session_client(accounts.owner).get(url(accounts), {"format": "xml"}).status_code == 404


def test_a_key_of_another_org_is_400(accounts: Accounts) -> None:
    foreign = create_api_key(organization=accounts.other_org, name="theirs").api_key
    response = session_client(accounts.owner).get(url(accounts), {"key": foreign.pk})
    assert response.status_code == 400
    assert b"theirs" not in response.content


def test_a_management_key_reads_usage(accounts: Accounts) -> None:
    _traffic(accounts)
    _, plaintext = make_management_key(accounts.org, accounts.member)
    assert key_client(plaintext).get(url(accounts), RANGE).json()["totals"]["requests"] == 2


def test_requires_authentication(accounts: Accounts) -> None:
    assert_unauthenticated(url(accounts))


def test_outsider_gets_404_and_no_data(accounts: Accounts) -> None:
    make_attempt(accounts.org, started_at=day("2026-03-02"), model="our-secret-model")
    response = assert_api_not_found_for(accounts.outsider, url(accounts), data=RANGE)
    assert b"our-secret-model" not in response.content
    response = assert_api_not_found_for(accounts.outsider, url(accounts), data={**RANGE, "format": "csv"})
    assert b"our-secret-model" not in response.content

"""Usage from the attempt log: one request is billed once, for the attempt that answered."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from monitoring import usage
from accounts.services import create_api_key
from tests.accounts.factories import day, make_attempt
from tests.conftest import Accounts

PERIOD = usage.DateRange(date(2026, 3, 1), date(2026, 3, 31))


def rows(accounts: Accounts, group_by: list[str], **kwargs: object) -> list[dict[str, object]]:
    return usage.usage_rows(organization_id=accounts.org.pk, period=PERIOD, group_by=group_by, **kwargs)  # type: ignore[arg-type]


def test_a_rescued_request_counts_once_for_the_attempt_that_answered(accounts: Accounts) -> None:
    # Attempt 1 failed (not final), attempt 2 on another deployment answered.
    make_attempt(accounts.org, started_at=day("2026-03-02"), request_id="r1", outcome="server_error", final=False,
                 prompt_tokens=None, completion_tokens=None, cost_usd=None)  # fmt: skip
    make_attempt(accounts.org, started_at=day("2026-03-02"), request_id="r1", attempt=2, rescued=True,
                 deployment="backup/chat", prompt_tokens=100, completion_tokens=20, cost_usd="0.25")  # fmt: skip
    totals = usage.usage_totals(organization_id=accounts.org.pk, period=PERIOD)
    assert totals["requests"] == 1
    assert (totals["prompt_tokens"], totals["completion_tokens"]) == (100, 20)
    assert totals["cost_usd"] == Decimal("0.250000")


def test_failed_and_cancelled_requests_are_not_billed(accounts: Accounts) -> None:
    make_attempt(accounts.org, started_at=day("2026-03-02"), outcome="server_error", final=False)
    make_attempt(accounts.org, started_at=day("2026-03-02"), outcome="cancelled", final=False)
    # A final attempt whose outcome delivered nothing (defensive: the proxy does not write these today).
    make_attempt(accounts.org, started_at=day("2026-03-02"), outcome="timeout", final=True)
    assert usage.usage_totals(organization_id=accounts.org.pk, period=PERIOD)["requests"] == 0


def test_partial_answers_are_billed(accounts: Accounts) -> None:
    make_attempt(accounts.org, started_at=day("2026-03-02"), outcome="stream_cut_after_content")
    make_attempt(accounts.org, started_at=day("2026-03-02"), outcome="client_disconnected")
    assert usage.usage_totals(organization_id=accounts.org.pk, period=PERIOD)["requests"] == 2


def test_grouped_by_day_model_and_key(accounts: Accounts) -> None:
    ci = create_api_key(organization=accounts.org, name="ci").api_key
    web = create_api_key(organization=accounts.org, name="=web").api_key
    make_attempt(accounts.org, started_at=day("2026-03-01", 0), key=ci, model="chat")
    make_attempt(accounts.org, started_at=day("2026-03-01", 23), key=ci, model="chat")
    make_attempt(accounts.org, started_at=day("2026-03-05"), key=web, model="fast", cost_usd=None)
    make_attempt(accounts.org, started_at=day("2026-04-01", 0), key=ci)  # the day after the period
    make_attempt(accounts.org, started_at=day("2026-02-28", 23), key=ci)  # the day before
    make_attempt(accounts.other_org, started_at=day("2026-03-01"))  # another organisation

    by_day = rows(accounts, ["day"])
    assert [(r["day"], r["requests"]) for r in by_day] == [(date(2026, 3, 1), 2), (date(2026, 3, 5), 1)]
    by_model = rows(accounts, ["model"])
    assert [(r["model"], r["requests"], r["cost_usd"]) for r in by_model] == [
        ("chat", 2, Decimal("0.002000")),
        ("fast", 1, Decimal("0.000000")),
    ]
    by_key = rows(accounts, ["key"])
    assert [(r["key_name"], r["requests"], r["prompt_tokens"]) for r in by_key] == [("ci", 2, 20), ("=web", 1, 10)]
    full = rows(accounts, ["day", "model", "key"])
    assert len(full) == 2 and {"day", "model", "key_id", "key_name"} <= set(full[0])
    assert [r["requests"] for r in rows(accounts, ["day"], key_id=web.pk)] == [1]


def test_key_names_never_come_from_another_organisation(accounts: Accounts) -> None:
    foreign = create_api_key(organization=accounts.other_org, name="secret project").api_key
    # A log row claiming our org with their key id (cannot happen; still, names stay scoped).
    make_attempt(accounts.org, started_at=day("2026-03-03"), key=foreign)
    assert [r["key_name"] for r in rows(accounts, ["key"])] == [None]


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [
        (date(2026, 3, 2), date(2026, 3, 1), "to"),
        (date(2025, 1, 1), date(2026, 1, 2), "from"),
        (date(1999, 12, 31), date(2000, 1, 1), "from"),
        (date(2026, 1, 1), date(9999, 12, 31), "to"),
    ],
)
def test_range_problems(start: date, end: date, field: str) -> None:
    assert field in usage.range_problems(start=start, end=end)


def test_a_leap_year_fits_in_366_days() -> None:
    assert usage.range_problems(start=date(2024, 1, 1), end=date(2024, 12, 31)) == {}

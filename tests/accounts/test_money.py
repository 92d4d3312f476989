"""Costs are shown with enough significant digits: never $0.0000 for a request that cost $0.000049."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from accounts.services import create_api_key
from accounts.templatetags.money import format_usd
from tests.accounts.factories import make_attempt
from tests.accounts.helpers import client_for
from tests.conftest import Accounts

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("0.000049", "$0.000049"),
        ("0.0000491234", "$0.0000491"),
        ("0.000000000001", "$0.000000000001"),
        ("0", "$0.00"),
        ("0.5", "$0.50"),
        ("0.123456", "$0.123"),
        ("0.0999", "$0.0999"),
        ("1", "$1.00"),
        ("1234.567", "$1,234.57"),
        ("-0.002", "-$0.002"),
        (None, ""),
        ("not a number", ""),
    ],
)
def test_usd_shows_three_significant_digits_below_a_dollar_and_cents_above(value: object, shown: str) -> None:
    assert format_usd(value) == shown


def test_usage_shows_a_tiny_cost_as_the_api_reports_it(accounts: Accounts) -> None:
    key = create_api_key(organization=accounts.org, name="cheap").api_key
    make_attempt(accounts.org, started_at=datetime(2026, 3, 2, tzinfo=UTC), key=key, cost_usd="0.000049")
    page = (
        client_for(accounts.owner)
        .get(f"/orgs/{accounts.org.pk}/usage/", {"from": "2026-03-01", "to": "2026-03-31"})
        .content.decode()
    )
    assert "$0.000049" in page
    assert "0.0000<" not in page and "$0.0000<" not in page


COST_VARIABLE = re.compile(r"{{\s*([\w.]*(?:cost|spend|budget)[\w.]*)\s*(\|[^}]*)?}}")


def test_every_template_shows_costs_through_the_usd_filter() -> None:
    offending = []
    templates = [*(ROOT / "templates").rglob("*.html"), *ROOT.glob("*/templates/**/*.html")]
    for path in sorted(p for p in templates if ".venv" not in p.parts):
        for match in COST_VARIABLE.finditer(path.read_text()):
            filters = match.group(2) or ""
            # An SLA's error budget is minutes and percentages, not money.
            if "usd" not in filters and "budget_percent" not in match.group(1) and "error_budget" not in match.group(1):
                offending.append(f"{path.relative_to(ROOT)}: {match.group(0)}")
    assert offending == []

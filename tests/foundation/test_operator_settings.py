"""The operator's sign-up, new-organisation and proxy settings: a bad value stops start-up, naming it."""

from __future__ import annotations

import pytest

from tests.foundation.test_settings_validation import _manage


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("SIGNUP", "sometimes", "SIGNUP='sometimes' is not one of: open, invite, closed"),
        ("NEW_ORG_RPM", "-1", "NEW_ORG_RPM=-1 must be at least 0"),
        ("NEW_ORG_MONTHLY_BUDGET_USD", "ten", "NEW_ORG_MONTHLY_BUDGET_USD='ten' is not a number"),
        ("NEW_ORG_MONTHLY_BUDGET_USD", "NaN", "NEW_ORG_MONTHLY_BUDGET_USD=NaN must be a number"),
        ("TRUSTED_PROXIES", "10.0.0.0/8, proxy.local", "TRUSTED_PROXIES: 'proxy.local' is not an IP address"),
        ("MONITORING_DEGRADED_WEIGHT", "1.5", "MONITORING_DEGRADED_WEIGHT=1.5 must be at most 1.0"),
        ("MONITORING_ROLLUP_DAYS", "90", "MONITORING_ROLLUP_DAYS=90 must be at least 400"),
    ],
)
def test_a_bad_value_stops_startup_with_one_line(variable: str, value: str, expected: str) -> None:
    result = _manage("check", **{variable: value})
    assert result.returncode == 2, result.stderr
    assert expected in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_good_values_pass() -> None:
    env = {"SIGNUP": "Invite", "NEW_ORG_RPM": "60", "NEW_ORG_MONTHLY_BUDGET_USD": "5.50", "TRUSTED_PROXIES": "10.0.0.1"}
    result = _manage("check", **env)
    assert result.returncode == 0, result.stderr

"""A component's current status from its deployments' states and open incidents (docs/uptime.md, Status page)."""

from __future__ import annotations

import pytest

from statuspage import status


@pytest.mark.parametrize(
    ("state", "expected"),
    [("up", "operational"), ("degraded", "degraded_performance"), ("down", "major_outage"),
     ("unknown", "no_data"), (None, "no_data")],
)  # fmt: skip
def test_a_deployment_shows_its_own_state_and_never_evaluated_is_no_data(state: str | None, expected: str) -> None:
    assert status.deployment_status(state) == expected


@pytest.mark.parametrize(
    ("states", "expected"),
    [
        (["up", "up"], "operational"),
        (["up", "unknown"], "operational"),
        (["up", "down"], "degraded_performance"),  # failover still answers
        (["up", "degraded"], "degraded_performance"),
        (["down", "down"], "major_outage"),  # nothing left to fail over to
        (["down", "unknown"], "major_outage"),
        (["unknown", None], "no_data"),
        ([], "no_data"),
    ],
)
def test_a_model_is_out_only_when_none_of_its_deployments_can_answer(states: list[str | None], expected: str) -> None:
    assert status.model_status(states) == expected


def test_an_open_organisation_incident_makes_effective_uptime_degraded_at_least() -> None:
    assert status.effective_status(["operational"], open_org_incident=True) == "degraded_performance"
    assert status.effective_status(["no_data"], open_org_incident=True) == "degraded_performance"
    assert status.effective_status(["major_outage"], open_org_incident=True) == "major_outage"
    assert status.effective_status(["operational", "major_outage"], open_org_incident=False) == "major_outage"
    assert status.effective_status([], open_org_incident=False) == "no_data"


def test_the_page_shows_its_worst_component_and_no_data_is_never_all_operational() -> None:
    assert status.overall(["operational", "operational"]).description == "All systems operational"
    assert status.overall(["operational", "no_data"]).description == "Some components have no current data"
    assert status.overall(["no_data"]).description == "No current data"
    assert status.overall(["operational", "degraded_performance", "no_data"]).indicator == "minor"
    assert status.overall(["major_outage", "degraded_performance"]).indicator == "major"
    assert status.overall([]).indicator == "unknown"

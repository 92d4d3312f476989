"""What a component's current status is, from its deployments' states and open incidents (docs/uptime.md,
"Status page"). Pure functions: the caller reads the states."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from monitoring.models import DeploymentState

OPERATIONAL = "operational"
NO_DATA = "no_data"
DEGRADED = "degraded_performance"
MAJOR = "major_outage"
# Worse last: the page's overall status is its worst component's.
_RANK = {OPERATIONAL: 0, NO_DATA: 1, DEGRADED: 2, MAJOR: 3}
LABELS = {OPERATIONAL: "Operational", NO_DATA: "No data", DEGRADED: "Degraded performance", MAJOR: "Major outage"}


@dataclass(frozen=True)
class Overall:
    status: str
    indicator: str  # Statuspage's vocabulary: none, minor, major (and unknown: no current data)
    description: str


def worst(statuses: Iterable[str]) -> str:
    return max(statuses, key=_RANK.__getitem__, default=NO_DATA)


def deployment_status(state: str | None) -> str:
    """A deployment shown on its own: its state now; never evaluated or unknown is "no data"."""
    return {DeploymentState.UP: OPERATIONAL, DeploymentState.DEGRADED: DEGRADED, DeploymentState.DOWN: MAJOR}.get(
        DeploymentState(state) if state else DeploymentState.UNKNOWN, NO_DATA
    )


def model_status(states: Sequence[str | None]) -> str:
    """A model served by these deployments (failover between them): a major outage only when none can
    answer; degraded while one is down or degraded and another still answers."""
    known = [s for s in states if s and s != DeploymentState.UNKNOWN]
    if not known:
        return NO_DATA
    if all(s == DeploymentState.DOWN for s in known):
        return MAJOR
    if any(s in (DeploymentState.DOWN, DeploymentState.DEGRADED) for s in known):
        return DEGRADED
    return OPERATIONAL


def effective_status(model_statuses: Iterable[str], *, open_org_incident: bool) -> str:
    """All the models of an effective-uptime component (one, or every model used): the worst of them; an
    open organisation incident (its error rate over the threshold now) makes it degraded at least."""
    status = worst(model_statuses)
    if open_org_incident and _RANK[status] < _RANK[DEGRADED]:
        return DEGRADED
    return status


def overall(statuses: Sequence[str]) -> Overall:
    if not statuses:
        return Overall(NO_DATA, "unknown", "No components shown yet")
    status = worst(statuses)
    if status == MAJOR:
        return Overall(status, "major", "Major outage")
    if status == DEGRADED:
        return Overall(status, "minor", "Degraded performance")
    if status == NO_DATA:
        every = all(s == NO_DATA for s in statuses)
        return Overall(status, "unknown", "No current data" if every else "Some components have no current data")
    return Overall(status, "none", "All systems operational")

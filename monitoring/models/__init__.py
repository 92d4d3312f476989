"""Monitoring's tables: raw traffic, deployment states and maintenance windows (and, as they land,
rollups and incidents). One module per concept; this package only gathers them for Django."""

from monitoring.models.health import DeploymentState, DeploymentStateChange
from monitoring.models.maintenance import MaintenanceWindow
from monitoring.models.rollups import (
    DeploymentDay,
    DeploymentHour,
    DeploymentMinute,
    RequestDay,
    RequestHour,
    RequestMinute,
    RollupBacklog,
    UptimeWindow,
)
from monitoring.models.probes import DeploymentStatus, Probe
from monitoring.models.traffic import Attempt, Request

__all__ = [
    "Attempt",
    "DeploymentDay",
    "DeploymentHour",
    "DeploymentMinute",
    "DeploymentState",
    "DeploymentStateChange",
    "DeploymentStatus",
    "MaintenanceWindow",
    "Probe",
    "Request",
    "RequestDay",
    "RequestHour",
    "RequestMinute",
    "RollupBacklog",
    "UptimeWindow",
]

"""Monitoring's tables: raw traffic, deployment states and maintenance windows (and, as they land,
rollups and incidents). One module per concept; this package only gathers them for Django."""

from monitoring.models.alerting import AlertChannel, AlertDelivery, BurnRateAlert, MonitoringSettings
from monitoring.models.health import DeploymentState, DeploymentStateChange
from monitoring.models.incidents import (
    Incident,
    IncidentImpact,
    IncidentScope,
    IncidentStatus,
    IncidentUpdate,
    StateChangeCursor,
)
from monitoring.models.maintenance import MaintenanceWindow
from monitoring.models.maintenance_audit import MaintenanceChange
from monitoring.models.rollups import (
    DeploymentDay,
    DeploymentHour,
    DeploymentMinute,
    RequestDay,
    RequestHour,
    RequestMinute,
    RollupBacklog,
    UptimeDay,
    UptimeHour,
    UptimeWindow,
)
from monitoring.models.probes import DeploymentStatus, Probe
from monitoring.models.traffic import Attempt, Request

__all__ = [
    "AlertChannel",
    "AlertDelivery",
    "Attempt",
    "BurnRateAlert",
    "DeploymentDay",
    "DeploymentHour",
    "DeploymentMinute",
    "DeploymentState",
    "DeploymentStateChange",
    "DeploymentStatus",
    "Incident",
    "IncidentImpact",
    "IncidentScope",
    "IncidentStatus",
    "IncidentUpdate",
    "MaintenanceChange",
    "MaintenanceWindow",
    "MonitoringSettings",
    "Probe",
    "Request",
    "RequestDay",
    "RequestHour",
    "RequestMinute",
    "RollupBacklog",
    "StateChangeCursor",
    "UptimeDay",
    "UptimeHour",
    "UptimeWindow",
    "__all__ = [",
    "from monitoring.models.maintenance_audit import MaintenanceChange",
    "from monitoring.models.traffic import Attempt, Request",
]

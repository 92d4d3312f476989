from celery import shared_task
from django.conf import settings
from django.utils import timezone

from monitoring import alerts, probes, rollups, services
from providers.configured import gateway_config


@shared_task
def ingest_spooled_events() -> int:
    return services.ingest_spooled_events(spool_dir=settings.GATEWAY_SPOOL_DIR)


@shared_task
def send_budget_alerts() -> int:
    return alerts.send_budget_alerts()


# Rollups and uptime windows (monitoring.rollups).


@shared_task
def roll_up_traffic() -> int:
    return rollups.roll_up(now=timezone.now())


@shared_task
def prune_rollups() -> int:
    return rollups.prune_rollups(now=timezone.now())


# Health probes and deployment states (monitoring/probes.py, monitoring/states.py)


@shared_task
def probe_deployments() -> int:
    """Probe the deployments that are due, then re-evaluate every state; returns the state changes."""
    config = gateway_config()
    if config is None:
        return 0
    probes.run_probes(config=config, now=timezone.now())
    return probes.evaluate_states(config=config, now=timezone.now())

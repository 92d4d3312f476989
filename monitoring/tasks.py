from celery import Task, shared_task
from django.conf import settings
from django.utils import timezone

from monitoring import alerts, burn_rate, incidents, notify, partitions, probes, rollups, services
from providers.configured import gateway_config


@shared_task
def ingest_spooled_events() -> int:
    return services.ingest_spooled_events(spool_dir=settings.GATEWAY_SPOOL_DIR)


@shared_task
def maintain_partitions() -> None:
    partitions.maintain_partitions(now=timezone.now(), retention_days=settings.RAW_RETENTION_DAYS)


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


@shared_task
def prune_probes() -> int:
    return probes.prune_probes(now=timezone.now())


# Incidents and alerts


@shared_task
def evaluate_incidents() -> int:
    """Open and resolve incidents and burn-rate alerts, then hand the alerts due to workers."""
    now = timezone.now()
    incidents.process_state_changes()
    incidents.evaluate_organizations(now=now)
    incidents.refresh_open_impacts(now=now)
    burn_rate.evaluate_burn_rates(now=now)
    due = notify.due_deliveries(now=now)
    for delivery_id in due:
        deliver_alert.delay(delivery_id)
    return len(due)


@shared_task(bind=True, max_retries=notify.MAX_ATTEMPTS)
def deliver_alert(self: Task, delivery_id: int) -> None:
    retry_in = notify.deliver(delivery_id=delivery_id, now=timezone.now())
    if retry_in is not None:
        raise self.retry(countdown=retry_in)

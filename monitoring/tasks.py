from celery import shared_task
from django.conf import settings
from django.utils import timezone

from monitoring import alerts, rollups, services


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

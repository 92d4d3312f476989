from celery import shared_task
from django.conf import settings
from django.utils import timezone

from monitoring import alerts, partitions, services


@shared_task
def ingest_spooled_events() -> int:
    return services.ingest_spooled_events(spool_dir=settings.GATEWAY_SPOOL_DIR)


@shared_task
def maintain_partitions() -> None:
    partitions.maintain_partitions(now=timezone.now(), retention_days=settings.RAW_RETENTION_DAYS)


@shared_task
def send_budget_alerts() -> int:
    return alerts.send_budget_alerts()

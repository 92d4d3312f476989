from celery import shared_task
from django.conf import settings

from monitoring import alerts, services


@shared_task
def ingest_spooled_events() -> int:
    return services.ingest_spooled_events(spool_dir=settings.GATEWAY_SPOOL_DIR)


@shared_task
def send_budget_alerts() -> int:
    return alerts.send_budget_alerts()

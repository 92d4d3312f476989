from celery import shared_task
from django.conf import settings

from gateway import services


@shared_task
def ingest_spooled_attempts() -> int:
    return services.ingest_spooled_attempts(spool_dir=settings.GATEWAY_SPOOL_DIR)

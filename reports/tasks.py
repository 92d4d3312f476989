from celery import shared_task
from django.utils import timezone

from reports import services


@shared_task
def send_monthly_reports() -> int:
    return services.send_monthly_reports(now=timezone.now())

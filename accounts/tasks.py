from celery import shared_task

from accounts import services


@shared_task
def send_budget_alerts() -> int:
    return services.send_budget_alerts()

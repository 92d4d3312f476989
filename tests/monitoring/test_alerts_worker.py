"""A real Celery worker, fed by the real broker, opens an incident from a state change and posts its webhook."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import timedelta

from django.utils import timezone

from monitoring import notify
from monitoring.models import AlertDelivery, Incident
from monitoring.tasks import deliver_alert, evaluate_incidents
from tests.conftest import Accounts
from tests.monitoring.incident_helpers import routed, state_change
from tests.monitoring.webhook_server import webhook_server
from tests.live import database_url
from tests.worker.test_celery_worker import ROOT


def test_a_worker_opens_the_incident_and_delivers_its_alert_once(
    transactional_db: None, accounts: Accounts, tmp_path: object
) -> None:
    now = timezone.now()
    routed(accounts.org, now - timedelta(hours=1), through="sim-w/chat")
    state_change("sim-w/chat", now - timedelta(seconds=30), "up", "down", "breaker open")
    with webhook_server() as hooks:
        notify.add_channel(organization=accounts.org, kind="slack", target=hooks.url + "/hook")
        # Its own queue: other tests' workers share the broker but read other databases.
        queue = f"alerts-test-{uuid.uuid4().hex}"
        env = {**os.environ, "DATABASE_URL": database_url(), "DATA_DIR": str(tmp_path)}
        worker = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--concurrency",
                "2",
                "-Q",
                queue,
                "--loglevel",
                "WARNING",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            evaluate_incidents.apply_async(queue=queue)
            evaluate_incidents.apply_async(queue=queue)  # a second run at once: still one incident, one post
            deadline = time.monotonic() + 30
            while not AlertDelivery.objects.filter(status="sent").exists():
                assert worker.poll() is None, "the worker exited"
                assert time.monotonic() < deadline, "the alert was never delivered"
                time.sleep(0.5)
                # What evaluate_incidents queues goes to the default queue, which this worker does not read.
                for delivery_id in notify.due_deliveries(now=timezone.now()):
                    deliver_alert.apply_async((delivery_id,), queue=queue)
                    deliver_alert.apply_async((delivery_id,), queue=queue)  # twice: claimed once
            time.sleep(1)
        finally:
            os.killpg(worker.pid, signal.SIGTERM)
            worker.wait(timeout=30)
    assert Incident.objects.get().deployment == "sim-w/chat"
    assert [path for path, _ in hooks.posts] == ["/hook"]
    assert hooks.posts[0][1]["text"].endswith("sim-w/chat down")

"""Last month's SLA report, sent by real Celery workers through the real Redis broker: two workers run the
job at once and the owner gets exactly one email, with the PDF (the claim is a conditional update)."""

from __future__ import annotations

import email
import email.policy
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from accounts.models import User
from accounts.services import create_organization
from monitoring import rollups
from reports.models import MonthlyReport
from reports.tasks import send_monthly_reports
from tests.live import database_url
from tests.monitoring.traffic import request, save

ROOT = Path(__file__).resolve().parents[2]


def _last_month() -> tuple[datetime, datetime]:
    first_of_this = datetime.now(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return (first_of_this - timedelta(days=1)).replace(day=1), first_of_this


def _worker(name: str, mail_dir: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(mail_dir),
    }
    command = [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "solo", "-n", f"{name}@%h"]
    return subprocess.Popen(
        [*command, "--loglevel", "WARNING"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def test_two_workers_send_last_months_report_once(tmp_path: Path, transactional_db: None) -> None:
    owner = User.objects.create_user("owner@example.org", "owner-password-123")
    org = create_organization(name="Acme", owner=owner)
    start, end = _last_month()
    save(*(request(start + timedelta(days=day, hours=12), org_id=org.pk) for day in range(10)))
    rollups.roll_span(start=start, end=end)
    workers = [_worker(name, tmp_path / "mail") for name in ("one", "two")]
    try:
        for _ in range(4):
            send_monthly_reports.delay()
        deadline = time.monotonic() + 60
        while not MonthlyReport.objects.filter(organization=org, status=MonthlyReport.Status.SENT).exists():
            assert all(w.poll() is None for w in workers), "a worker exited"
            assert time.monotonic() < deadline, list(MonthlyReport.objects.values("status", "error"))
            time.sleep(0.3)
        time.sleep(2)  # the other jobs have had time to (not) send it again
    finally:
        for worker in workers:
            os.killpg(worker.pid, signal.SIGTERM)
        for worker in workers:
            worker.wait(timeout=30)
    messages = [
        email.message_from_bytes(part.encode(), policy=email.policy.default)
        for path in (tmp_path / "mail").iterdir()
        for part in path.read_text().split("-" * 79)
        if part.strip()
    ]
    assert [m["To"] for m in messages] == ["owner@example.org"]
    assert messages[0]["Subject"].startswith("SLA report ") and messages[0]["Subject"].endswith(" · Acme")
    assert any(p.get_content_type() == "application/pdf" for p in messages[0].walk())

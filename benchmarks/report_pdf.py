"""SLA report generation time: a 90-day report with 30 deployments (issue #12: at most 5 s for the PDF).

.venv/bin/python -m benchmarks.report_pdf [--deployments 30] [--days 90] [--runs 3]

Seeds what the report reads, written directly as rows: hour and day rollups of 30 deployments and of one
organisation (three models), its 5-minute uptime windows, state changes (two short outages a week per
deployment) and incidents, for 90 days in Europe/Berlin. Then times, end to end as the API does them: the
figures, the PDF (weasyprint, SVG charts), the JSON and the CSV. Prints the median and the worst of
``--runs`` runs.

Without DATABASE_URL it starts a private Postgres in a temporary directory and migrates it.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import statistics
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import django

from benchmarks.services import Services
from pypdf import PdfReader

_SERVICES = Services("bench-report-", throwaway=True)
django.setup()

from django.core.management import call_command  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import Organization  # noqa: E402
from monitoring import sketch  # noqa: E402
from monitoring.rollups import roll_uptime_sums  # noqa: E402
from monitoring.models import DeploymentStateChange, Incident, IncidentScope, IncidentStatus  # noqa: E402
from monitoring.models.rollups import (  # noqa: E402
    DeploymentDay,
    DeploymentHour,
    RequestDay,
    RequestHour,
    UptimeWindow,
)
from reports import figures, outputs, periods  # noqa: E402

BATCH = 5000
MODELS = ("chat", "fast", "big")


def _hist(rng: random.Random, count: int, low: float, high: float) -> dict[str, int]:
    counts: dict[str, int] = {}
    for _ in range(min(count, 40)):
        key = str(sketch.bucket_of(rng.uniform(low, high)))
        counts[key] = counts.get(key, 0) + max(1, count // 40)
    return counts


def _counts(rng: random.Random, requests: int) -> dict[str, Any]:
    failures = rng.randint(0, max(1, requests // 100))
    return {
        "requests": requests,
        "successes": requests - failures,
        "failures_timeout": 0,
        "failures_server_error": failures,
        "failures_rate_limited": 0,
        "failures_connection": 0,
        "failures_misconfigured": 0,
        "failures_client_error": 0,
        "downtime_failures": failures,
        "failovers": failures,
        "rescued": failures // 2,
        "prompt_tokens": requests * 300,
        "completion_tokens": requests * 120,
        "cost_usd": Decimal("0.01") * requests,
        "latency_hist": _hist(rng, requests, 80, 3000),
        "ttft_hist": _hist(rng, requests // 2, 20, 800),
    }


def _bulk(model: Any, rows: list[Any]) -> None:
    for start in range(0, len(rows), BATCH):
        model.objects.bulk_create(rows[start : start + BATCH])


def seed(*, deployments: int, days: int, now: datetime) -> Organization:
    rng = random.Random(1)
    org = Organization.objects.create(name="Benchmark Corp", timezone="Europe/Berlin")
    first_hour = (now - timedelta(days=days + 2)).replace(minute=0, second=0, microsecond=0)
    hours = [first_hour + timedelta(hours=h) for h in range(int((now - first_hour) / timedelta(hours=1)))]
    names = [f"provider-{n % 6}/model-{n}" for n in range(deployments)]
    dep_hours = [
        DeploymentHour(deployment=name, provider=name.split("/")[0], bucket=hour, **_counts(rng, 120))
        for name in names
        for hour in hours
    ]
    req_hours = [
        RequestHour(org_id=org.pk, model=model, key_id=1, bucket=hour, local_requests=0, **_counts(rng, 1200))
        for model in MODELS
        for hour in hours
    ]
    _bulk(DeploymentHour, dep_hours)
    _bulk(RequestHour, req_hours)
    utc_days = sorted({hour.replace(hour=0) for hour in hours})
    _bulk(
        DeploymentDay,
        [
            DeploymentDay(deployment=n, provider=n.split("/")[0], bucket=d, **_counts(rng, 2880))
            for n in names
            for d in utc_days
        ],
    )
    _bulk(
        RequestDay,
        [
            RequestDay(org_id=org.pk, model=m, key_id=1, bucket=d, local_requests=0, **_counts(rng, 28800))
            for m in MODELS
            for d in utc_days
        ],
    )
    windows = []
    window = first_hour
    while window < now:
        failures = rng.choice((0, 0, 0, 0, 0, 0, 0, 0, 1, 3))
        for model in ("", *MODELS):
            windows.append(
                UptimeWindow(
                    org_id=org.pk,
                    model=model,
                    window_start=window,
                    requests=100,
                    downtime_failures=failures,
                    downtime_minutes=int(failures > 2),
                )
            )
        window += timedelta(minutes=5)
    _bulk(UptimeWindow, windows)
    roll_uptime_sums(start=first_hour, end=now)
    changes, incidents = [], []
    for name in names:
        changes.append(DeploymentStateChange(deployment=name, provider="p", at=first_hour, old="unknown", new="up"))
        for day in range(0, days, 3):
            down = first_hour + timedelta(days=day, hours=rng.randint(0, 23))
            back = down + timedelta(minutes=rng.randint(1, 40))
            changes += [
                DeploymentStateChange(deployment=name, provider="p", at=down, old="up", new="down"),
                DeploymentStateChange(deployment=name, provider="p", at=back, old="down", new="up"),
            ]
    for day in range(days):
        opened = first_hour + timedelta(days=day, hours=3)
        incidents.append(
            Incident(
                scope=IncidentScope.ORGANIZATION,
                organization=org,
                title=f"errors {day}",
                status=IncidentStatus.RESOLVED,
                opened_at=opened,
                resolved_at=opened + timedelta(minutes=17),
                affected_requests=40,
            )
        )
    _bulk(DeploymentStateChange, changes)
    _bulk(Incident, incidents)
    return org


def _time(label: str, runs: int, work: Any) -> list[float]:
    """Wall time, and this process's CPU time (Postgres's is not in it): on a loaded machine the wall time
    stretches, the CPU time much less."""
    took, cpu = [], []
    for _ in range(runs):
        started, started_cpu = time.perf_counter(), time.process_time()
        work()
        took.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    print(
        f"{label:<24} wall: median {statistics.median(took):5.2f} s, worst {max(took):5.2f} s;"
        f"  CPU here: median {statistics.median(cpu):5.2f} s"
    )
    return took


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--deployments", type=int, default=30)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--save", type=Path, help="also write the PDF here, to look at")
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    now = timezone.now()
    started = time.perf_counter()
    org = seed(deployments=args.deployments, days=args.days, now=now)
    print(f"seeded {args.deployments} deployments x {args.days} days in {time.perf_counter() - started:.1f} s")
    tz = periods.parse_timezone(org.timezone)
    assert tz is not None
    today = now.astimezone(tz).date()
    period = periods.Period(today - timedelta(days=args.days), today - timedelta(days=1), tz)

    def pdf() -> None:
        report = figures.sla_report(organization=org, period=period, now=timezone.now())
        size = len(outputs.pdf(report))
        assert size > 10_000

    def figures_only() -> None:
        figures.sla_report(organization=org, period=period, now=timezone.now())

    def json_and_csv() -> None:
        report = figures.sla_report(organization=org, period=period, now=timezone.now())
        outputs.figures(report)
        outputs.days_csv(report)

    report = figures.sla_report(organization=org, period=period, now=timezone.now())
    document = outputs.pdf(report)
    pages = len(PdfReader(io.BytesIO(document)).pages)
    if args.save:
        args.save.write_bytes(document)
    print(f"report: {len(report.providers)} deployments, {len(report.days)} days, {len(report.incidents)} incidents")
    _time("figures (all queries)", args.runs, figures_only)
    _time("JSON + daily CSV", args.runs, json_and_csv)
    took = _time("PDF, end to end", args.runs, pdf)
    print(f"PDF pages: {pages}; target: at most 5 s -> {'met' if max(took) <= 5 else 'MISSED'}")
    load = os.getloadavg()[0]
    print(f"at {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} CPUs, load average {load:.1f}")


if __name__ == "__main__":
    main()

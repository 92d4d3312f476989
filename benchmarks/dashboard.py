"""Render time of the dashboard's pages with 90 days of rollups for 30 deployments (issue #12: p95 ≤ 300 ms).

.venv/bin/python -m benchmarks.dashboard [--renders 30] [--minute-days 7]

One organisation asks for 10 models, each served by 3 deployments (30 in all). The rollups are written
directly with set-based SQL (what monitoring.rollups would have made of the traffic): 90 days of hour and
day rows and of 5-minute uptime windows, ``--minute-days`` of minute rows (production keeps 30), a state
change pair (a 10-minute outage) every two days per deployment, and an incident for each outage. Each
page is rendered ``--renders`` times through Django's test client (middleware, session and template
included) after one warm-up render; the table gives the median and the p95 in milliseconds.

Without DATABASE_URL it starts a private Postgres and Redis in a temporary directory and migrates them.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import django

from benchmarks.services import Services

_SERVICES = Services("bench-dashboard-", redis=True)
MODELS = [f"model-{n}" for n in range(10)]
PROVIDERS = ["alpha", "beta", "gamma"]
_CONFIG = _SERVICES.directory / "gateway.yaml"
_CONFIG.write_text(
    "providers:\n"
    + "".join(
        f"  - {{name: {p}, kind: openai, base_url: 'http://127.0.0.1:9/v1', api_key: sk-{p}-0001}}\n" for p in PROVIDERS
    )
    + "models:\n"
    + "".join(
        f"  - name: {m}\n    deployments: [{', '.join(f'{{provider: {p}, model: {m}}}' for p in PROVIDERS)}]\n"
        for m in MODELS
    )
)
os.environ["GATEWAY_CONFIG"] = str(_CONFIG)
django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from accounts.models import User  # noqa: E402
from accounts.services import create_organization  # noqa: E402
from monitoring.rollups import roll_uptime_sums  # noqa: E402
from monitoring.models import DeploymentStatus, Incident, IncidentImpact, IncidentUpdate  # noqa: E402
from monitoring.models.rollups import FAILURE_COLUMNS  # noqa: E402

DAYS = 90
DEPLOYMENTS = [(f"{p}/{m}", p, m) for m in MODELS for p in PROVIDERS]
# A realistic latency sketch (about 25 buckets) and TTFT sketch.
_HIST = "jsonb_build_object(" + ", ".join(f"'{340 + 2 * i}', {1 + (i * 7) % 13}" for i in range(25)) + ")"
_TTFT = "jsonb_build_object(" + ", ".join(f"'{280 + 2 * i}', {1 + (i * 5) % 11}" for i in range(20)) + ")"
_FAILURES = ", ".join(FAILURE_COLUMNS.values())


def _counts(scale: int) -> str:
    """The count columns of a row of ``scale`` minutes: ~60 requests a minute, ~1 % failing."""
    failures = ", ".join(
        f"(random() * {scale * 0.2})::int" if column == "failures_server_error" else "0"
        for column in FAILURE_COLUMNS.values()
    )
    return (
        f"{60 * scale}, {59 * scale}, {failures}, (random() * {scale * 0.2})::int, "
        f"(random() * {scale})::int, (random() * {scale * 0.5})::int, {6000 * scale}, {3000 * scale}, 0.01 * {scale}"
    )


def _fill(now: datetime, minute_days: int) -> None:
    end = now.replace(second=0, microsecond=0)
    levels = [
        ("minute", timedelta(days=minute_days), "1 minute", 1),
        ("hour", timedelta(days=DAYS), "1 hour", 60),
        ("day", timedelta(days=DAYS), "1 day", 1440),
    ]
    columns = (
        f"requests, successes, {_FAILURES}, downtime_failures, failovers, rescued, "
        "prompt_tokens, completion_tokens, cost_usd"
    )
    with connection.cursor() as cursor:
        for level, span, step, scale in levels:
            top = f"date_trunc('{level}', %(end)s::timestamptz, 'UTC')"
            cursor.execute(
                f"""INSERT INTO monitoring_request{level} (bucket, org_id, model, key_id, {columns}, local_requests,
                    latency_hist, ttft_hist)
                SELECT b, %(org)s, m, 1, {_counts(scale)}, 0, {_HIST}, {_TTFT}
                FROM generate_series({top} - %(span)s, {top}, %(step)s::interval) b, unnest(%(models)s::text[]) m""",
                {"end": end, "span": span, "step": step, "org": ORG_ID, "models": MODELS},
            )
            cursor.execute(
                f"""INSERT INTO monitoring_deployment{level} (bucket, deployment, provider, {columns},
                    latency_hist, ttft_hist)
                SELECT b, d.dep, d.prov, {_counts(scale)}, {_HIST}, {_TTFT}
                FROM generate_series({top} - %(span)s, {top}, %(step)s::interval) b,
                    unnest(%(deps)s::text[], %(provs)s::text[]) d(dep, prov)""",
                {
                    "end": end,
                    "span": span,
                    "step": step,
                    "deps": [d for d, _, _ in DEPLOYMENTS],
                    "provs": [p for _, p, _ in DEPLOYMENTS],
                },
            )
        cursor.execute(
            """INSERT INTO monitoring_uptimewindow (org_id, model, window_start, requests, downtime_failures,
                downtime_minutes)
            SELECT %(org)s, m, w, 300, (random() < 0.02)::int * 20, (random() < 0.02)::int
            FROM generate_series(date_bin('5 minutes', %(end)s::timestamptz, '2000-01-01') - interval '90 days',
                %(end)s::timestamptz, interval '5 minutes') w, unnest(%(models)s::text[]) m""",
            {"end": end, "org": ORG_ID, "models": ["", *MODELS]},
        )
    roll_uptime_sums(start=end - timedelta(days=91), end=end)


def _states(now: datetime) -> None:
    from monitoring.models import DeploymentStateChange

    changes, incidents = [], []
    for n, (deployment, provider, _) in enumerate(DEPLOYMENTS):
        first = now - timedelta(days=DAYS)
        changes.append(
            DeploymentStateChange(deployment=deployment, provider=provider, at=first, old="unknown", new="up")
        )
        at = first + timedelta(hours=n)
        while at < now - timedelta(hours=1):
            back = at + timedelta(minutes=10)
            changes.append(DeploymentStateChange(deployment=deployment, provider=provider, at=at, old="up", new="down"))
            changes.append(
                DeploymentStateChange(deployment=deployment, provider=provider, at=back, old="down", new="up")
            )
            incidents.append(
                Incident(
                    scope="deployment",
                    deployment=deployment,
                    title=f"{deployment} down",
                    status="resolved",
                    opened_at=at,
                    resolved_at=back,
                )
            )
            at += timedelta(days=2)
        DeploymentStatus.objects.create(
            deployment=deployment, provider=provider, state="up", since=now, next_probe_at=now
        )
    DeploymentStateChange.objects.bulk_create(changes)
    Incident.objects.bulk_create(incidents)
    saved = list(Incident.objects.all())
    IncidentImpact.objects.bulk_create([IncidentImpact(incident=i, organization_id=ORG_ID) for i in saved])
    IncidentUpdate.objects.bulk_create(
        [IncidentUpdate(incident=i, kind="opened", at=i.opened_at, message="down") for i in saved]
    )
    print(f"{len(changes):,} state changes, {len(saved):,} incidents")


def _pages() -> list[tuple[str, str]]:
    org = f"/orgs/{ORG_ID}"
    model, deployment = MODELS[0], DEPLOYMENTS[0][0]
    return [
        ("overview (10 models, 30 deployments)", f"{org}/"),
        ("model, 24 h", f"{org}/dashboard/models/{model}/?range=24h&tz=Europe/Berlin"),
        ("model, 7 d", f"{org}/dashboard/models/{model}/?range=7d&tz=Europe/Berlin"),
        ("model, 30 d", f"{org}/dashboard/models/{model}/?range=30d&tz=Europe/Berlin"),
        ("model, 90 d", f"{org}/dashboard/models/{model}/?range=90d&tz=Europe/Berlin"),
        ("deployment, 24 h", f"{org}/dashboard/deployments/{deployment}/?range=24h"),
        ("deployment, 90 d", f"{org}/dashboard/deployments/{deployment}/?range=90d"),
        ("incidents, 30 d", f"{org}/dashboard/incidents/?range=30d"),
        ("incidents, 90 d", f"{org}/dashboard/incidents/?range=90d"),
    ]


def _p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[max(1, math.ceil(0.95 * len(ordered))) - 1]


def main() -> None:
    global ORG_ID
    parser = argparse.ArgumentParser()
    parser.add_argument("--renders", type=int, default=30)
    parser.add_argument("--minute-days", type=int, default=7)
    parser.add_argument("--profile", help="profile this page (a name of the table) once instead")
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    user = User.objects.create_user("bench@example.org", "bench-password-123")
    ORG_ID = create_organization(name="Bench", owner=user).pk
    now = datetime.now(UTC)
    started = time.perf_counter()
    _fill(now, args.minute_days)
    _states(now)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"rollups written in {time.perf_counter() - started:.1f} s")
    client = Client(SERVER_NAME="localhost")
    client.force_login(user)
    print("\n| page | median ms | p95 ms | renders |\n|---|---:|---:|---:|")
    if args.profile:
        import cProfile
        import pstats

        url = dict(_pages())[args.profile]
        client.get(url, secure=True)
        timings: list[tuple[float, str]] = []

        def timed(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
            begin = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                timings.append(((time.perf_counter() - begin) * 1000, " ".join(sql.split())[:150]))

        with cProfile.Profile() as profile, connection.execute_wrapper(timed):
            client.get(url, secure=True)
        pstats.Stats(profile).sort_stats("cumulative").print_stats(60)
        for ms, sql in sorted(timings, reverse=True)[:12]:
            print(f"{ms:7.1f} ms  {sql}")
        print(f"{len(timings)} queries, {sum(ms for ms, _ in timings):.0f} ms")
        return
    for name, url in _pages():
        warm = client.get(url, secure=True)
        assert warm.status_code == 200, (url, warm.status_code, warm.content[:300])
        samples = []
        for _ in range(args.renders):
            begin = time.perf_counter()
            response = client.get(url, secure=True)
            samples.append((time.perf_counter() - begin) * 1000)
            assert response.status_code == 200
        print(f"| {name} | {statistics.median(samples):.0f} | {_p95(samples):.0f} | {len(samples)} |", flush=True)


ORG_ID = 0

if __name__ == "__main__":
    try:
        main()
    finally:
        _SERVICES.close()

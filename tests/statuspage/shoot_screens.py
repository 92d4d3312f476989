"""Screenshots of the status pages with 90 days of realistic data (not collected by default; run with
``./gw test -n 0 tests/statuspage/shoot_screens.py``). Output: /work/shots/status/."""

from __future__ import annotations

import os
import random
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.asgi import get_asgi_application
from django.db import connections
from django.test import Client
from django.utils import timezone
from playwright.sync_api import sync_playwright

from accounts.models import Membership, Organization, User
from accounts.services import create_api_key, create_organization
from monitoring import incidents
from monitoring.models import DeploymentStatus, IncidentUpdate, Incident, RequestDay, UptimeWindow
from monitoring.rollups import roll_uptime_sums
from statuspage.models import StatusComponent, StatusPage
from tests.live import LiveServer
from tests.monitoring.incident_helpers import routed, state_change
from tests.statuspage.seed import AZURE_4O, OPENAI_4O, OPENAI_EMBED, probe, write_config

OUT = Path("/work/shots/status")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
SIZES = {"desktop": (1280, 800), "phone": (390, 844)}
SLUG = "demo-Status-Page-Address1"


def _windows(org: Organization, model: str, day: datetime, bad: list[tuple[int, int, int]]) -> list[UptimeWindow]:
    """One window an hour with 60 requests; ``bad``: (hour, windows from it, failures of 60 each)."""
    failing = {day + timedelta(hours=h, minutes=5 * n): f for h, count, f in bad for n in range(count)}
    starts = sorted({day + timedelta(hours=h) for h in range(24)} | set(failing))
    return [
        UptimeWindow(
            org_id=org.pk,
            model=model,
            window_start=s,
            requests=60,
            downtime_failures=failing.get(s, 0),
            downtime_minutes=5 if failing.get(s, 0) > 3 else 0,
        )
        for s in starts
    ]


def _traffic(org: Organization, now: datetime) -> None:
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    outages = {12: [(14, 6, 30)], 33: [(2, 40, 40)], 34: [(9, 2, 12)], 5: [(16, 3, 8)], 61: [(20, 12, 25)]}
    gaps = set(range(70, 90)) | {44, 45}  # launched 70 days ago; two days without traffic
    rows: list[UptimeWindow] = []
    days: list[RequestDay] = []
    for days_ago in range(90):
        if days_ago in gaps:
            continue
        day = today - timedelta(days=days_ago)
        bad = outages.get(days_ago, [])
        if days_ago == 0:
            bad = []
        for model in ("", "gpt-4o", "embed-small"):
            windows = _windows(org, model, day, bad if model != "embed-small" else [])
            rows += [w for w in windows if w.window_start < now]
        for model in ("gpt-4o", "embed-small"):
            days.append(RequestDay(org_id=org.pk, model=model, key_id=1, bucket=day, requests=1440, successes=1440,
                                   failures_timeout=0, failures_server_error=0, failures_rate_limited=0,
                                   failures_connection=0, failures_misconfigured=0, failures_client_error=0,
                                   downtime_failures=0, failovers=0, rescued=0, prompt_tokens=0, completion_tokens=0,
                                   cost_usd=0, latency_hist={}, ttft_hist={}, local_requests=0))  # fmt: skip
    UptimeWindow.objects.bulk_create(rows)
    roll_uptime_sums(start=today - timedelta(days=90), end=now)
    RequestDay.objects.bulk_create(days)


def _outage(org: Organization, deployment: str, start: datetime, minutes: int, via: str = "down") -> None:
    routed(org, start - timedelta(minutes=10), through=deployment)
    state_change(deployment, start, "up", via, "circuit breaker open" if via == "down" else "error rate 40%")
    state_change(deployment, start + timedelta(minutes=minutes), via, "up", "probes and traffic healthy")


def _seed(now: datetime) -> tuple[User, User]:
    owner = User.objects.create_user("owner@acme.example", "owner-password-123", email_verified_at=now)
    staff = User.objects.create_user("ops@gateway.example", "ops-password-123", is_staff=True, email_verified_at=now)
    org = create_organization(name="Acme Robotics", owner=owner)
    Organization.objects.filter(pk=org.pk).update(timezone="Europe/Berlin")
    Membership.objects.create(organization=org, user=staff, role=Membership.Role.MEMBER)
    create_api_key(organization=org, name="production")
    _traffic(org, now)
    for deployment, since in ((AZURE_4O, 80), (OPENAI_4O, 85), (OPENAI_EMBED, 60)):
        state_change(deployment, now - timedelta(days=since), "unknown", "up")
    _outage(org, OPENAI_4O, now - timedelta(days=61, hours=3), 190)
    _outage(org, AZURE_4O, now - timedelta(days=33, hours=10), 230)
    _outage(org, OPENAI_4O, now - timedelta(days=33, hours=10, minutes=-20), 45)
    _outage(org, AZURE_4O, now - timedelta(days=12, hours=4), 32)
    _outage(org, OPENAI_EMBED, now - timedelta(days=5, hours=2), 120, via="degraded")
    state_change(OPENAI_EMBED, now - timedelta(days=46), "up", "unknown", "no probe and no traffic")
    state_change(OPENAI_EMBED, now - timedelta(days=44), "unknown", "up", "probes and traffic healthy")
    routed(org, now - timedelta(minutes=40), through=AZURE_4O)
    state_change(AZURE_4O, now - timedelta(minutes=25), "up", "down", "circuit breaker open")
    incidents.process_state_changes()
    first = Incident.objects.filter(deployment=AZURE_4O).order_by("opened_at").first()
    assert first is not None
    IncidentUpdate.objects.create(incident=first, kind="note", at=first.opened_at + timedelta(minutes=40),
                                  organization=org, message="Our provider confirmed a regional outage in West Europe; "
                                  "requests are served from our second region meanwhile.")  # fmt: skip
    current = ((AZURE_4O, "down", 25), (OPENAI_4O, "up", 60 * 24 * 12), (OPENAI_EMBED, "up", 3000))
    for deployment, state, since in current:
        DeploymentStatus.objects.create(
            deployment=deployment,
            provider=deployment.split("/")[0],
            state=state,
            since=now - timedelta(minutes=since),
            next_probe_at=now,
            reason="circuit breaker open" if state == "down" else "probes and traffic healthy",
        )
        at = now - timedelta(seconds=random.randint(3, 40))
        probe(deployment, result="failed" if state == "down" else "ok", at=at)
    page = StatusPage.objects.create(organization=org, enabled=True, slug=SLUG, title="Acme Robotics API status",
                                     show_notes=True)  # fmt: skip
    for n, (kind, target, name) in enumerate([
        ("all_models", "", "Acme API"), ("model", "gpt-4o", "Chat assistant"),
        ("model", "embed-small", "Semantic search"), ("deployment", AZURE_4O, "EU region"),
        ("deployment", OPENAI_4O, "US region"),
    ]):  # fmt: skip
        StatusComponent.objects.create(page=page, kind=kind, target=target, name=name, position=n)
    return owner, staff


class DjangoOnly:
    """Django's ASGI app, with the lifespan protocol the live server speaks answered."""

    def __init__(self) -> None:
        self.django = get_asgi_application()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "lifespan":
            await self.django(scope, receive, send)
            return
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return


@pytest.fixture
def live(transactional_db: None, settings: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    settings.GATEWAY_CONFIG = str(write_config(tmp_path))
    monkeypatch.setitem(connections.settings["default"], "CONN_MAX_AGE", 0)
    server = LiveServer(DjangoOnly()).start()
    settings.SITE_URL = server.url
    try:
        yield server.url
    finally:
        server.stop()


@pytest.mark.filterwarnings("ignore:StreamingHttpResponse must consume synchronous iterators")
def test_shoot(live: str, settings: Any) -> None:
    settings.DEMO_MODE = "--demo" in sys.argv or bool(os.environ.get("SHOOT_DEMO"))  # the banner, on every page
    OUT.mkdir(parents=True, exist_ok=True)
    owner, staff = _seed(timezone.now().astimezone(UTC))
    org_id = Organization.objects.get().pk
    for path, user in ((f"/status/{SLUG}/", None), ("/operator/status/", staff)):
        timer = Client()
        if user is not None:
            timer.force_login(user)
        took = []
        for _ in range(7):
            start = time.perf_counter()
            assert timer.get(path).status_code == 200
            took.append((time.perf_counter() - start) * 1000)
        print(path, "render ms (median of 7):", round(sorted(took)[3], 1))
    sessions = {}
    for user in (owner, staff):
        client = Client()
        client.force_login(user)
        sessions[user.pk] = client.cookies["sessionid"].value
    shots = [
        ("public", None, f"/status/{SLUG}/"),
        ("settings", owner, f"/orgs/{org_id}/status-page/"),
        ("operator", staff, "/operator/status/"),
        ("overview", owner, f"/orgs/{org_id}/"),
        ("timeline", owner, f"/orgs/{org_id}/dashboard/incidents/?range=30d"),
        ("model", owner, f"/orgs/{org_id}/dashboard/models/gpt-4o/?range=30d"),
    ]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
        try:
            for name, user, path in shots:
                for size, (width, height) in SIZES.items():
                    context = browser.new_context(viewport={"width": width, "height": height})
                    if user is not None:
                        context.add_cookies([{"name": "sessionid", "value": sessions[user.pk], "url": live}])
                    tab = context.new_page()
                    tab.goto(live + path)
                    tab.screenshot(path=str(OUT / f"{name}-{size}.png"))
                    tab.screenshot(path=str(OUT / f"{name}-{size}-full.png"), full_page=True)
                    overflow = tab.evaluate("document.documentElement.scrollWidth - window.innerWidth")
                    print(name, size, "horizontal overflow px:", overflow)
                    if name == "public":
                        tab.locator(".daybar-cell").nth(89 - 33).focus()
                        tab.screenshot(path=str(OUT / f"{name}-{size}-tooltip.png"))
                    context.close()
        finally:
            browser.close()

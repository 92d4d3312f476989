"""Acceptance of #12, as a new user would do it in headless Chromium: sign up, create a key, send traffic
with the official openai SDK while one simulated provider is down, see the dashboard show the incident,
the rescued requests and effective uptime above that provider's own, then download the SLA report's PDF
and CSV and read them.

Between the traffic and the dashboard, the test runs what Celery beat runs (the same functions): the
rollup, the state evaluation (twice, 31 s apart in its own clock, as confirmation needs) and incidents.
"""

from __future__ import annotations

import csv
import io
import os
import re
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core import mail
from django.db import connections
from django.db.models import Sum
from django.utils import timezone
from playwright.sync_api import Page, expect, sync_playwright
from pypdf import PdfReader

from accounts.models import Organization
from gateway.asgi import GatewayApp
from gateway.conf.loader import parse_config
from gateway.runtime import build_runtime
from monitoring import incidents, probes, rollups
from monitoring.models import Request, RequestMinute
from simulator.harness import SimulatorServer
from tests.browser.test_signup_to_revoked_key import CHROMIUM, CHROMIUM_ARGS, PASSWORD, DjangoAndGateway, ask
from tests.live import LiveServer

REQUESTS = 12
ROOT = Path(__file__).resolve().parents[2]


def two_providers(sim: SimulatorServer) -> str:
    return f"""providers:
  - {{name: sim-a, kind: openai, base_url: '{sim.url_for("sim-a")}', api_key: sk-test-sim-a-secret0001}}
  - {{name: sim-b, kind: openai, base_url: '{sim.url_for("sim-b")}', api_key: sk-test-sim-b-secret0002}}
models:
  - name: chat
    deployments:
      - {{provider: sim-a, model: chat}}
      - {{provider: sim-b, model: chat}}
"""


@pytest.fixture
def live(
    transactional_db: None, simulator: SimulatorServer, settings: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[LiveServer, Any]]:
    simulator.reset()
    config_path = tmp_path / "gateway.yaml"
    config_path.write_text(two_providers(simulator))
    settings.GATEWAY_CONFIG = str(config_path)
    monkeypatch.setitem(connections.settings["default"], "CONN_MAX_AGE", 0)
    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls between clicks
    # (waiting for the records, the beat jobs) are plain synchronous code all the same.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    config = parse_config(config_path.read_text(), source=str(config_path))
    server = LiveServer(DjangoAndGateway(GatewayApp(build_runtime(config)))).start()
    settings.SITE_URL = server.url
    try:
        yield server, config
    finally:
        server.stop()
        simulator.clear_faults()


@pytest.fixture
def page(live: tuple[LiveServer, Any]) -> Iterator[Page]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 800}, accept_downloads=True)
        try:
            yield context.new_page()
        finally:
            browser.close()


def sign_up_and_create_a_key(page: Page, url: str) -> str:
    page.goto(f"{url}/signup/")
    page.get_by_label("Email").fill("auditor.friend@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    link = re.search(r"http://\S+/verify-email/\S+/", mail.outbox[-1].body)
    assert link is not None
    page.goto(link.group())
    page.get_by_role("link", name="API keys", exact=True).first.click()
    page.get_by_role("link", name="New key").click()
    page.get_by_label("Name").fill("production")
    page.get_by_role("button", name="Create key").click()
    return page.locator("#api-key").input_value()


def detect_the_outage(config: Any) -> None:
    """What beat did as sim-a went down, on its own clock: three rounds of probes 40 s apart (sim-a's
    fail), the state evaluated when the third failed and again 44 s later (a worse state must hold 30 s),
    and the incident opened from the state change."""
    now = timezone.now()
    for seconds_ago in (125, 85, 45):
        probes.run_probes(config=config, now=now - timedelta(seconds=seconds_ago))
    probes.evaluate_states(config=config, now=now - timedelta(seconds=44))
    probes.evaluate_states(config=config, now=now)
    incidents.process_state_changes()


def count_the_traffic(org: Organization) -> None:
    """Beat's next rounds: the incident's requests of each organisation, and the rollup, which beat runs
    every minute over the last 15 (here until it holds every recorded request, or 5 s)."""
    deadline = time.monotonic() + 5
    while True:
        now = timezone.now()
        incidents.refresh_open_impacts(now=now)
        rollups.roll_up(now=now)
        rolled = RequestMinute.objects.filter(org_id=org.pk).aggregate(total=Sum("requests"))["total"] or 0
        if rolled == REQUESTS:
            return
        assert time.monotonic() < deadline, f"the rollups hold {rolled} of {REQUESTS} recorded requests"
        time.sleep(0.5)


@pytest.mark.filterwarnings("ignore:StreamingHttpResponse must consume synchronous iterators")
def test_outage_shows_on_the_dashboard_and_in_the_downloaded_sla_report(
    live: tuple[LiveServer, Any], page: Page, simulator: SimulatorServer, tmp_path: Path
) -> None:
    server, config = live
    key = sign_up_and_create_a_key(page, server.url)

    simulator.set_fault("sim-a", status=503)
    detect_the_outage(config)
    answers = [ask(server.url, key) for _ in range(REQUESTS)]
    assert all(answer.startswith("Hello from sim-b") for answer in answers)  # no client saw the outage
    deadline = time.monotonic() + 10
    # Counted for this organisation only: a gateway of an earlier test in this worker may still be
    # loading its last events into the same database.
    org = Organization.objects.get(memberships__user__email="auditor.friend@example.com")
    while Request.objects.filter(org_id=org.pk).count() < REQUESTS:
        assert time.monotonic() < deadline, "the requests were not recorded"
        time.sleep(0.1)
    count_the_traffic(org)
    # Until sim-a's breaker opens, each request fails over; after, it goes straight to sim-b.
    rescued_requests = Request.objects.filter(org_id=org.pk, rescued=True).count()
    assert rescued_requests >= 1

    page.get_by_role("link", name="Overview", exact=True).first.click()
    rescued = page.locator("section[aria-labelledby=rescued-head] .kpi").first
    expect(rescued.locator(".kpi-value")).to_have_text(str(rescued_requests))
    expect(rescued).to_contain_text(f"of {REQUESTS}")
    expect(page.locator("section[aria-labelledby=open-head]")).to_contain_text("sim-a")
    model_row = page.locator("tr.dash-model-row", has_text="chat")
    provider_row = page.locator("tr.dash-dep-row", has_text="sim-a/chat")
    expect(model_row.locator("td.num").first).to_have_text("100.00 %")  # effective, 24 h
    expect(provider_row).to_contain_text("Down")
    provider_24h = provider_row.locator("td.num").first.inner_text()
    assert provider_24h != "No data" and float(provider_24h.rstrip(" %")) < 100
    # README_IMAGES=1 refreshes the README's picture of this page.
    shot = ROOT / "docs/images/dashboard.png" if os.environ.get("README_IMAGES") else tmp_path / "dashboard.png"
    page.screenshot(path=str(shot), full_page=True)

    page.get_by_role("link", name="Reports", exact=True).first.click()
    page.locator("input[name=month]").fill(f"{timezone.now():%Y-%m}")  # this month, in progress
    page.get_by_role("button", name="Show report").click()
    expect(page.locator(".report-stats")).to_contain_text("100.000 %")
    with page.expect_download() as pdf_download:
        page.get_by_role("link", name="PDF report").click()
    text = "\n".join(p.extract_text() for p in PdfReader(pdf_download.value.path()).pages)
    assert org.name in text and "100.000" in text and "sim-a/chat" in text
    with page.expect_download() as csv_download:
        page.get_by_role("link", name="Daily CSV").click()
    rows = list(csv.DictReader(io.StringIO(Path(csv_download.value.path()).read_text())))
    today = timezone.now().date().isoformat()
    effective = next(r for r in rows if r["component"] == "effective" and r["day"] == today)
    assert effective["uptime_percent"] == "100.000"
    assert int(effective["requests"]) == REQUESTS and int(effective["rescued"]) == rescued_requests
    provider = next(r for r in rows if r["component"] == "sim-a/chat" and r["day"] == today)
    assert provider["uptime_percent"] != "" and float(provider["uptime_percent"]) < 100
    assert provider["incidents"] == "1"

"""Screenshots of the report pages (1280x800 and 390x844) and of every page of a report's PDF, for a
person to look at: ``./gw test -n 0 tests/reports/shots.py`` writes them under SHOTS (not part of the suite)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

from django.test import Client
from playwright.sync_api import sync_playwright

from reports import figures, outputs
from reports.models import ReportSettings
from tests.browser.test_signup_to_revoked_key import CHROMIUM, CHROMIUM_ARGS
from tests.reports.helpers import NOW, january
from tests.reports.test_pdf import JANUARY

SHOTS = Path(os.environ.get("SHOTS", "/work/shots/reports"))
SIZES = {"desktop": (1280, 800), "phone": (390, 844)}


def test_screenshots(live_server: Any, accounts: Any) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    org = accounts.org
    january(org.pk)
    ReportSettings.objects.create(organization=org, monthly_fee=1200)
    client = Client()
    client.force_login(accounts.owner)
    cookie = client.cookies["sessionid"].value
    pages = {
        "page": f"/orgs/{org.pk}/reports/?kind=month&month=2026-01&timezone=UTC",
        "page-error": f"/orgs/{org.pk}/reports/?kind=custom&start=2026-01-31&end=2026-01-01&timezone=Mars",
        "settings": f"/orgs/{org.pk}/reports/settings/",
    }
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for size_name, (width, height) in SIZES.items():
            context = browser.new_context(viewport={"width": width, "height": height})
            context.add_cookies([{"name": "sessionid", "value": cookie, "url": live_server.url}])
            page = context.new_page()
            for name, path in pages.items():
                page.goto(live_server.url + path)
                page.screenshot(path=str(SHOTS / f"{name}-{size_name}.png"), full_page=True)
                scroll = page.evaluate("document.documentElement.scrollWidth > document.documentElement.clientWidth")
                assert not scroll, f"{name} scrolls sideways at {width} px"
            context.close()
        browser.close()
    report = figures.sla_report(organization=org, period=JANUARY, now=NOW)
    (SHOTS / "report.pdf").write_bytes(outputs.pdf(report))
    for old in SHOTS.glob("pdf-*.png"):
        old.unlink()
    subprocess.run(["pdftoppm", "-png", "-r", "60", str(SHOTS / "report.pdf"), str(SHOTS / "pdf")], check=True)

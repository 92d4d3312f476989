"""The settings page's browser-origins card in headless Chromium, at 1280x800 and 390x844: an owner
saves two origins, sees them back, then a bad one is refused in place. Screenshots go to
SCREENSHOT_DIR when it is set (for a look by eye), else to the test's temporary directory."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from accounts.models import Organization
from tests.browser.newcomer_seed import Seeded
from tests.browser.test_newcomer_layout import DESKTOP, PHONE, assert_no_horizontal_scroll, logged_in
from tests.browser.test_newcomer_layout import site as site  # the fixture: the seeded organisation, served
from tests.live import LiveServer

pytestmark = pytest.mark.filterwarnings("ignore:StreamingHttpResponse must consume synchronous iterators")


def shot(page: Page, directory: Path, name: str) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(directory / name), full_page=True)


@pytest.mark.parametrize(("viewport", "label"), [(DESKTOP, "1280x800"), (PHONE, "390x844")])
def test_an_owner_sets_browser_origins_on_the_settings_page(
    site: tuple[LiveServer, Seeded], tmp_path: Path, viewport: dict[str, int], label: str
) -> None:
    server, seeded = site
    directory = Path(os.environ.get("SCREENSHOT_DIR") or tmp_path)
    with sync_playwright() as playwright:
        page = logged_in(playwright, server, seeded, viewport)
        page.goto(f"{server.url}/orgs/{seeded.org.pk}/limits/")
        card = page.locator("#cors")
        expect(card.get_by_role("heading", name="Browser access (CORS)")).to_be_visible()
        card.get_by_label("Allowed browser origins").fill(
            "https://app.acme-industries.example.com\nhttp://localhost:5173"
        )
        card.get_by_role("button", name="Save origins").click()
        expect(page.get_by_text("Browser origins saved (2).")).to_be_visible()
        expect(page.locator("#id_cors_allowed_origins")).to_have_value(
            "https://app.acme-industries.example.com\nhttp://localhost:5173"
        )
        assert_no_horizontal_scroll(page)
        shot(page, directory, f"org-settings-cors-{label}.png")

        page.locator("#id_cors_allowed_origins").fill("https://*.acme-industries.example.com")
        page.locator("#cors").get_by_role("button", name="Save origins").click()
        expect(page.locator("#cors .field-error")).to_contain_text("is not an origin")
        assert_no_horizontal_scroll(page)
        shot(page, directory, f"org-settings-cors-error-{label}.png")
    saved = Organization.objects.get(pk=seeded.org.pk).cors_allowed_origins
    assert saved == ["https://app.acme-industries.example.com", "http://localhost:5173"]

"""What a newcomer tripped over, checked in headless Chromium at 1280x800 and 390x844: the top bar in
one row (a "Menu" on a phone), no page wider than the screen, the key table's actions in view, and a
copy button on every code block."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.asgi import get_asgi_application
from django.db import connections
from playwright.sync_api import Page, expect, sync_playwright

from tests.browser.newcomer_seed import PASSWORD, Seeded, seed
from tests.browser.test_signup_to_revoked_key import CHROMIUM, CHROMIUM_ARGS
from tests.live import LiveServer

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}

pytestmark = pytest.mark.filterwarnings("ignore:StreamingHttpResponse must consume synchronous iterators")


class DjangoOnly:
    """Django's ASGI app, with the lifespan events the live server sends answered."""

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
def site(transactional_db: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[LiveServer, Seeded]]:
    monkeypatch.setitem(connections.settings["default"], "CONN_MAX_AGE", 0)
    seeded = seed()
    server = LiveServer(DjangoOnly()).start()
    try:
        yield server, seeded
    finally:
        server.stop()


def logged_in(playwright: Any, server: LiveServer, seeded: Seeded, viewport: dict[str, int]) -> Page:
    browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    context = browser.new_context(viewport=viewport)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
    page = context.new_page()
    page.goto(f"{server.url}/login/")
    page.get_by_label("Email").fill(seeded.owner.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/orgs/**")
    return page


def assert_no_horizontal_scroll(page: Page) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{page.url} is {overflow} px wider than the screen"
    # Nor any table wider than its box (a scrollbar a mouse user may never see).
    clipped = page.evaluate("[...document.querySelectorAll('.table-wrap')].some(w => w.scrollWidth > w.clientWidth)")
    assert not clipped, f"a table on {page.url} is clipped"


PAGES = ["keys/", "requests/", "members/", "usage/", "limits/"]


def test_at_1280_the_top_bar_is_one_row_and_the_key_actions_are_in_view(site: tuple[LiveServer, Seeded]) -> None:
    server, seeded = site
    with sync_playwright() as playwright:
        page = logged_in(playwright, server, seeded, DESKTOP)
        for path in PAGES:
            page.goto(f"{server.url}/orgs/{seeded.org.pk}/{path}")
            assert_no_horizontal_scroll(page)
            expect(page.locator(".tabs-wide a", has_text="Status page")).to_be_visible()  # all ten tabs
            bar = page.locator(".topbar-inner").bounding_box()
            assert bar is not None and bar["height"] < 56, (path, bar)  # one row
            expect(page.locator(".tabs-wide")).to_be_visible()
            expect(page.locator(".nav-menu")).to_be_hidden()
        page.goto(f"{server.url}/orgs/{seeded.org.pk}/keys/")
        revoke = page.get_by_role("link", name="Revoke").first
        expect(revoke).to_be_visible()
        box = revoke.bounding_box()
        table = page.locator(".table-wrap").bounding_box()
        assert box is not None and table is not None
        assert box["x"] + box["width"] <= table["x"] + table["width"], "Revoke is cut off"
        expect(page.get_by_text("600 req/min")).to_be_visible()


def test_on_a_phone_the_tabs_fold_into_a_menu_and_nothing_scrolls_sideways(site: tuple[LiveServer, Seeded]) -> None:
    server, seeded = site
    with sync_playwright() as playwright:
        page = logged_in(playwright, server, seeded, PHONE)
        for path in PAGES:
            page.goto(f"{server.url}/orgs/{seeded.org.pk}/{path}")
            assert_no_horizontal_scroll(page)
            expect(page.locator(".tabs-wide")).to_be_hidden()
            bar = page.locator(".topbar-inner").bounding_box()
            assert bar is not None and bar["height"] < 56, (path, bar)  # one row on a phone too
        page.get_by_text("Menu", exact=True).click()
        page.get_by_role("link", name="Requests").click()
        expect(page.get_by_role("heading", name="Recent requests")).to_be_visible()
        assert_no_horizontal_scroll(page)


def test_every_code_block_has_a_copy_button_that_copies_it(site: tuple[LiveServer, Seeded]) -> None:
    server, seeded = site
    with sync_playwright() as playwright:
        page = logged_in(playwright, server, seeded, DESKTOP)
        page.goto(f"{server.url}/orgs/{seeded.org.pk}/keys/new/")
        page.get_by_label("Name").fill("laptop")
        page.get_by_role("button", name="Create key").click()
        blocks = page.locator("pre")
        assert blocks.count() >= 2
        expect(page.locator(".code-block .copy-button")).to_have_count(blocks.count())
        for n in range(blocks.count()):
            page.locator(".copy-button").nth(n).click()
            copied = page.evaluate("navigator.clipboard.readText()")
            assert copied == blocks.nth(n).inner_text()
            assert f"{server.url.replace('http://', '')}" in copied or "127.0.0.1:8000" in copied

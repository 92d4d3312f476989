"""Acceptance, as a new user would do it: headless Chromium from sign-up to a refused, revoked key.

One live server serves both halves of the product, as config/asgi.py does in production.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import pytest
from django.core import mail
from django.core.asgi import get_asgi_application
from django.db import connections
from playwright.sync_api import Page, expect, sync_playwright

from gateway.asgi import GatewayApp
from gateway.conf.loader import parse_config
from gateway.runtime import build_runtime
from simulator.harness import SimulatorServer
from tests.live import LiveServer

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "a long enough passphrase 9"


class DjangoAndGateway:
    """/v1/ to the gateway, everything else to Django; the gateway owns the lifespan."""

    def __init__(self, gateway: GatewayApp) -> None:
        self.gateway = gateway
        self.django = get_asgi_application()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await self.gateway.lifespan(scope, receive, send)
        elif scope["type"] == "http" and scope["path"].startswith("/v1/"):
            await self.gateway(scope, receive, send)
        else:
            await self.django(scope, receive, send)


def gateway_yaml(sim: SimulatorServer) -> str:
    return f"""providers:
  - {{name: sim-a, kind: openai, base_url: '{sim.url_for("sim-a")}', api_key: sk-test-sim-a-secret0001}}
models:
  - name: chat
    deployments:
      - {{provider: sim-a, model: chat}}
"""


@pytest.fixture
def live(
    transactional_db: None,
    simulator: SimulatorServer,
    settings: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[LiveServer]:
    simulator.reset()
    config = tmp_path / "gateway.yaml"
    config.write_text(gateway_yaml(simulator))
    settings.GATEWAY_CONFIG = str(config)
    # Django's connections in the server's threads must close after each request, or the
    # test database cannot be dropped at the end of the run.
    monkeypatch.setitem(connections.settings["default"], "CONN_MAX_AGE", 0)
    runtime = build_runtime(parse_config(config.read_text(), source=str(config)))
    server = LiveServer(DjangoAndGateway(GatewayApp(runtime))).start()
    # The snippets on the key page should point at this server.
    settings.SITE_URL = server.url
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def page(live: LiveServer) -> Iterator[Page]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live.url)
        try:
            yield context.new_page()
        finally:
            browser.close()


def ask(base_url: str, key: str) -> str:
    client = openai.OpenAI(base_url=f"{base_url}/v1", api_key=key, max_retries=0, timeout=10)
    reply = client.chat.completions.create(model="chat", messages=[{"role": "user", "content": "Hi"}])
    return reply.choices[0].message.content or ""


# WhiteNoise serves the stylesheet with a sync iterator, which Django's ASGI handler warns about.
@pytest.mark.filterwarnings("ignore:StreamingHttpResponse must consume synchronous iterators")
def test_sign_up_create_a_key_use_it_revoke_it(live: LiveServer, page: Page, tmp_path: Path) -> None:
    page.goto(f"{live.url}/")
    page.get_by_role("link", name="Sign up").first.click()
    page.get_by_label("Email").fill("new.user@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_text("Until then you cannot create API keys")).to_be_visible()

    body = mail.outbox[-1].body
    link = re.search(r"http://\S+/verify-email/\S+/", body)
    assert link is not None, body
    page.goto(link.group())
    expect(page.get_by_text("new.user@example.com is verified")).to_be_visible()
    expect(page.get_by_text("Until then you cannot create API keys")).to_have_count(0)

    page.get_by_role("link", name="API keys", exact=True).click()
    page.get_by_role("link", name="New key").click()
    page.get_by_label("Name").fill("my laptop")
    page.get_by_role("button", name="Create key").click()
    expect(page.get_by_role("heading", name="Key “my laptop” created")).to_be_visible()
    key = page.locator("#api-key").input_value()
    assert re.fullmatch(r"sk-gw-[0-9a-f]{8}-[\w-]+", key)
    page.screenshot(path=str(tmp_path / "key-created.png"), full_page=True)

    page.get_by_role("button", name="Copy key").click()
    expect(page.locator("#copy-status")).not_to_be_empty()
    # Where the clipboard is refused the page selects the key instead; either way it says so.
    if "Copied" in page.locator("#copy-status").inner_text():
        assert page.evaluate("navigator.clipboard.readText()") == key

    assert ask(live.url, key).startswith("Hello from sim-a")

    page.get_by_role("link", name="Done, back to keys").click()
    assert key not in page.content()
    page.get_by_role("link", name="Revoke").click()
    page.get_by_role("button", name="Revoke key").click()
    expect(page.locator(".status-revoked")).to_have_text("revoked")

    revoked_at = time.monotonic()
    while True:
        try:
            ask(live.url, key)
        except openai.AuthenticationError:
            break
        assert time.monotonic() - revoked_at < 1.5, "the revoked key was still accepted after 1.5 s"
        time.sleep(0.05)

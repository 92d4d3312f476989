"""In demo mode (./gw up without GATEWAY_CONFIG) every page explains the scheduled outages."""

from __future__ import annotations

from typing import Any

from simulator.demo import describe_schedule
from tests.accounts.helpers import client_for
from tests.conftest import Accounts


def test_demo_mode_pages_explain_the_outage_schedule(accounts: Accounts, settings: Any) -> None:
    settings.DEMO_MODE = True
    page = client_for(accounts.owner).get(f"/orgs/{accounts.org.pk}/keys/").content.decode()
    assert "Demo mode:" in page
    assert "sim-openai answers 503 for 20 s every 90 s" in page
    assert "sim-azure hangs for 15 s every 120 s" in page
    assert "sim-groq answers 429 to about 3% of requests" in page


def test_no_banner_with_a_real_gateway_config(accounts: Accounts, settings: Any) -> None:
    settings.DEMO_MODE = False
    page = client_for(accounts.owner).get(f"/orgs/{accounts.org.pk}/keys/").content.decode()
    assert "Demo mode:" not in page


def test_the_schedule_is_read_from_the_demo_scenario_itself() -> None:
    assert [line.split()[0] for line in describe_schedule()] == ["sim-openai", "sim-azure", "sim-groq"]

"""The API docs and Django admin wear the app's top bar; at 1280 px the bar has every tab in one row
(the layout is checked in a browser: tests/browser/test_newcomer_layout.py)."""

from __future__ import annotations

from tests.accounts.helpers import client_for
from tests.conftest import Accounts


def test_django_admin_has_the_apps_top_bar(accounts: Accounts) -> None:
    accounts.owner.is_staff = accounts.owner.is_superuser = True
    accounts.owner.save(update_fields=["is_staff", "is_superuser"])
    page = client_for(accounts.owner).get("/admin/").content.decode()
    assert '<header class="topbar">' in page
    assert "css/topbar.css" in page
    assert "LLM&nbsp;Gateway" in page and "Log out" in page


def test_the_api_docs_have_the_apps_top_bar(accounts: Accounts) -> None:
    response = client_for(accounts.owner).get("/api/docs/")
    assert response.status_code == 200
    page = response.content.decode()
    assert '<header class="topbar">' in page and "css/topbar.css" in page
    assert 'id="swagger-ui"' in page


def test_an_organisation_page_offers_every_tab(accounts: Accounts) -> None:
    page = client_for(accounts.owner).get(f"/orgs/{accounts.org.pk}/keys/").content.decode()
    for tab in ("Overview", "Usage", "Requests", "Incidents", "API keys", "Members", "Providers", "Limits"):
        assert f">{tab}</a>" in page
    assert '<details class="menu nav-menu">' in page  # the phone's disclosure menu


def test_members_are_not_offered_the_limits_tab_they_cannot_open(accounts: Accounts) -> None:
    page = client_for(accounts.member).get(f"/orgs/{accounts.org.pk}/keys/").content.decode()
    assert ">Limits</a>" not in page

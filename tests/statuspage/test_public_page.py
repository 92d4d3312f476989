"""The public page and its JSON: no login, 404 unless published, current status from deployment states and
open incidents, 90-day bars in the organisation's timezone, incident history under public titles. Time is
frozen at NOW."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from django.test import Client

from accounts.models import Organization
from monitoring import incidents
from monitoring.models import Incident, IncidentUpdate
from statuspage.models import StatusPage
from tests.accounts.helpers import client_for
from tests.conftest import Accounts
from tests.monitoring.incident_helpers import routed
from tests.statuspage.seed import (
    AZURE_4O,
    NOW,
    OPENAI_4O,
    OPENAI_EMBED,
    SLUG,
    deployment_incident,
    organization_incident,
    page,
    states,
    traffic,
)

URL = f"/status/{SLUG}/"
JSON_URL = f"/status/{SLUG}/index.json"
ALL = ("all_models", "", "API")
CHAT = ("model", "gpt-4o", "Chat completions")
EMBED = ("model", "embed-small", "Embeddings")
PRIMARY = ("deployment", AZURE_4O, "Primary region")


def _json(client: Client | None = None) -> dict[str, Any]:
    response = (client or Client()).get(JSON_URL)
    assert response.status_code == 200
    return response.json()


def test_a_page_that_is_off_or_unknown_answers_404(accounts: Accounts, frozen: datetime) -> None:
    page(accounts.org, ALL, enabled=False)
    assert Client().get(URL).status_code == 404
    assert Client().get(JSON_URL).status_code == 404
    assert Client().get("/status/Zz9-unknown-but-well-formed/").status_code == 404
    StatusPage.objects.update(enabled=True)
    assert Client().get(URL).status_code == 200


@pytest.mark.parametrize(
    "slug",
    ["x" * 10_000, "é" * 24, "%2e%2e", "..%2F..%2Fadmin", "a" * 15, f"{SLUG}%00", f"{SLUG}%20", "%F0%9F%92%A9" * 8],
)
def test_hostile_addresses_answer_404(accounts: Accounts, frozen: datetime, slug: str) -> None:
    page(accounts.org, ALL)
    assert Client().get(f"/status/{slug}/").status_code == 404
    assert Client().get(f"/status/{slug}/index.json").status_code == 404


def test_anyone_reads_it_without_login_and_caches_may_share_it(accounts: Accounts, frozen: datetime) -> None:
    page(accounts.org, ALL)
    for client in (Client(), client_for(accounts.outsider), client_for(accounts.owner)):
        for url in (URL, JSON_URL):
            response = client.get(url)
            assert response.status_code == 200
            assert response["Cache-Control"] == "public, max-age=30"
            assert response["X-Robots-Tag"] == "noindex, nofollow"
            assert response["Referrer-Policy"] == "no-referrer"
            # Nothing of the visitor: no cookie set, no variant per cookie, no user on the page.
            assert not response.cookies
            assert "Cookie" not in response.get("Vary", "")
            assert b"@example.org" not in response.content
    assert Client().get(JSON_URL)["Access-Control-Allow-Origin"] == "*"
    assert Client().post(URL).status_code == 405


def test_current_status_comes_from_the_deployment_states(accounts: Accounts, frozen: datetime) -> None:
    page(accounts.org, CHAT, EMBED, PRIMARY)
    states({AZURE_4O: "down", OPENAI_4O: "up", OPENAI_EMBED: "up"})
    data = _json()
    assert [(c["name"], c["status"]) for c in data["components"]] == [
        ("Chat completions", "degraded_performance"),  # one of its two deployments is down: failover answers
        ("Embeddings", "operational"),
        ("Primary region", "major_outage"),
    ]
    assert data["status"] == {"indicator": "major", "description": "Major outage"}
    text = Client().get(URL).content.decode()
    assert "Major outage" in text and "Degraded performance" in text


def test_no_state_is_no_data_never_operational(accounts: Accounts, frozen: datetime) -> None:
    page(accounts.org, CHAT, PRIMARY)
    data = _json()
    assert [c["status"] for c in data["components"]] == ["no_data", "no_data"]
    assert data["status"]["description"] == "No current data"


def test_an_open_organisation_incident_degrades_effective_uptime(accounts: Accounts, frozen: datetime) -> None:
    page(accounts.org, ALL, PRIMARY)
    states({AZURE_4O: "up", OPENAI_4O: "up"})
    traffic(accounts.org, day=NOW - timedelta(days=1), ok=20, failed=0)  # gpt-4o is a model it uses
    organization_incident(accounts.org, at=NOW - timedelta(minutes=3))
    assert Incident.objects.get().status == "open"
    data = _json()
    assert [c["status"] for c in data["components"]] == ["degraded_performance", "operational"]
    assert data["incidents"][0]["name"] == "Elevated error rate"
    assert data["incidents"][0]["status"] == "open"


def test_bars_have_one_cell_per_local_day_with_no_data_apart(accounts: Accounts, frozen: datetime) -> None:
    Organization.objects.filter(pk=accounts.org.pk).update(timezone="Pacific/Auckland")  # already 11 March there
    page(accounts.org, ALL)
    yesterday = NOW - timedelta(days=1)
    traffic(accounts.org, day=yesterday, ok=90, failed=10)  # 10 % of one window fails
    days = _json()["components"][0]["days"]
    assert len(days) == 90
    assert (days[0]["date"], days[-1]["date"]) == (str(date(2030, 12, 12)), str(date(2031, 3, 11)))
    by_date = {d["date"]: d for d in days}
    cell = by_date[str(date(2031, 3, 10))]  # 9 March 12:00 UTC is 10 March 01:00 in Auckland
    assert (cell["level"], cell["downtime_minutes"]) == ("minor", 1)
    # 100 % minus one window's error rate (10/100) over the day's 288 windows, truncated: 99.965277…
    assert cell["uptime_percent"] == "99.96"
    assert cell["label"] == "99.96 % uptime, 1 min down"
    assert by_date[str(date(2031, 3, 9))] | {"date": ""} == {
        "date": "", "level": "nodata", "label": "No data", "uptime_percent": None, "downtime_minutes": None,
        "incidents": [],
    }  # fmt: skip
    text = Client().get(URL).content.decode()
    assert "Tue 11 Mar 2031: No data" in text  # today so far has no traffic: "No data", not "No downtime"
    assert "Mon 10 Mar 2031: 99.96 % uptime, 1 min down" in text
    assert text.count("daybar-cell ") == 90


def test_a_deployment_component_shows_its_provider_uptime(accounts: Accounts, frozen: datetime) -> None:
    page(accounts.org, PRIMARY)
    deployment_incident(accounts.org, AZURE_4O, start=NOW - timedelta(days=2, hours=1), minutes=30)
    days = {d["date"]: d for d in _json()["components"][0]["days"]}
    down_day = days[str((NOW - timedelta(days=2)).date())]
    assert (down_day["level"], down_day["downtime_minutes"]) == ("major", 30)
    assert down_day["uptime_percent"] == "97.91"  # 30 of 1440 minutes down, truncated
    assert down_day["incidents"] == ["Primary region: outage"]
    assert days[str((NOW - timedelta(days=40)).date())]["level"] == "nodata"  # before its first state


def test_incidents_show_public_titles_and_a_rewritten_timeline(accounts: Accounts, frozen: datetime) -> None:
    page(accounts.org, CHAT)
    deployment_incident(accounts.org, AZURE_4O, start=NOW - timedelta(days=3), minutes=45)
    organization_incident(accounts.org, at=NOW - timedelta(days=1))
    incidents.evaluate_organizations(now=NOW - timedelta(days=1) + timedelta(minutes=20))  # back under: resolved
    listed = _json()["incidents"]
    assert [(i["name"], i["impact"], i["status"]) for i in listed] == [
        ("Elevated error rate", "major", "resolved"),
        ("Chat completions: an upstream provider is down", "minor", "resolved"),
    ]
    assert [u["status"] for u in listed[1]["updates"]] == ["investigating", "resolved"]
    assert listed[1]["updates"][0]["body"] == "An upstream provider stopped answering."
    days = {d["date"]: d for d in _json()["components"][0]["days"]}
    assert days[str((NOW - timedelta(days=3)).date())]["incidents"] == [
        "Chat completions: an upstream provider is down"
    ]


def test_notes_are_published_only_when_chosen_and_never_another_organisations(
    accounts: Accounts, frozen: datetime
) -> None:
    status_page = page(accounts.org, CHAT)
    routed(accounts.other_org, NOW - timedelta(days=3, minutes=5), through=AZURE_4O)  # both are concerned
    deployment_incident(accounts.org, AZURE_4O, start=NOW - timedelta(days=3), minutes=45)
    incident = Incident.objects.get()
    assert incident.impacts.count() == 2
    for org, message in ((accounts.org, "Our vendor confirmed it."), (accounts.other_org, "Other org secret.")):
        IncidentUpdate.objects.create(incident=incident, kind="note", at=NOW - timedelta(days=3), message=message,
                                      organization=org)  # fmt: skip
    assert "Our vendor confirmed it." not in Client().get(URL).content.decode()
    status_page.show_notes = True
    status_page.save()
    text = Client().get(URL).content.decode()
    assert "Our vendor confirmed it." in text
    assert "Other org secret." not in text and "Other org secret." not in Client().get(JSON_URL).content.decode()


def test_public_names_are_escaped(accounts: Accounts, frozen: datetime) -> None:
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    page(accounts.org, ("all_models", "", evil))
    text = Client().get(URL).content.decode()
    assert evil not in text and "<script>alert" not in text
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in text
    response = Client().get(JSON_URL)
    assert response["Content-Type"] == "application/json"
    assert response.json()["components"][0]["name"] == evil  # data, served as JSON only


def test_the_json_says_what_the_page_says(accounts: Accounts, frozen: datetime) -> None:
    page(accounts.org, ALL, CHAT, PRIMARY)
    states({AZURE_4O: "down", OPENAI_4O: "up"})
    traffic(accounts.org, day=NOW - timedelta(days=2), ok=50, failed=5)
    deployment_incident(accounts.org, AZURE_4O, start=NOW - timedelta(days=3), minutes=45)
    data = _json()
    text = Client().get(URL).content.decode()
    assert data["status"]["description"] in text
    for component in data["components"]:
        assert f">{component['name']}<" in text
        labels = {"degraded_performance": "Degraded performance", "major_outage": "Major outage"}
        assert labels.get(component["status"], "Operational") in text
        for day in component["days"]:
            shown = datetime.fromisoformat(day["date"]).strftime("%a %-d %b %Y")
            incidents_part = f"; {len(day['incidents'])} incident" if day["incidents"] else ""
            assert f'aria-label="{shown}: {day["label"]}{incidents_part}' in text
    for incident in data["incidents"]:
        assert f"<h3>{incident['name']}</h3>" in text
        for update in incident["updates"]:
            assert update["body"] in text

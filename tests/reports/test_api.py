"""GET /api/orgs/<id>/reports/sla/: JSON, CSV and PDF for members (session or management key); 404 for
anyone else; 400 naming the parameter for bad input; a valid "No data" report for a period without traffic."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.test import Client

from tests.accounts.factories import make_management_key
from tests.conftest import Accounts
from tests.reports.helpers import january

JANUARY = {"start": "2026-01-01", "end": "2026-01-31", "timezone": "UTC"}


def _url(org_id: int) -> str:
    return f"/api/orgs/{org_id}/reports/sla/"


@pytest.fixture
def member(client: Client, accounts: Accounts) -> Client:
    client.force_login(accounts.member)
    return client


def test_a_member_gets_the_json_report(member: Client, accounts: Accounts) -> None:
    january(accounts.org.pk)
    response = member.get(_url(accounts.org.pk), JANUARY)
    assert response.status_code == 200
    body = response.json()
    assert body["organization"] == {"id": accounts.org.pk, "name": "Acme"}
    assert body["period"]["start"] == "2026-01-01" and body["period"]["in_progress"] is False
    assert body["target_percent"] == "99.900"
    # Half of the requests fail in 12 windows of 8928: 100 * (1 - 6 / 8928) = 99.9327..., cut.
    assert body["effective_uptime_percent"] == "99.932"
    assert body["downtime_minutes"] == 60
    assert body["incidents"]["count"] == 1 and body["incidents"]["affected_requests"] == 60
    assert body["traffic"]["rescued"] == 60
    assert [p["deployment"] for p in body["providers"]] == ["sim-a/chat"]
    assert len([d for d in body["days"] if d["component"] == "effective"]) == 31


def test_a_management_key_gets_the_csv_of_days_and_of_incidents(client: Client, accounts: Accounts) -> None:
    january(accounts.org.pk)
    _, plaintext = make_management_key(accounts.org, accounts.owner)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {plaintext}"}
    response = client.get(_url(accounts.org.pk), {**JANUARY, "format": "csv"}, **auth)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="sla-' in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert len(rows) == 31 * 2  # one row per day per component: effective, sim-a/chat
    tenth = next(r for r in rows if r["day"] == "2026-01-10" and r["component"] == "effective")
    assert tenth["downtime_minutes"] == "60" and tenth["requests"] == str(40 + 120)
    incidents = client.get(_url(accounts.org.pk), {**JANUARY, "format": "csv", "table": "incidents"}, **auth)
    (row,) = list(csv.DictReader(io.StringIO(incidents.content.decode())))
    assert row["title"] == "errors over 5 %" and row["duration_seconds"] == "3600"


def test_the_pdf_is_a_pdf(member: Client, accounts: Accounts) -> None:
    response = member.get(_url(accounts.org.pk), {**JANUARY, "format": "pdf"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")


def test_a_period_without_data_says_no_data_never_100(member: Client, accounts: Accounts) -> None:
    body = member.get(_url(accounts.org.pk), JANUARY).json()
    assert body["no_data"] is True
    assert body["effective_uptime_percent"] is None
    assert body["downtime_minutes"] is None and body["error_budget"] is None
    assert body["service_credit"]["percent"] is None
    assert body["target_met"] is None
    assert {d["uptime_percent"] for d in body["days"]} == {None}
    assert body["no_data_days"] == 31


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"start": "2026-01-31", "end": "2026-01-01"}, "end"),  # end before start
        ({"start": "2024-01-01", "end": "2025-01-01"}, "end"),  # 367 days
        ({"start": "2026-01-01", "end": "2026-01-31", "timezone": "Mars/Olympus"}, "timezone"),
        ({"start": "2026-01-01", "end": "2026-01-31", "timezone": "../../etc/passwd"}, "timezone"),
        ({"start": "2026-01-01", "end": "2026-01-31", "timezone": "x" * 500}, "timezone"),
        ({"start": "01/01/2026", "end": "2026-01-31"}, "start"),
        ({"start": "2026-02-30", "end": "2026-03-01"}, "start"),
        ({"start": "2026-01-01"}, "end"),
        ({"start": "-2026-01-01", "end": "2026-01-31"}, "start"),
        ({"start": "0001-01-01", "end": "0001-01-02"}, "start"),
        ({"start": "2999-12-31", "end": "2999-12-31"}, "start"),  # not started yet
        ({"start": "2026-01-01", "end": "2026-01-31", "format": "xlsx"}, "format"),
        ({"start": "2026-01-01", "end": "2026-01-31", "format": "csv", "table": "keys"}, "table"),
    ],
)
def test_bad_input_is_a_400_naming_the_parameter(
    member: Client, accounts: Accounts, params: dict[str, str], field: str
) -> None:
    response = member.get(_url(accounts.org.pk), params)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert field in response.json()


def test_a_range_of_exactly_366_days_is_fine(member: Client, accounts: Accounts) -> None:
    response = member.get(_url(accounts.org.pk), {"start": "2024-01-01", "end": "2024-12-31"})
    assert response.status_code == 200
    assert len(response.json()["days"]) == 366


def test_another_organisations_report_is_a_404(client: Client, accounts: Accounts) -> None:
    client.force_login(accounts.outsider)
    assert client.get(_url(accounts.org.pk), JANUARY).status_code == 404
    assert client.get(_url(accounts.org.pk), {**JANUARY, "format": "pdf"}).status_code == 404
    assert client.get(_url(2**70), JANUARY).status_code == 404


def test_a_key_of_another_organisation_is_a_404(client: Client, accounts: Accounts) -> None:
    _, plaintext = make_management_key(accounts.other_org, accounts.outsider)
    response = client.get(_url(accounts.org.pk), JANUARY, HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    assert response.status_code == 404


def test_anonymous_callers_are_refused(client: Client, accounts: Accounts) -> None:
    assert client.get(_url(accounts.org.pk), JANUARY).status_code in (401, 403)


def test_the_schema_documents_the_report(client: Client, accounts: Accounts) -> None:
    schema: Any = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert schema.status_code == 200

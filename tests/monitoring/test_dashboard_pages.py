"""The dashboard's pages: the overview headline, a model's and a deployment's detail, the incidents timeline.
Members see them, anyone else gets 404; bad controls are a 400 naming the parameter; every page reads
rollups only, in a pinned number of queries. The clock is frozen at NOW (dashboard_helpers)."""

from __future__ import annotations

import gzip
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import plotly
import plotly.graph_objects as go
import pytest

from accounts.models import Organization
from monitoring.charts import figure_data
from monitoring.uptime import truncate_percent
from monitoring.models import Incident, IncidentImpact, IncidentScope, IncidentUpdate, MaintenanceWindow, RequestDay
from tests.accounts.helpers import assert_login_required, assert_not_found_for, client_for
from tests.conftest import Accounts
from tests.monitoring.dashboard_helpers import BACKUP, MODEL, NOW, PRIMARY, states, traffic

pytestmark = pytest.mark.usefixtures("gateway_config", "frozen")
from tests.monitoring.dashboard_helpers import frozen, gateway_config  # noqa: E402, F401  (fixtures)

START = NOW - timedelta(hours=3)


def _urls(org: Organization) -> list[str]:
    return [
        f"/orgs/{org.pk}/",
        f"/orgs/{org.pk}/dashboard/models/{MODEL}/",
        f"/orgs/{org.pk}/dashboard/deployments/{PRIMARY}/",
        f"/orgs/{org.pk}/dashboard/incidents/",
    ]


@pytest.fixture
def busy(accounts: Accounts) -> Accounts:
    """Three hours of traffic for Acme, minutes 60 to 69 failing on PRIMARY and half rescued by BACKUP."""
    traffic(accounts.org.pk, start=START, minutes=180, failing=set(range(60, 70)))
    states(START)
    incident = Incident.objects.create(
        scope=IncidentScope.DEPLOYMENT,
        deployment=PRIMARY,
        title=f"{PRIMARY} down",
        opened_at=START + timedelta(hours=1),
        resolved_at=START + timedelta(hours=1, minutes=10),
        status="resolved",
    )
    IncidentImpact.objects.create(
        incident=incident, organization=accounts.org, affected_requests=20, rescued_requests=20
    )
    IncidentUpdate.objects.create(incident=incident, kind="opened", at=incident.opened_at, message="sim-a/chat is down")
    IncidentUpdate.objects.create(
        incident=incident,
        kind="note",
        at=incident.opened_at + timedelta(minutes=5),
        message="Vendor confirmed",
        organization=accounts.org,
    )
    MaintenanceWindow.objects.create(
        organization=accounts.org,
        starts_at=START - timedelta(hours=1),
        ends_at=START - timedelta(minutes=30),
        title="Planned upgrade",
    )
    return accounts


def _page(accounts: Accounts, url: str, **params: str) -> Any:
    response = client_for(accounts.owner).get(url, params)
    return response


def test_overview_puts_effective_uptime_beside_each_deployments_own(busy: Accounts) -> None:
    response = _page(busy, f"/orgs/{busy.org.pk}/")
    assert response.status_code == 200
    headline = response.context["headline"]
    [row] = headline.models
    assert row.model == MODEL
    assert [d.deployment for d in row.deployments] == [PRIMARY, BACKUP]
    assert [d.state for d in row.deployments] == ["unknown", "unknown"]  # no DeploymentStatus row yet
    page = response.content.decode()
    assert "Effective uptime" in page and "Rescued by failover" in page
    assert f"/dashboard/deployments/{PRIMARY}/" in page and f"/dashboard/models/{MODEL}/" in page
    # PRIMARY was down 10 minutes of its 3 recorded hours in every period: 100 - 10/180 → 94.44 %, cut.
    assert [d.percent for d in row.deployments[0].uptimes] == [row.deployments[0].uptimes[0].percent] * 4
    assert "94.44 %" in page


def test_overview_counts_requests_rescued_by_failover_with_their_share(busy: Accounts) -> None:
    page = _page(busy, f"/orgs/{busy.org.pk}/").content.decode()
    # 180 minutes x 4 requests; 10 failing minutes rescue 2 of their 4: 20 of 720, 2.77… % cut to 2.77 %.
    assert "2.77 % of 720" in page


def test_overview_lists_open_incidents(busy: Accounts) -> None:
    Incident.objects.create(
        scope=IncidentScope.ORGANIZATION,
        organization=busy.org,
        title="Your error rate is over 5 %",
        opened_at=NOW - timedelta(minutes=5),
    )
    page = _page(busy, f"/orgs/{busy.org.pk}/").content.decode()
    assert "Your error rate is over 5 %" in page
    assert "sim-a/chat down" not in page.split("Open incidents")[1].split("</section>")[0]  # resolved


def test_overview_before_any_traffic_shows_get_started_and_no_figure(accounts: Accounts) -> None:
    response = _page(accounts, f"/orgs/{accounts.org.pk}/")
    page = response.content.decode()
    assert "Get started" in page and "Create an API key" in page
    assert "headline" not in response.context
    assert "100.00 %" not in page


def test_model_page_shows_range_figures_bars_and_charts(busy: Accounts) -> None:
    response = _page(busy, f"/orgs/{busy.org.pk}/dashboard/models/{MODEL}/", range="24h", tz="Europe/Berlin")
    assert response.status_code == 200
    page = response.content.decode()
    assert response.context["stats"].requests == 720
    assert len(response.context["bar"]) == 90
    deployments = response.context["deployments"]
    assert [(d, truncate_percent(u.percent)) for d, _, _, u in deployments] == [(PRIMARY, "94.44"), (BACKUP, "100.00")]
    titles = [c.title for c in response.context["charts"]]
    assert titles == [
        "Error rate by failure class",
        "Latency p50 / p95 / p99",
        "Time to first token p50 / p95 / p99",
        "Throughput: requests per minute",
    ]
    assert all(not c.empty for c in response.context["charts"])
    assert page.count('type="application/json" data-chart=') == 4
    for chart in response.context["charts"]:
        layout = figure_data(chart)["layout"]
        assert layout["title"]["text"] == chart.title
        assert layout["xaxis"]["title"]["text"] == "Time (Europe/Berlin)"
        assert layout["yaxis"]["title"]["text"] in {"% of requests", "milliseconds", "requests / min"}
        assert layout["legend"]["orientation"] == "h"
        go.Figure(figure_data(chart))  # a valid plotly figure: graph objects validate every property
    latency = figure_data(response.context["charts"][1])
    assert [t["name"] for t in latency["data"]] == ["p50", "p95", "p99", "Incident"]
    assert len(latency["layout"]["shapes"]) == 1  # the incident, shaded


def test_deployment_page_shows_its_states_incidents_and_hides_volume_from_members(busy: Accounts) -> None:
    response = _page(busy, f"/orgs/{busy.org.pk}/dashboard/deployments/{PRIMARY}/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "94.44 %" in page  # its own uptime over the last 24 h: 10 minutes down in 3 recorded hours
    assert [c.new for c in response.context["changes"]] == ["up", "down", "up"]
    assert [c.title for c in response.context["charts"]][-1] == "Time to first token p50 / p95 / p99"
    assert "Throughput" not in page  # attempts of every organisation: the operator's to see


def test_incidents_timeline_shows_notes_and_maintenance(busy: Accounts) -> None:
    page = _page(busy, f"/orgs/{busy.org.pk}/dashboard/incidents/", range="24h").content.decode()
    assert "sim-a/chat down" in page and "Vendor confirmed" in page
    assert "Planned upgrade" in page
    assert "20 affected, 20 rescued by failover" in page


def test_a_range_with_no_data_says_no_data_never_100(busy: Accounts) -> None:
    params = {"range": "custom", "from": "2025-01-01", "to": "2025-01-31", "tz": "UTC"}
    response = _page(busy, f"/orgs/{busy.org.pk}/dashboard/models/{MODEL}/", **params)
    assert response.status_code == 200
    page = response.content.decode()
    assert response.context["uptime"].percent is None
    assert "No data" in page and "100.00 %" not in page
    assert all(c.empty for c in response.context["charts"])


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"range": "custom", "from": "2026-03-10", "to": "2026-03-01"}, "to", "on or after the start date"),
        ({"range": "custom", "from": "2024-01-01", "to": "2025-06-01"}, "from", "at most 366 days"),
        ({"range": "custom", "from": "2026-03-10"}, "to", "needs both dates"),
        ({"range": "custom", "from": "yesterday", "to": "2026-03-01"}, "from", "Enter a valid date"),
        ({"range": "custom", "from": "0001-01-01", "to": "0001-01-02"}, "from", "Choose a date from"),
        ({"range": "custom", "from": "9999-12-30", "to": "9999-12-31"}, "from", "Choose a date from"),
        ({"tz": "Mars/Olympus_Mons"}, "tz", "Unknown timezone"),
        ({"tz": "../../etc/passwd"}, "tz", "Unknown timezone"),
        ({"tz": "x" * 500}, "tz", "at most 64 characters"),
        ({"range": "1000y"}, "range", "Select a valid choice"),
    ],
)
def test_bad_controls_are_a_400_naming_the_parameter(
    busy: Accounts, params: dict[str, str], field: str, message: str
) -> None:
    for url in _urls(busy.org)[1:]:
        response = _page(busy, url, **params)
        assert response.status_code == 400, (url, params)
        assert message in " ".join(response.context["form"].errors[field])
        assert f"({field})" in response.content.decode()  # the label names the query parameter


def test_the_page_links_keep_the_range_and_timezone(busy: Accounts) -> None:
    page = _page(busy, f"/orgs/{busy.org.pk}/dashboard/models/{MODEL}/", range="7d", tz="Asia/Tokyo")
    assert f"/dashboard/deployments/{PRIMARY}/?range=7d&amp;tz=Asia%2FTokyo" in page.content.decode()


def test_members_see_every_page(busy: Accounts) -> None:
    for url in _urls(busy.org):
        assert client_for(busy.member).get(url).status_code == 200, url


def test_outsiders_get_404_on_every_page(busy: Accounts) -> None:
    for url in _urls(busy.org):
        response = assert_not_found_for(busy.outsider, url)
        assert b"sim-a" not in response.content


def test_pages_require_login(busy: Accounts) -> None:
    for url in _urls(busy.org):
        assert_login_required(url)


def test_a_model_or_deployment_the_organisation_does_not_use_is_404(busy: Accounts) -> None:
    owner = client_for(busy.owner)
    assert owner.get(f"/orgs/{busy.org.pk}/dashboard/models/other/").status_code == 404
    assert owner.get(f"/orgs/{busy.org.pk}/dashboard/deployments/sim-b/other/").status_code == 404
    assert owner.get(f"/orgs/{busy.org.pk}/dashboard/models/{quote('<script>')}/").status_code == 404
    # Another organisation's traffic does not make a model visible to Acme's owner.
    traffic(busy.other_org.pk, start=START, minutes=1)
    assert client_for(busy.outsider).get(f"/orgs/{busy.other_org.pk}/dashboard/models/{MODEL}/").status_code == 200


@pytest.mark.parametrize(
    ("page", "queries"),
    [(0, 19), (1, 20), (2, 17), (3, 9)],
)
def test_each_page_renders_in_a_pinned_number_of_queries(
    busy: Accounts, django_assert_num_queries: Any, page: int, queries: int
) -> None:
    client = client_for(busy.owner)
    url = _urls(busy.org)[page]
    client.get(url)  # the session is loaded and saved once
    with django_assert_num_queries(queries):
        assert client.get(url).status_code == 200


def test_plotly_js_is_served_from_the_plotly_package(busy: Accounts) -> None:
    page = _page(busy, f"/orgs/{busy.org.pk}/dashboard/models/{MODEL}/").content.decode()
    url = f"/assets/plotly-{plotly.__version__}.min.js"
    assert f'<script src="{url}" defer>' in page  # no CDN
    bundled = (Path(plotly.__file__).parent / "package_data" / "plotly.min.js").read_bytes()
    plain = client_for().get(url)
    assert plain.status_code == 200 and plain.content == bundled
    assert "immutable" in plain["Cache-Control"]
    zipped = client_for().get(url, headers={"Accept-Encoding": "gzip, br"})
    assert zipped["Content-Encoding"] == "gzip" and gzip.decompress(zipped.content) == bundled
    assert client_for().get("/assets/plotly-0.0.1.min.js").status_code == 404


def test_incidents_timeline_reads_in_the_chosen_timezone(busy: Accounts) -> None:
    page = _page(busy, f"/orgs/{busy.org.pk}/dashboard/incidents/", range="24h", tz="Europe/Berlin").content.decode()
    # Opened 10:00 UTC on 31 March 2026: 12:00 in Berlin (summer time since the 29th).
    assert "2026-03-31 12:00 → 2026-03-31 12:10 (Europe/Berlin)" in page


def test_model_names_clients_made_up_are_escaped_or_left_out(busy: Accounts) -> None:
    for name in ("<script>alert(1)</script>", "line\nbreak", "what?#x"):
        traffic(busy.org.pk, start=START, minutes=1)
        RequestDay.objects.filter(org_id=busy.org.pk, model=MODEL).update(model=name)
    page = _page(busy, f"/orgs/{busy.org.pk}/").content.decode()
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    assert "line\nbreak" not in page
    assert "/dashboard/models/what%3F%23x/" in page
    assert client_for(busy.owner).get(f"/orgs/{busy.org.pk}/dashboard/models/what%3F%23x/").status_code == 200

"""Query counts of the status pages, pinned. The public page reads the rollups, state changes and incidents
only; monitoring.day_bars computes the bars of a kind in one batch (effective_bars: maintenance windows, two
window sums and the incidents = 4 queries; provider_bars: state changes, maintenance windows and incidents =
3). So the count is fixed, whatever the number of components."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.test import Client
from pytest_django import DjangoAssertNumQueries

from accounts.models import User
from tests.accounts.helpers import client_for
from tests.conftest import Accounts
from tests.statuspage.seed import (
    AZURE_4O,
    NOW,
    OPENAI_4O,
    OPENAI_EMBED,
    SLUG,
    deployment_incident,
    organization_incident,
    page,
    probe,
    states,
)

# page, components, models used (for "all models"), deployment states, incidents + their timelines and impacts
FIXED = 7
EFFECTIVE_BARS = 4
PROVIDER_BARS = 3


@pytest.fixture
def history(accounts: Accounts, frozen: datetime) -> None:
    deployment_incident(accounts.org, AZURE_4O, start=NOW - timedelta(days=5), minutes=30)
    organization_incident(accounts.org, at=NOW - timedelta(days=2))
    states({AZURE_4O: "up", OPENAI_4O: "up", OPENAI_EMBED: "up"})


@pytest.mark.parametrize("url", [f"/status/{SLUG}/", f"/status/{SLUG}/index.json"])
def test_one_component(
    accounts: Accounts, history: None, django_assert_num_queries: DjangoAssertNumQueries, url: str
) -> None:
    page(accounts.org, ("all_models", "", "API"))
    with django_assert_num_queries(FIXED + EFFECTIVE_BARS):
        assert Client().get(url).status_code == 200


def test_ten_components_cost_no_more_queries_than_one_of_each_kind(
    accounts: Accounts, history: None, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    models = [("model", f"model-{n}", f"Model {n}") for n in range(6)]
    deployments = [("deployment", d, f"Region {n}") for n, d in enumerate((AZURE_4O, OPENAI_4O, OPENAI_EMBED))]
    page(accounts.org, ("all_models", "", "API"), *models, *deployments)
    with django_assert_num_queries(FIXED + EFFECTIVE_BARS + PROVIDER_BARS):  # 14
        assert Client().get(f"/status/{SLUG}/").status_code == 200


def test_a_disabled_or_malformed_address_costs_one_query_or_none(
    accounts: Accounts, frozen: datetime, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    page(accounts.org, ("all_models", "", "API"), enabled=False)
    with django_assert_num_queries(1):
        assert Client().get(f"/status/{SLUG}/").status_code == 404
    with django_assert_num_queries(0):
        assert Client().get(f"/status/{'x' * 10_000}/").status_code == 404


def test_the_settings_page(
    accounts: Accounts, history: None, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    page(accounts.org, *[("model", f"model-{n}", f"Model {n}") for n in range(10)])
    client = client_for(accounts.owner)
    client.get(f"/orgs/{accounts.org.pk}/status-page/")  # the first visit also saves the current organisation
    # session, user, membership, page, its components, models used (rollups), the header's organisation switcher
    with django_assert_num_queries(7):
        assert client.get(f"/orgs/{accounts.org.pk}/status-page/").status_code == 200


def test_the_operator_page(
    accounts: Accounts, history: None, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    User.objects.filter(pk=accounts.owner.pk).update(is_staff=True)
    for deployment in (AZURE_4O, OPENAI_4O, OPENAI_EMBED):
        probe(deployment)
    client = client_for(accounts.owner)
    # session, user, the header's organisation switcher; deployments no longer configured, states, last
    # probes; the bars of every deployment
    with django_assert_num_queries(6 + PROVIDER_BARS):
        assert client.get("/operator/status/").status_code == 200

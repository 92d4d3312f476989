"""The recent-requests page: each request with its attempt chain, so that failover can be seen."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from accounts.services import create_api_key
from monitoring import recent_requests as recent
from monitoring.models import Attempt, Request
from tests.accounts.helpers import assert_login_required, assert_not_found_for, client_for
from tests.conftest import Accounts

SECRET_ERROR = "upstream said: invalid key sk-prov-SECRET-0001 at http://10.1.2.3:9999"


def url(accounts: Accounts) -> str:
    return f"/orgs/{accounts.org.pk}/requests/"


def traffic(
    accounts: Accounts,
    *,
    ago: timedelta,
    chain: list[tuple[str, int | None, str, float]],
    org_id: int | None = None,
    key_id: int | None = None,
    request_id: str | None = None,
) -> Request:
    """One request and its attempts: chain is (provider, status code, outcome, latency ms) per attempt."""
    started = timezone.now() - ago
    org_id = org_id or accounts.org.pk
    key_id = key_id or create_api_key(organization=accounts.org, name=f"key-{uuid.uuid4().hex[:6]}").api_key.pk
    request_id = request_id or uuid.uuid4().hex
    final_outcome = chain[-1][2]
    failed = sum(1 for _, _, outcome, _ in chain if outcome != "ok")
    row = Request.objects.create(
        id=uuid.uuid4(),
        request_id=request_id,
        started_at=started,
        org_id=org_id,
        key_id=key_id,
        inbound="openai.chat",
        requested_model="gpt-4o-mini",
        model="gpt-4o-mini" if final_outcome == "ok" else "",
        provider=chain[-1][0] if final_outcome == "ok" else "",
        stream=False,
        status=200 if final_outcome == "ok" else 502,
        outcome=final_outcome,
        error_code="" if final_outcome == "ok" else final_outcome,
        attempts=len(chain),
        failovers=failed if final_outcome == "ok" else failed - 1,
        rescued=final_outcome == "ok" and failed > 0,
        latency_ms=sum(c[3] for c in chain),
        ttft_ms=None,
        prompt_tokens=10,
        completion_tokens=5,
        cost_usd=Decimal("0.000049"),
    )
    offset = 0.0
    for n, (provider, status, outcome, latency) in enumerate(chain, 1):
        Attempt.objects.create(
            id=uuid.uuid4(),
            request_id=request_id,
            attempt=n,
            started_at=started + timedelta(milliseconds=offset),
            org_id=org_id,
            key_id=key_id,
            requested_model="gpt-4o-mini",
            model="gpt-4o-mini",
            provider=provider,
            deployment=f"{provider}/gpt-4o-mini",
            stream=False,
            outcome=outcome,
            status_code=status,
            error="" if outcome == "ok" else SECRET_ERROR,
            latency_ms=latency,
            rescued=outcome == "ok" and n > 1,
            final=n == len(chain),
            cost_usd=Decimal("0.000049") if outcome == "ok" else None,
        )
        offset += latency
    return row


def test_shows_each_request_with_its_attempt_chain_and_latencies(accounts: Accounts) -> None:
    traffic(
        accounts,
        ago=timedelta(minutes=5),
        chain=[
            ("sim-azure", None, "timeout", 3012.0),
            ("sim-openai", 503, "server_error", 51.0),
            ("sim-groq", 200, "ok", 120.0),
        ],
    )
    response = client_for(accounts.member).get(url(accounts))
    assert response.status_code == 200
    page = response.content.decode()
    assert page.index("sim-azure") < page.index("sim-openai") < page.index("sim-groq")
    assert "<strong>timeout</strong>" in page and "3012 ms" in page
    assert "<strong>503</strong>" in page and "51 ms" in page
    assert "<strong>200</strong>" in page and "120 ms" in page
    assert "rescued" in page
    assert "$0.000049" in page


def test_no_secret_from_an_upstream_error_is_shown(accounts: Accounts) -> None:
    traffic(
        accounts,
        ago=timedelta(minutes=1),
        chain=[("sim-openai", 401, "misconfigured", 10.0), ("sim-groq", 200, "ok", 90.0)],
    )
    page = client_for(accounts.owner).get(url(accounts)).content.decode()
    assert "sim-groq" in page
    assert "sk-prov-SECRET" not in page and "10.1.2.3" not in page


def test_newest_first_and_only_the_last_day(accounts: Accounts) -> None:
    traffic(accounts, ago=timedelta(hours=2), chain=[("older-provider", 200, "ok", 10.0)])
    traffic(accounts, ago=timedelta(minutes=2), chain=[("newer-provider", 200, "ok", 10.0)])
    traffic(accounts, ago=timedelta(days=1, minutes=5), chain=[("stale-provider", 200, "ok", 10.0)])
    page = client_for(accounts.owner).get(url(accounts)).content.decode()
    assert page.index("newer-provider") < page.index("older-provider")
    assert "stale-provider" not in page


def test_at_most_the_latest_hundred(accounts: Accounts) -> None:
    key = create_api_key(organization=accounts.org, name="busy").api_key
    for n in range(recent.LIMIT + 5):
        traffic(accounts, ago=timedelta(seconds=n + 1), chain=[(f"p{n}-end", 200, "ok", 1.0)], key_id=key.pk)
    items = recent.recent_requests(organization_id=accounts.org.pk, now=timezone.now())
    assert len(items) == recent.LIMIT
    assert items[0].attempts[0].provider == "p0-end"


@pytest.mark.parametrize(
    ("query", "shown", "hidden"),
    [
        ({"rescued": "yes"}, "rescued-provider", "plain-provider"),
        ({"rescued": "no"}, "plain-provider", "rescued-provider"),
        ({"outcome": "failed"}, "failed-provider", "plain-provider"),
        ({"outcome": "ok"}, "plain-provider", "failed-provider"),
        ({"outcome": "server_error"}, "failed-provider", "rescued-provider"),
    ],
)
def test_filters_by_outcome_and_rescue(accounts: Accounts, query: dict[str, str], shown: str, hidden: str) -> None:
    traffic(accounts, ago=timedelta(minutes=1), chain=[("plain-provider", 200, "ok", 10.0)])
    traffic(
        accounts,
        ago=timedelta(minutes=2),
        chain=[("x", 503, "server_error", 10.0), ("rescued-provider", 200, "ok", 10.0)],
    )
    traffic(accounts, ago=timedelta(minutes=3), chain=[("failed-provider", 503, "server_error", 10.0)])
    response = client_for(accounts.owner).get(url(accounts), query)
    assert response.status_code == 200
    page = response.content.decode()
    assert shown in page and hidden not in page


@pytest.mark.parametrize(
    ("query", "named"),
    [({"outcome": "exploded"}, "outcome"), ({"rescued": "maybe"}, "rescued"), ({"outcome": "x" * 5000}, "outcome")],
)
def test_a_bad_filter_is_a_400_naming_the_parameter(accounts: Accounts, query: dict[str, str], named: str) -> None:
    response = client_for(accounts.owner).get(url(accounts), query)
    assert response.status_code == 400
    assert f"{named}:" in response.content.decode()


def test_a_client_reusing_a_request_id_gets_each_attempt_on_its_own_request(accounts: Accounts) -> None:
    key = create_api_key(organization=accounts.org, name="reuser").api_key
    traffic(
        accounts, ago=timedelta(minutes=10), chain=[("first-call", 200, "ok", 10.0)], key_id=key.pk, request_id="same"
    )
    traffic(
        accounts, ago=timedelta(minutes=1), chain=[("second-call", 200, "ok", 10.0)], key_id=key.pk, request_id="same"
    )
    items = recent.recent_requests(organization_id=accounts.org.pk, now=timezone.now())
    assert [[a.provider for a in item.attempts] for item in items] == [["second-call"], ["first-call"]]


def test_another_organisations_requests_are_not_listed(accounts: Accounts) -> None:
    traffic(
        accounts,
        ago=timedelta(minutes=1),
        chain=[("theirs", 200, "ok", 10.0)],
        org_id=accounts.other_org.pk,
        key_id=999,
    )
    page = client_for(accounts.owner).get(url(accounts)).content.decode()
    assert "theirs" not in page


def test_outsider_gets_404(accounts: Accounts) -> None:
    traffic(accounts, ago=timedelta(minutes=1), chain=[("private-provider", 200, "ok", 10.0)])
    response = assert_not_found_for(accounts.outsider, url(accounts))
    assert b"private-provider" not in response.content


def test_requires_login(accounts: Accounts) -> None:
    assert_login_required(url(accounts))


def test_the_page_takes_the_same_queries_for_one_request_or_a_hundred(
    accounts: Accounts, django_assert_num_queries: object
) -> None:
    client = client_for(accounts.owner)
    key = create_api_key(organization=accounts.org, name="k").api_key
    traffic(
        accounts,
        ago=timedelta(minutes=1),
        chain=[("a", 503, "server_error", 1.0), ("b", 200, "ok", 1.0)],
        key_id=key.pk,
    )
    client.get(url(accounts))
    # session, user, membership, requests, key names, attempts, the organisation switcher
    with django_assert_num_queries(7):  # type: ignore[operator]
        client.get(url(accounts))
    for n in range(99):
        traffic(
            accounts,
            ago=timedelta(seconds=n + 2),
            chain=[("a", 503, "server_error", 1.0), ("b", 200, "ok", 1.0)],
            key_id=key.pk,
        )
    with django_assert_num_queries(7):  # type: ignore[operator]
        client.get(url(accounts))


def test_both_reads_can_use_an_index(accounts: Accounts) -> None:
    """Bounded by the org's time index and the request id index, never a scan of the raw tables."""
    now = timezone.now()
    requests = Request.objects.filter(org_id=1, started_at__gte=now - recent.WINDOW, started_at__lte=now)
    attempts = Attempt.objects.filter(org_id=1, request_id__in=["a", "b"], started_at__gte=now - recent.WINDOW)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        for queryset in (requests.order_by("-started_at")[: recent.LIMIT], attempts):
            sql, params = queryset.query.sql_with_params()
            cursor.execute(f"EXPLAIN {sql}", params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
            assert "Seq Scan" not in plan, plan
            assert "Index" in plan, plan

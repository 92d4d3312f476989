from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from accounts.services import create_api_key
from tests.accounts.helpers import assert_login_required, assert_not_found_for, client_for
from tests.conftest import Accounts


def url(accounts: Accounts) -> str:
    return f"/orgs/{accounts.org.pk}/keys/"


def test_lists_keys_with_their_status(accounts: Accounts) -> None:
    now = timezone.now()
    create_api_key(organization=accounts.org, name="live", created_by=accounts.owner)
    revoked = create_api_key(organization=accounts.org, name="gone", created_by=accounts.member).api_key
    revoked.revoked_at = now
    revoked.save()
    create_api_key(organization=accounts.org, name="old", expires_at=now - timedelta(days=1))
    response = client_for(accounts.owner).get(url(accounts))
    assert response.status_code == 200
    page = response.content.decode()
    for text in (
        "live",
        "gone",
        "old",
        "status-active",
        "status-revoked",
        "status-expired",
        "owner@example.org",
        "member@example.org",
        revoked.prefix,
    ):
        assert text in page


def test_members_see_the_list_but_manage_only_their_own_keys(accounts: Accounts) -> None:
    own = create_api_key(organization=accounts.org, name="own", created_by=accounts.member).api_key
    other = create_api_key(organization=accounts.org, name="other", created_by=accounts.owner).api_key
    page = client_for(accounts.member).get(url(accounts)).content.decode()
    assert f"/keys/{own.pk}/revoke/" in page
    assert f"/keys/{other.pk}/revoke/" not in page


def test_the_key_itself_is_never_listed(verified: Accounts) -> None:
    client = client_for(verified.owner)
    created = client.post(f"/orgs/{verified.org.pk}/keys/new/", {"name": "ci"})
    assert created.status_code == 200
    page = client.get(url(verified)).content.decode()
    assert "ci" in page
    assert "sk-gw-" in page  # the prefix is shown...
    secret = created.content.decode().split('id="api-key"')[1].split('value="')[1].split('"')[0]
    assert secret.startswith("sk-gw-")
    assert secret not in page  # ...the key is not


def test_other_organisations_keys_are_not_listed(accounts: Accounts) -> None:
    create_api_key(organization=accounts.other_org, name="outsiders-key")
    assert b"outsiders-key" not in client_for(accounts.owner).get(url(accounts)).content


def test_requires_login(accounts: Accounts) -> None:
    assert_login_required(url(accounts))


def test_outsider_gets_404(accounts: Accounts) -> None:
    create_api_key(organization=accounts.org, name="secret-name")
    response = assert_not_found_for(accounts.outsider, url(accounts))
    assert b"secret-name" not in response.content


def test_each_key_shows_its_limits_and_its_spend_this_month_against_its_budget(accounts: Accounts) -> None:
    from decimal import Decimal

    from tests.accounts.factories import make_attempt

    capped = create_api_key(
        organization=accounts.org, name="capped", rpm_limit=60, tpm_limit=10000, monthly_budget_usd=Decimal("2.00")
    ).api_key
    free = create_api_key(organization=accounts.org, name="free").api_key
    now = timezone.now()
    make_attempt(accounts.org, started_at=now, key=capped, cost_usd="0.5")
    make_attempt(accounts.org, started_at=now, key=free, cost_usd="0.000049")
    # Last month's spend is not this month's.
    make_attempt(accounts.org, started_at=now.replace(day=1) - timedelta(days=1), key=capped, cost_usd="9")
    page = client_for(accounts.owner).get(url(accounts)).content.decode()
    assert "60 req/min" in page and "10,000 tokens/min" in page
    assert '$0.50 <span class="muted">of $2.00</span>' in page
    assert 'value="25"' in page  # the budget meter
    assert '$0.000049 <span class="muted">no budget</span>' in page


def test_a_rotated_key_shows_the_spend_of_its_lineage(accounts: Accounts) -> None:
    from decimal import Decimal

    from accounts.services import rotate_api_key
    from tests.accounts.factories import make_attempt

    old = create_api_key(
        organization=accounts.org, name="rotating", created_by=accounts.owner, monthly_budget_usd=Decimal("10")
    ).api_key
    make_attempt(accounts.org, started_at=timezone.now(), key=old, cost_usd="1")
    new = rotate_api_key(api_key=old, rotated_by=accounts.owner).api_key
    make_attempt(accounts.org, started_at=timezone.now(), key=new, cost_usd="2")
    page = client_for(accounts.owner).get(url(accounts)).content.decode()
    assert page.count('$3.00 <span class="muted">of $10.00</span>') == 2


def test_the_key_list_takes_the_same_queries_for_one_key_or_twenty(
    accounts: Accounts, django_assert_num_queries: object
) -> None:
    from tests.accounts.factories import make_attempt

    client = client_for(accounts.owner)
    key = create_api_key(organization=accounts.org, name="k0", created_by=accounts.member).api_key
    make_attempt(accounts.org, started_at=timezone.now(), key=key, cost_usd="0.01")
    client.get(url(accounts))  # the session is warm
    # session, user, membership, keys, spend by key, key names, the organisation switcher
    with django_assert_num_queries(7):  # type: ignore[operator]
        client.get(url(accounts))
    for n in range(1, 20):
        key = create_api_key(organization=accounts.org, name=f"k{n}", created_by=accounts.member).api_key
        make_attempt(accounts.org, started_at=timezone.now(), key=key, cost_usd="0.01")
    with django_assert_num_queries(7):  # type: ignore[operator]
        client.get(url(accounts))

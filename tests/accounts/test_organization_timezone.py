"""The organisation's timezone, set by owners and admins on the limits page, checked against the IANA list."""

from __future__ import annotations

import pytest

from accounts.models import Organization
from tests.accounts.helpers import assert_login_required, assert_not_found_for, client_for
from tests.conftest import Accounts


def url(accounts: Accounts) -> str:
    return f"/orgs/{accounts.org.pk}/limits/timezone/"


def test_the_limits_page_shows_the_timezone_field(accounts: Accounts) -> None:
    page = client_for(accounts.owner).get(f"/orgs/{accounts.org.pk}/limits/").content.decode()
    assert 'name="timezone"' in page
    assert '<option value="UTC" selected>UTC</option>' in page
    assert '<option value="Europe/Paris">' in page


def test_an_owner_sets_the_timezone(accounts: Accounts) -> None:
    response = client_for(accounts.owner).post(url(accounts), {"timezone": "Europe/Paris"}, follow=True)
    assert response.redirect_chain[-1][0] == f"/orgs/{accounts.org.pk}/limits/"
    assert "Timezone set to Europe/Paris." in response.content.decode()
    assert Organization.objects.get(pk=accounts.org.pk).timezone == "Europe/Paris"


@pytest.mark.parametrize("value", ["Mars/Olympus", "", "x" * 10_000, "../../etc/passwd", "utc "])
def test_a_name_that_is_not_a_timezone_is_a_form_error(accounts: Accounts, value: str) -> None:
    response = client_for(accounts.owner).post(url(accounts), {"timezone": value})
    assert response.status_code == 400
    page = response.content.decode()
    assert "has-error" in page and ("is not a timezone" in page or "This field is required" in page)
    assert Organization.objects.get(pk=accounts.org.pk).timezone == "UTC"


def test_a_member_cannot_set_it(accounts: Accounts) -> None:
    assert client_for(accounts.member).post(url(accounts), {"timezone": "Europe/Paris"}).status_code == 403
    assert Organization.objects.get(pk=accounts.org.pk).timezone == "UTC"


def test_outsider_gets_404(accounts: Accounts) -> None:
    assert_not_found_for(accounts.outsider, url(accounts), method="post", data={"timezone": "Europe/Paris"})
    assert Organization.objects.get(pk=accounts.org.pk).timezone == "UTC"


def test_requires_login(accounts: Accounts) -> None:
    assert_login_required(url(accounts), method="post")

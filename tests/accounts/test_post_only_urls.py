"""A GET of a URL that only takes a form's POST is never Django's blank 405 page: it goes back to the
page the form is on (a reload after a form error, a link followed by hand)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from accounts.models import Invitation, Membership
from tests.accounts.helpers import client_for
from tests.conftest import Accounts

# Their own pages answer these; a GET of them is not a browser's business.
SKIPPED_PREFIXES = ("admin/", "api/", "metrics", "healthz", "readyz")


def browser_routes(resolver: URLResolver | None = None, prefix: str = "") -> Iterator[str]:
    for entry in (resolver or get_resolver()).url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from browser_routes(entry, route)
        elif isinstance(entry, URLPattern) and not route.startswith(SKIPPED_PREFIXES):
            yield route


def concrete(route: str, accounts: Accounts) -> str:
    values = {
        "<int:org_id>": str(accounts.org.pk),
        "<int:membership_id>": str(Membership.objects.get(user=accounts.member).pk),
        "<int:invitation_id>": str(Invitation.objects.get().pk),
    }
    for placeholder, value in values.items():
        route = route.replace(placeholder, value)
    # Other ids need no row: a 404 page is a page too. Tokens likewise.
    route = re.sub(r"<[^>]+>", "1", route)
    return "/" + route


def test_every_page_answers_a_get_with_a_page_or_a_redirect(accounts: Accounts) -> None:
    Invitation.objects.create(organization=accounts.org, email="new@example.org")
    accounts.owner.is_staff = True
    accounts.owner.save(update_fields=["is_staff"])
    checked = 0
    for route in browser_routes():
        url = concrete(route, accounts)
        if url == "/logout/":
            continue  # checked in test_logout: a GET asks first
        response = client_for(accounts.owner).get(url)
        assert response.status_code != 405, f"GET {url} is a blank 405"
        assert response.status_code in (200, 302, 400, 403, 404), (url, response.status_code)
        if response.status_code != 302:
            assert response.content.strip(), f"GET {url} is a blank page"
        checked += 1
    assert checked > 30


@pytest.mark.parametrize(
    ("path", "back_to"),
    [
        ("members/invite/", "members/"),
        ("limits/timezone/", "limits/"),
    ],
)
def test_a_get_of_a_form_target_goes_back_to_its_form(accounts: Accounts, path: str, back_to: str) -> None:
    response = client_for(accounts.owner).get(f"/orgs/{accounts.org.pk}/{path}")
    assert response.status_code == 302
    assert response["Location"] == f"/orgs/{accounts.org.pk}/{back_to}"


def test_a_get_of_another_organisations_form_target_ends_in_404(accounts: Accounts) -> None:
    client = client_for(accounts.outsider)
    response = client.get(f"/orgs/{accounts.org.pk}/members/invite/", follow=True)
    assert response.status_code == 404

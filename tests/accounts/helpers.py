"""Checks shared by the per-view test files."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.http import HttpResponse
from django.test import Client

from accounts.models import User


def client_for(user: User | None = None, **kwargs: object) -> Client:
    """A client with its own REMOTE_ADDR, so throttle counters in the shared Redis never leak
    between tests, nor between parallel test workers."""
    n = secrets.randbelow(2**24)
    client = Client(REMOTE_ADDR=f"10.{n >> 16}.{n >> 8 & 255}.{n & 255}", **kwargs)
    if user is not None:
        client.force_login(user)
    return client


def assert_redirects_to_login(response: HttpResponse, url: str) -> None:
    assert response.status_code == 302, response.status_code
    location = urlsplit(response["Location"])
    assert location.path == "/login/"
    assert parse_qs(location.query)["next"] == [url]


def assert_login_required(url: str, *, method: str = "get") -> None:
    response = getattr(client_for(), method)(url)
    assert_redirects_to_login(response, url)


def assert_not_found_for(
    user: User, url: str, *, method: str = "get", data: dict[str, str] | None = None
) -> HttpResponse:
    response = getattr(client_for(user), method)(url, data or {})
    assert response.status_code == 404, response.status_code
    return response


@contextmanager
def capturing_all_logs(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """DEBUG for every logger, SQL with its parameters included (Django logs SQL only when asked)."""
    previous = connection.force_debug_cursor
    connection.force_debug_cursor = True
    try:
        # Django's default logging config caps the "django" logger at INFO.
        with caplog.at_level(logging.DEBUG), caplog.at_level(logging.DEBUG, logger="django"):
            yield
    finally:
        connection.force_debug_cursor = previous


def assert_not_in_logs(caplog: pytest.LogCaptureFixture, secret: str) -> None:
    assert any(r.name == "django.db.backends" for r in caplog.records), "SQL was not captured"
    assert secret not in caplog.text
    for record in caplog.records:
        assert secret not in record.getMessage()

"""Calling the management API as a browser session or with a management key."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpResponse
from django.test import Client

from accounts.models import User
from tests.accounts.helpers import client_for


def session_client(user: User, **kwargs: Any) -> Client:
    return client_for(user, **kwargs)


def key_client(plaintext: str) -> Client:
    return client_for(HTTP_AUTHORIZATION=f"Bearer {plaintext}")


def post_json(client: Client, url: str, data: Any, **extra: Any) -> HttpResponse:
    return client.post(url, json.dumps(data), content_type="application/json", **extra)  # type: ignore[return-value]


def assert_unauthenticated(url: str, *, method: str = "get") -> None:
    """No credentials: 401 with a Bearer challenge, never a redirect to the login page."""
    response = getattr(client_for(), method)(url)
    assert response.status_code == 401, response.status_code
    assert response["WWW-Authenticate"].startswith("Bearer")


def assert_api_not_found_for(user: User, url: str, *, method: str = "get", data: Any = None) -> HttpResponse:
    client = client_for(user)
    if method == "get":
        response = client.get(url, data or {})
    else:
        response = getattr(client, method)(url, json.dumps(data or {}), content_type="application/json")
    assert response.status_code == 404, response.status_code
    return response

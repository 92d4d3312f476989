"""Submitting Django admin forms as a browser would: every field as rendered, plus our changes."""

from __future__ import annotations

from html.parser import HTMLParser

from django.http import HttpResponse
from django.test import Client

from accounts.models import User
from tests.accounts.helpers import client_for


class _FormFields(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.data: dict[str, list[str]] = {}
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        name = a.get("name")
        if tag == "input" and name and a.get("type") not in ("submit", "button", "file"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            self.data.setdefault(name, []).append(a.get("value", "on" if a.get("type") == "checkbox" else ""))
        elif tag == "select" and name:
            self._select = name
        elif tag == "option" and self._select and "selected" in a:
            self.data.setdefault(self._select, []).append(a.get("value", ""))
        elif tag == "textarea" and name:
            self._textarea = name
            self.data[name] = [""]

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.data[self._textarea][-1] += data.lstrip("\n") if not self.data[self._textarea][-1] else data


def operator() -> User:
    return User.objects.create_superuser(f"operator{User.objects.count()}@example.org", "operator-password-123")


def admin_client() -> Client:
    return client_for(operator())


def submit_change_form(client: Client, url: str, changes: dict[str, str | None]) -> HttpResponse:
    """GET the admin form, change some fields (None: untick or drop), POST it back."""
    page = client.get(url)
    assert page.status_code == 200, page.status_code
    parser = _FormFields()
    parser.feed(page.content.decode())
    data = {name: values for name, values in parser.data.items()}
    for name, value in changes.items():
        if value is None:
            data.pop(name, None)
        else:
            data[name] = [value]
    response: HttpResponse = client.post(url, data)
    return response

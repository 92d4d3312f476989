"""Maintenance windows: organisation admins manage their own, staff the operator's, every change audited."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from accounts.models import User
from monitoring.models import MaintenanceChange, MaintenanceWindow
from tests.accounts.helpers import assert_login_required, assert_not_found_for, client_for
from tests.conftest import Accounts

FORM = {"title": "Database upgrade", "deployment": "", "starts_at": "2031-03-10T10:00", "ends_at": "2031-03-10T11:30"}


def _url(accounts: Accounts, suffix: str = "") -> str:
    return f"/orgs/{accounts.org.pk}/maintenance/{suffix}"


def test_an_owner_adds_a_window_and_the_history_says_who(accounts: Accounts) -> None:
    response = client_for(accounts.owner).post(_url(accounts, "new/"), FORM)
    assert response.status_code == 302
    window = MaintenanceWindow.objects.get()
    assert (window.organization, window.created_by) == (accounts.org, accounts.owner)
    assert (window.starts_at, window.ends_at) == (
        datetime(2031, 3, 10, 10, tzinfo=UTC),
        datetime(2031, 3, 10, 11, 30, tzinfo=UTC),
    )
    change = MaintenanceChange.objects.get()
    assert (change.action, change.actor, change.window_id, change.before) == (
        "created",
        accounts.owner,
        window.pk,
        None,
    )
    text = client_for(accounts.member).get(_url(accounts)).content.decode()
    assert "Database upgrade" in text and "owner@example.org" in text


def test_a_past_window_relabels_time_already_measured(accounts: Accounts) -> None:
    past = {**FORM, "starts_at": "2020-01-01T00:00", "ends_at": "2020-01-01T02:00", "deployment": "sim-a/chat"}
    assert client_for(accounts.owner).post(_url(accounts, "new/"), past).status_code == 302
    assert MaintenanceWindow.objects.get().deployment == "sim-a/chat"


@pytest.mark.parametrize(
    ("starts_at", "ends_at", "error"),
    [
        ("2031-03-10T11:00", "2031-03-10T10:00", "The window must end after it starts."),
        ("2031-03-10T11:00", "2031-03-10T11:00", "The window must end after it starts."),
        ("2031-01-01T00:00", "2032-01-02T00:01", "A window spans at most a year (366 days)."),
    ],
)
def test_a_window_ending_before_it_starts_or_spanning_over_a_year_is_a_form_error(
    accounts: Accounts, starts_at: str, ends_at: str, error: str
) -> None:
    response = client_for(accounts.owner).post(
        _url(accounts, "new/"), {**FORM, "starts_at": starts_at, "ends_at": ends_at}
    )
    assert response.status_code == 400
    assert error in response.content.decode()
    assert "Constraint" not in response.content.decode()
    assert not MaintenanceWindow.objects.exists()


def test_a_year_exactly_is_allowed(accounts: Accounts) -> None:
    year = {**FORM, "starts_at": "2032-01-01T00:00", "ends_at": "2033-01-01T00:00"}  # 366 days: a leap year
    assert client_for(accounts.owner).post(_url(accounts, "new/"), year).status_code == 302


def test_editing_and_deleting_are_audited_with_before_and_after(accounts: Accounts) -> None:
    client = client_for(accounts.owner)
    client.post(_url(accounts, "new/"), FORM)
    window = MaintenanceWindow.objects.get()
    bad = client.post(_url(accounts, f"{window.pk}/edit/"), {**FORM, "ends_at": "2031-03-10T09:00"})
    assert bad.status_code == 400
    response = client.post(_url(accounts, f"{window.pk}/edit/"), {**FORM, "ends_at": "2031-03-10T12:00"})
    assert response.status_code == 302
    changed = MaintenanceChange.objects.get(action="changed")
    assert (changed.before["ends_at"], changed.after["ends_at"]) == (
        "2031-03-10T11:30:00+00:00",
        "2031-03-10T12:00:00+00:00",
    )
    assert "ends: 2031-03-10 11:30 → 2031-03-10 12:00" in client.get(_url(accounts)).content.decode()
    assert client.get(_url(accounts, f"{window.pk}/delete/")).status_code == 200
    assert client.post(_url(accounts, f"{window.pk}/delete/")).status_code == 302
    assert not MaintenanceWindow.objects.exists()
    deleted = MaintenanceChange.objects.get(action="deleted")
    assert (deleted.window_id, deleted.after, deleted.before["title"]) == (window.pk, None, "Database upgrade")
    assert MaintenanceChange.objects.count() == 3  # the failed edit recorded nothing


def test_members_see_windows_but_cannot_change_them(accounts: Accounts) -> None:
    client_for(accounts.owner).post(_url(accounts, "new/"), FORM)
    window = MaintenanceWindow.objects.get()
    member = client_for(accounts.member)
    assert "Add a window" not in member.get(_url(accounts)).content.decode()
    assert member.post(_url(accounts, "new/"), FORM).status_code == 403
    assert member.post(_url(accounts, f"{window.pk}/edit/"), FORM).status_code == 403
    assert member.post(_url(accounts, f"{window.pk}/delete/")).status_code == 403
    assert MaintenanceWindow.objects.count() == 1


def test_outsiders_get_404_everywhere(accounts: Accounts) -> None:
    client_for(accounts.owner).post(_url(accounts, "new/"), FORM)
    window = MaintenanceWindow.objects.get()
    for suffix in ("", "new/", f"{window.pk}/edit/", f"{window.pk}/delete/"):
        assert_not_found_for(accounts.outsider, _url(accounts, suffix))
    assert_not_found_for(accounts.outsider, _url(accounts, f"{window.pk}/delete/"), method="post")
    # Through their own organisation, the window is not theirs either.
    other = f"/orgs/{accounts.other_org.pk}/maintenance/{window.pk}/edit/"
    assert_not_found_for(accounts.outsider, other)
    assert MaintenanceWindow.objects.count() == 1
    assert_login_required(_url(accounts))


def test_staff_manage_operator_windows_that_organisations_see_but_cannot_change(accounts: Accounts) -> None:
    staff = User.objects.create_user("ops@example.org", "ops-password-123", is_staff=True)
    assert (
        client_for(staff).post("/operator/maintenance/new/", {**FORM, "title": "Provider migration"}).status_code == 302
    )
    window = MaintenanceWindow.objects.get()
    assert window.organization is None
    assert MaintenanceChange.objects.get().organization is None
    text = client_for(accounts.owner).get(_url(accounts)).content.decode()
    assert "Provider migration" in text and "Operator" in text
    assert f"/maintenance/{window.pk}/edit/" not in text
    assert_not_found_for(accounts.owner, _url(accounts, f"{window.pk}/edit/"))
    for url in ("/operator/maintenance/", "/operator/maintenance/new/", f"/operator/maintenance/{window.pk}/edit/"):
        assert_not_found_for(accounts.owner, url)
    assert client_for(staff).post(f"/operator/maintenance/{window.pk}/delete/").status_code == 302
    assert not MaintenanceWindow.objects.exists()

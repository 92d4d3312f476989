"""Invitations: a limited number per organisation an hour, and no tenant-chosen text in the subject."""

from __future__ import annotations

from django.core import mail

from accounts.models import Invitation, Organization
from tests.accounts.helpers import client_for
from tests.conftest import Accounts


def test_an_organisation_sends_at_most_twenty_invitations_an_hour(verified: Accounts) -> None:
    client = client_for(verified.owner)
    url = f"/orgs/{verified.org.pk}/members/invite/"
    for n in range(20):
        assert client.post(url, {"email": f"p{n}@example.org", "role": "member"}).status_code == 302
    response = client.post(url, {"email": "one-more@example.org", "role": "member"})
    assert response.status_code == 429
    assert b"many invitations" in response.content
    assert not Invitation.objects.filter(email="one-more@example.org").exists()
    assert len(mail.outbox) == 20
    # Other organisations are not affected.
    other = client_for(verified.outsider).post(
        f"/orgs/{verified.other_org.pk}/members/invite/", {"email": "x@example.org", "role": "member"}
    )
    assert other.status_code == 302


def test_the_subject_carries_no_organisation_name(verified: Accounts) -> None:
    Organization.objects.filter(pk=verified.org.pk).update(name="CHEAP PILLS at spam.example")
    client_for(verified.owner).post(
        f"/orgs/{verified.org.pk}/members/invite/", {"email": "new@example.org", "role": "member"}
    )
    assert "PILLS" not in mail.outbox[-1].subject
    assert "CHEAP PILLS" in mail.outbox[-1].body

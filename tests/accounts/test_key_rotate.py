from __future__ import annotations

import re

from django.utils import timezone

from accounts.models import ApiKey
from accounts.services import create_api_key
from accounts.tokens import hash_key
from tests.accounts.helpers import assert_login_required, assert_not_found_for, client_for
from tests.conftest import Accounts

KEY_RE = re.compile(r"sk-gw-[0-9a-f]{8}-[A-Za-z0-9_-]{20,}")


def make_key(accounts: Accounts, created_by: object = None) -> ApiKey:
    return create_api_key(
        organization=accounts.org,
        name="ci",
        created_by=created_by or accounts.owner,
        allowed_models=["chat"],
    ).api_key


def url(key: ApiKey) -> str:
    return f"/orgs/{key.organization_id}/keys/{key.pk}/rotate/"


def test_get_explains_and_changes_nothing(verified: Accounts) -> None:
    key = make_key(verified)
    response = client_for(verified.owner).get(url(key))
    assert response.status_code == 200
    assert b"Rotate key" in response.content
    assert ApiKey.objects.get().revoked_at is None


def test_rotation_revokes_the_old_key_and_shows_a_new_one_with_the_same_name(verified: Accounts) -> None:
    old = make_key(verified, verified.member)
    response = client_for(verified.owner).post(url(old))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    plaintext = KEY_RE.search(response.content.decode())
    assert plaintext is not None
    new = ApiKey.objects.get(hashed=hash_key(plaintext.group()))
    assert (new.name, new.allowed_models, new.created_by) == ("ci", ["chat"], verified.owner)
    old.refresh_from_db()
    assert old.revoked_at is not None
    assert old.name == f"ci (rotated {timezone.now():%Y-%m-%d} #{old.pk})"


def test_a_long_name_still_fits_after_rotation(verified: Accounts) -> None:
    old = create_api_key(organization=verified.org, name="n" * 100, created_by=verified.owner).api_key
    assert client_for(verified.owner).post(url(old)).status_code == 200
    old.refresh_from_db()
    assert len(old.name) <= 100 and old.name.endswith(f"#{old.pk})")


def test_a_revoked_key_cannot_be_rotated(verified: Accounts) -> None:
    key = make_key(verified)
    ApiKey.objects.update(revoked_at=timezone.now())
    response = client_for(verified.owner).post(url(key))
    assert response.status_code == 400
    assert b"Only an active key" in response.content
    assert ApiKey.objects.count() == 1


def test_unverified_users_cannot_rotate(accounts: Accounts) -> None:
    key = make_key(accounts)
    assert client_for(accounts.owner).post(url(key)).status_code == 400
    assert ApiKey.objects.get().revoked_at is None


def test_a_member_cannot_rotate_someone_elses_key(verified: Accounts) -> None:
    key = make_key(verified, verified.owner)
    assert client_for(verified.member).post(url(key)).status_code == 403
    assert ApiKey.objects.count() == 1


def test_requires_login(verified: Accounts) -> None:
    key = make_key(verified)
    assert_login_required(url(key))
    assert_login_required(url(key), method="post")
    assert ApiKey.objects.count() == 1


def test_outsider_gets_404(verified: Accounts) -> None:
    key = make_key(verified)
    assert_not_found_for(verified.outsider, url(key))
    assert_not_found_for(verified.outsider, url(key), method="post")
    assert ApiKey.objects.get().revoked_at is None

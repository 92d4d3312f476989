"""Signed, expiring tokens for the links we email: email verification and invitations."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core import signing

from accounts.models import Invitation, User

VERIFY_MAX_AGE = timedelta(days=3)
INVITE_MAX_AGE = timedelta(days=7)
_VERIFY_SALT = "accounts.verify-email"
_INVITE_SALT = "accounts.invite"


def verification_token(user: User) -> str:
    # The email is signed too, so a link stops working if the address changes.
    return signing.dumps({"u": user.pk, "e": user.email}, salt=_VERIFY_SALT, compress=True)


def _load(token: str, *, salt: str, max_age: timedelta) -> dict[str, Any]:
    try:
        data = signing.loads(token, salt=salt, max_age=max_age)
    except signing.BadSignature:  # includes SignatureExpired
        return {}
    return data if isinstance(data, dict) else {}


def user_for_verification_token(token: str) -> User | None:
    data = _load(token, salt=_VERIFY_SALT, max_age=VERIFY_MAX_AGE)
    user_id, email = data.get("u"), data.get("e")
    if not isinstance(user_id, int) or not isinstance(email, str):
        return None
    return User.objects.filter(pk=user_id, email=email, is_active=True).first()


def invitation_token(invitation: Invitation) -> str:
    return signing.dumps({"i": invitation.pk}, salt=_INVITE_SALT, compress=True)


def invitation_for_token(token: str) -> Invitation | None:
    """The pending invitation a link points at; None if forged, expired, used or cancelled."""
    invitation_id = _load(token, salt=_INVITE_SALT, max_age=INVITE_MAX_AGE).get("i")
    if not isinstance(invitation_id, int):
        return None
    return Invitation.objects.select_related("organization").filter(pk=invitation_id, accepted_at__isnull=True).first()

"""The API key format and its keyed hash, shared by key creation and the proxy's key check."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from functools import lru_cache

from django.conf import settings

KEY_PREFIX = "sk-gw-"


@lru_cache(maxsize=1)
def _pepper() -> bytes:
    return hashlib.sha256(b"gateway-api-key:" + settings.SECRET_KEY.encode()).digest()


def hash_key(key: str) -> str:
    return hmac.new(_pepper(), key.encode(), hashlib.sha256).hexdigest()


def generate_key() -> tuple[str, str]:
    """Return (key, display prefix). The prefix is unique and safe to show."""
    ident = secrets.token_hex(4)
    key = f"{KEY_PREFIX}{ident}-{secrets.token_urlsafe(32)}"
    return key, f"{KEY_PREFIX}{ident}"
